"""Idempotency records (``kit.idempotency``) in loyalty's database, and timestamps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from kit import idempotency as idem
from services.loyalty.context import LoyaltyContext
from services.loyalty.models import idempotency

R = TypeVar("R", bound=Message)


async def run_once(
    ctx: LoyaltyContext,
    kind: str,
    request: Message,
    result_type: type[R],
    work: Callable[[AsyncSession], Awaitable[R]],
) -> R:
    """``kit.idempotency.run_once`` in loyalty's database."""
    return await idem.run_once(ctx.db, idempotency, kind, request, result_type, work)


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    t = Timestamp()
    t.FromDatetime(value)
    return t
