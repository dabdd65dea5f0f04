"""What the wallet use cases need: the database, outbox, settings and the members client
(the card's status is checked with members on every payment and top-up: a card blocked a
moment ago cannot pay, however late the events are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import grpc
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit.auth import Principal
from kit.config import Settings
from kit.db import Database
from kit.errors import from_rpc_error
from kit.logs import request_id_var
from kit.outbox import add_event


class MembersClient:
    def __init__(self, addr: str) -> None:
        self.channel = grpc.aio.insecure_channel(addr)
        self.stub = members_pb2_grpc.MembersServiceStub(self.channel)

    async def card(self, p: Principal, card_no: str) -> members_pb2.Card:
        metadata = [("authorization", f"Bearer {p.token}")]
        if (rid := request_id_var.get()) is not None:
            metadata.append(("x-request-id", rid))
        try:
            return await self.stub.GetCard(
                members_pb2.GetCardRequest(card_no=card_no), metadata=metadata, timeout=5
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

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_minute(self, now: datetime) -> int:
        local = now.astimezone(ZoneInfo(self.settings.chain_timezone))
        return local.hour * 60 + local.minute

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)
