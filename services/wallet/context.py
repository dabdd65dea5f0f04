"""What the wallet use cases need: the database, outbox, settings and the members client
(the card's status is checked with members on every payment and top-up: a card blocked a
moment ago cannot pay, however late the events are)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
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
from kit.outbox import NOTIFY_CHANNEL, add_event

log = logging.getLogger("wallet.context")


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


class RelayWaker:
    """Wakes the outbox relay (NOTIFY) after events were committed without a NOTIFY of their
    own. Pokes coalesce: one NOTIFY at a time, at most one per ``interval``, and another one
    after it whenever more events were committed meanwhile — so every committed event is
    followed by a NOTIFY sent after its commit, within ``interval`` plus a round trip, and
    under load the relay publishes batches rather than one event per wake. A failed NOTIFY
    only delays delivery until the relay's next poll."""

    def __init__(self, db: Database, interval: float = 0.005) -> None:
        self.db = db
        self.interval = interval
        self._pending = False
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        while self._pending:
            self._pending = False
            try:
                async with self.db.autocommit() as conn:
                    await conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")
            except Exception as exc:  # the relay polls as well
                log.warning("could not wake the outbox relay (%s); it will poll", exc)
                return
            await asyncio.sleep(self.interval)


@dataclass
class WalletContext:
    db: Database
    outbox: Table
    settings: Settings
    members: MembersClient
    waker: RelayWaker | None = field(default=None, repr=False)

    def wake_relay(self) -> None:
        """Call after committing events written by ``journal.write``."""
        if self.waker is None:
            self.waker = RelayWaker(self.db)
        self.waker.poke()

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
