"""What the wallet use cases need: the database, outbox, settings and the members client
(payments, top-ups, fees and reads take the card from wallet's own copy, ``services.wallet.cards``,
and ask members only for a card, or its type's terms, wallet has not heard of; adjustments still
ask members)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import grpc
from sqlalchemy import Table, TextClause
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit import grpcclient
from kit.auth import Principal
from kit.config import Settings
from kit.db import Database
from kit.errors import from_rpc_error
from kit.outbox import add_event


class MembersClient:
    def __init__(self, addr: str) -> None:
        self.channel = grpcclient.channel(addr)
        self.stub = members_pb2_grpc.MembersServiceStub(self.channel)

    async def card(self, p: Principal, card_no: str) -> members_pb2.Card:
        try:
            return await self.stub.GetCard(
                members_pb2.GetCardRequest(card_no=card_no), metadata=grpcclient.metadata(p.token), timeout=5
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None

    async def close(self) -> None:
        await self.channel.close()


@dataclass
class WalletContext:
    db: Database
    outbox: Table
    settings: Settings
    members: MembersClient
    name: str = "wallet"  # the process's service name and schema, for ``service_info``
    schema_revision: str = ""

    @cached_property
    def write_statement(self) -> TextClause:
        from services.wallet.journal import write_statement

        return write_statement(self.outbox.name)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_minute(self, now: datetime) -> int:
        local = now.astimezone(ZoneInfo(self.settings.chain_timezone))
        return local.hour * 60 + local.minute

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)
