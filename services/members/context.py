"""What the members use cases need: the database, the outbox, the PII keyring, settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kit.config import Settings
from kit.db import Database
from kit.outbox import add_event
from services.members.pii import Keyring

CHAIN_TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class MembersContext:
    db: Database
    outbox: Table
    keyring: Keyring
    settings: Settings

    def today(self) -> date:
        return datetime.now(CHAIN_TZ).date()

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)

    @staticmethod
    async def next_value(session: AsyncSession, sequence) -> int:  # type: ignore[no-untyped-def]
        return int((await session.execute(select(func.nextval(sequence.name)))).scalar_one())
