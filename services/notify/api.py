"""gRPC servicer of the notify service: protobuf <-> use cases."""

from __future__ import annotations

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.notify.v1 import notify_pb2 as pb
from chainclub.notify.v1 import notify_pb2_grpc
from kit.grpcserver import current_principal, service_info
from services.notify import follow_up_batches, service
from services.notify.context import NotifyContext

Ctx = grpc.aio.ServicerContext


class NotifyApi(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, ctx: NotifyContext) -> None:
        self.ctx = ctx

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.ServiceInfo:
        return service_info(self.ctx)

    async def ListTemplates(self, request: pb.ListTemplatesRequest, context: Ctx) -> pb.ListTemplatesResponse:
        return await service.list_templates(self.ctx, current_principal(), request)

    async def GetTemplate(self, request: pb.GetTemplateRequest, context: Ctx) -> pb.Template:
        return await service.get_template(self.ctx, current_principal(), request)

    async def PutTemplate(self, request: pb.PutTemplateRequest, context: Ctx) -> pb.Template:
        return await service.put_template(self.ctx, current_principal(), request)

    async def PreviewTemplate(
        self, request: pb.PreviewTemplateRequest, context: Ctx
    ) -> pb.PreviewTemplateResponse:
        return await service.preview_template(self.ctx, current_principal(), request)

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: Ctx
    ) -> pb.ListDeliveriesResponse:
        return await service.list_deliveries(self.ctx, current_principal(), request)

    async def RetryDelivery(self, request: pb.RetryDeliveryRequest, context: Ctx) -> pb.Delivery:
        return await service.retry_delivery(self.ctx, current_principal(), request)

    async def ListFollowUps(self, request: pb.ListFollowUpsRequest, context: Ctx) -> pb.ListFollowUpsResponse:
        return await service.list_follow_ups(self.ctx, current_principal(), request)

    async def CompleteFollowUp(self, request: pb.CompleteFollowUpRequest, context: Ctx) -> pb.FollowUp:
        return await service.complete_follow_up(self.ctx, current_principal(), request)

    async def CreateFollowUps(
        self, request: pb.CreateFollowUpsRequest, context: Ctx
    ) -> pb.CreateFollowUpsResponse:
        return await follow_up_batches.create_follow_ups(self.ctx, current_principal(), request)

    async def ListAnnouncements(
        self, request: pb.ListAnnouncementsRequest, context: Ctx
    ) -> pb.ListAnnouncementsResponse:
        return await service.list_announcements(self.ctx, current_principal(), request)
