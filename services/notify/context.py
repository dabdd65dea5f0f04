"""What notify's use cases need: the database, settings, the channels and the members client
(contact details and consents are read at send time, never stored here). One per process,
built by ``services.notify.main`` and shared by the servicer, the consumers and the jobs
(so the process holds one members channel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from chainclub.members.v1 import members_pb2, members_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2_grpc
from kit import grpcclient
from kit.auth import KeySet
from kit.config import Settings
from kit.db import Database
from kit.errors import from_rpc_error
from kit.grpcclient import ServiceToken
from services.notify.channels import Channel


class MembersClient:
    """Calls members with notify's own short-lived service token (role ``service`` may read
    PII): members at send time, birthdays and anniversaries for the greetings, and visit
    records on behalf of the staff member who completed a follow-up."""

    CLAIMS = {"sub": "notify", "role": "service", "scope": "HQ"}

    def __init__(self, addr: str, keys: KeySet) -> None:
        self.keys = keys
        self.token = ServiceToken(keys, self.CLAIMS)
        self.channel = grpcclient.channel(addr)
        self.stub = members_pb2_grpc.MembersServiceStub(self.channel)

    async def get_member(self, member_no: str) -> members_pb2.Member:
        """Raises kit errors (``NotFound``, ``Unavailable`` ...) translated from the status."""
        try:
            return await self.stub.GetMember(
                members_pb2.GetMemberRequest(member_no=member_no),
                metadata=grpcclient.metadata(self.token.get()),
                timeout=5,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None

    async def list_member_dates(self, kind: str, day: str) -> list[members_pb2.MemberDate]:
        """Every active member whose ``kind`` (birthday, anniversary) is on ``day``."""
        found: list[members_pb2.MemberDate] = []
        cursor = ""
        while True:
            try:
                page = await self.stub.ListMemberDates(
                    members_pb2.ListMemberDatesRequest(
                        kind=kind, date=day, page={"limit": 1000, "cursor": cursor}
                    ),
                    metadata=grpcclient.metadata(self.token.get()),
                    timeout=30,
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc) from None
            found.extend(page.members)
            if not (cursor := page.page.next_cursor):
                return found

    async def add_visit(self, req: members_pb2.AddVisitRequest) -> members_pb2.Visit:
        """With ``req.on_behalf_of`` the staff member; the caller checked their scope."""
        try:
            return await self.stub.AddVisit(req, metadata=grpcclient.metadata(self.token.get()), timeout=5)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None

    async def close(self) -> None:
        await self.channel.close()


class ReportsClient:
    """Asks members, wallet and loyalty for their ``DailySummary`` of a day, chain-wide, with
    notify's service token (the members client's)."""

    def __init__(self, settings: Settings, members: MembersClient) -> None:
        self.members = members
        self.wallet_channel = grpcclient.channel(settings.wallet_addr)
        self.loyalty_channel = grpcclient.channel(settings.loyalty_addr)
        self.stubs = {
            "members": members.stub,
            "wallet": wallet_pb2_grpc.WalletServiceStub(self.wallet_channel),
            "loyalty": loyalty_pb2_grpc.LoyaltyServiceStub(self.loyalty_channel),
        }

    async def daily_summary(self, service: str, day: str) -> list[tuple[str, dict[str, int]]]:
        try:
            reply = await self.stubs[service].DailySummary(
                common_pb2.DailySummaryRequest(date=day, org_path="HQ"),
                metadata=grpcclient.metadata(self.members.token.get()),
                timeout=30,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None
        return [(s.store_path, dict(s.figures)) for s in reply.stores]

    async def close(self) -> None:
        await self.wallet_channel.close()
        await self.loyalty_channel.close()


@dataclass
class NotifyContext:
    db: Database
    settings: Settings
    members: MembersClient
    channels: dict[str, Channel] = field(default_factory=dict)
    reports: ReportsClient | None = None
    name: str = "notify"  # the process's service name and schema, for ``service_info``
    schema_revision: str = ""

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.chain_timezone)
