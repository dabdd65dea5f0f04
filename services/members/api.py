"""gRPC servicer of the members service: protobuf in, use case, protobuf out. Errors are
``ChainclubError``s that the kit interceptor turns into statuses with reasons."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.members.v1 import members_pb2 as pb
from chainclub.members.v1 import members_pb2_grpc
from kit.grpcserver import current_principal, service_info
from services.members import cards, celebrations, imports, records, service
from services.members.context import MembersContext
from services.members.summary import daily_summary

Ctx = grpc.aio.ServicerContext


class MembersApi(members_pb2_grpc.MembersServiceServicer):
    def __init__(self, ctx: MembersContext) -> None:
        self.ctx = ctx
        self.imports = imports.Imports(self.ctx)

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: Ctx
    ) -> common_pb2.ServiceInfo:
        return service_info(self.ctx)

    async def RegisterMember(self, request: pb.RegisterMemberRequest, context: Ctx) -> pb.Member:
        return await service.register(self.ctx, current_principal(), request)

    async def GetMember(self, request: pb.GetMemberRequest, context: Ctx) -> pb.Member:
        return await service.get(self.ctx, current_principal(), request.member_no)

    async def SearchMembers(self, request: pb.SearchMembersRequest, context: Ctx) -> pb.SearchMembersResponse:
        return await service.search(self.ctx, current_principal(), request)

    async def UpdateMember(self, request: pb.UpdateMemberRequest, context: Ctx) -> pb.Member:
        return await service.update_member(self.ctx, current_principal(), request)

    async def AnonymizeMember(self, request: pb.AnonymizeMemberRequest, context: Ctx) -> pb.Member:
        return await service.anonymize(self.ctx, current_principal(), request)

    async def IdentifyMember(
        self, request: pb.IdentifyMemberRequest, context: Ctx
    ) -> pb.IdentifyMemberResponse:
        return await service.identify(self.ctx, current_principal(), request)

    async def GetCard(self, request: pb.GetCardRequest, context: Ctx) -> pb.Card:
        return await cards.get_card(self.ctx, current_principal(), request.card_no)

    async def IssueCard(self, request: pb.IssueCardRequest, context: Ctx) -> pb.Card:
        return await cards.issue_card(self.ctx, current_principal(), request)

    async def ChangeCardStatus(self, request: pb.ChangeCardStatusRequest, context: Ctx) -> pb.Card:
        return await cards.change_status(self.ctx, current_principal(), request)

    async def ReplaceCard(self, request: pb.ReplaceCardRequest, context: Ctx) -> pb.Card:
        return await cards.replace(self.ctx, current_principal(), request)

    async def ListCardTypes(self, request: pb.ListCardTypesRequest, context: Ctx) -> pb.ListCardTypesResponse:
        return await cards.list_card_types(self.ctx, current_principal())

    async def UpsertCardType(self, request: pb.CardType, context: Ctx) -> pb.CardType:
        return await cards.upsert_card_type(self.ctx, current_principal(), request)

    async def ListFieldDefinitions(
        self, request: pb.ListFieldDefinitionsRequest, context: Ctx
    ) -> pb.ListFieldDefinitionsResponse:
        return await records.list_fields(self.ctx, current_principal())

    async def UpsertFieldDefinition(self, request: pb.FieldDefinition, context: Ctx) -> pb.FieldDefinition:
        return await records.upsert_field(self.ctx, current_principal(), request)

    async def AddVisit(self, request: pb.AddVisitRequest, context: Ctx) -> pb.Visit:
        return await records.add_visit(self.ctx, current_principal(), request)

    async def ListVisits(self, request: pb.ListVisitsRequest, context: Ctx) -> pb.ListVisitsResponse:
        return await records.list_visits(self.ctx, current_principal(), request)

    async def ListMemberDates(
        self, request: pb.ListMemberDatesRequest, context: Ctx
    ) -> pb.ListMemberDatesResponse:
        return await celebrations.list_member_dates(self.ctx, current_principal(), request)

    async def AddFeedback(self, request: pb.AddFeedbackRequest, context: Ctx) -> pb.Feedback:
        return await records.add_feedback(self.ctx, current_principal(), request)

    async def ListFeedback(self, request: pb.ListFeedbackRequest, context: Ctx) -> pb.ListFeedbackResponse:
        return await records.list_feedback(self.ctx, current_principal(), request)

    async def HandleFeedback(self, request: pb.HandleFeedbackRequest, context: Ctx) -> pb.Feedback:
        return await records.handle_feedback(self.ctx, current_principal(), request)

    async def UploadImport(
        self, request_iterator: AsyncIterator[pb.ImportChunk], context: Ctx
    ) -> pb.ImportJob:
        return await self.imports.upload(current_principal(), request_iterator)

    async def GetImportJob(self, request: pb.GetImportJobRequest, context: Ctx) -> pb.ImportJob:
        return await self.imports.get(current_principal(), request.job_id)

    async def ExportMembers(self, request: pb.SearchMembersRequest, context: Ctx) -> AsyncIterator[pb.Member]:
        async for member in service.export(self.ctx, current_principal(), request):
            yield member

    async def DailySummary(
        self, request: common_pb2.DailySummaryRequest, context: Ctx
    ) -> common_pb2.DailySummaryResponse:
        return await daily_summary(self.ctx, current_principal(), request)
