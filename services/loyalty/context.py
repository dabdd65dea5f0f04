"""What the loyalty use cases need: the database, the outbox, the settings and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.config import Settings
from kit.db import Database
from kit.outbox import add_event
from services.loyalty.config_cache import ConfigCache


@dataclass
class LoyaltyContext:
    db: Database
    outbox: Table
    settings: Settings
    pricing: ConfigCache = field(default_factory=ConfigCache)  # one per process

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_date(self, now: datetime) -> date:
        """The chain's calendar day (member day, birthday month, lot expiry)."""
        return now.astimezone(ZoneInfo(self.settings.chain_timezone)).date()

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)
