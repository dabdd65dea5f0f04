"""What the loyalty use cases need: the database, the outbox, the settings and the clock.
One per process, built by ``services.loyalty.main`` and shared by the servicer, the consumers
and the jobs (so the pricing cache below exists once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kit.config import Settings
from kit.db import Database
from kit.outbox import add_event, pending_rows
from services.loyalty.config_cache import ConfigCache

OUTBOX_COLUMNS = ("event_id", "subject", "type", "payload", "org_path", "traceparent", "created_at")
OUTBOX_ROWS = text(
    f"""
    INSERT INTO outbox ({", ".join(OUTBOX_COLUMNS)})
    SELECT * FROM unnest(CAST(:event_id AS uuid[]), CAST(:subject AS text[]), CAST(:type AS text[]),
        CAST(:payload AS bytea[]), CAST(:org_path AS text[]), CAST(:traceparent AS text[]),
        CAST(:created_at AS timestamptz[]))
    """
)


@dataclass
class LoyaltyContext:
    db: Database
    outbox: Table
    settings: Settings
    name: str = "loyalty"  # the process's service name and schema, for ``service_info``
    schema_revision: str = ""
    pricing: ConfigCache = field(default_factory=ConfigCache)  # one per process

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_date(self, now: datetime) -> date:
        """The chain's calendar day (member day, birthday month, lot expiry)."""
        return now.astimezone(ZoneInfo(self.settings.chain_timezone)).date()

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)

    async def emit_all(
        self, session: AsyncSession | AsyncConnection, events: list[tuple[str, Message, str]]
    ) -> None:
        """Several events — ``(subject, message, org path)`` each — in one statement."""
        if not events:
            return
        rows = pending_rows(session, events)
        await session.execute(OUTBOX_ROWS, {column: [r[column] for r in rows] for column in OUTBOX_COLUMNS})
