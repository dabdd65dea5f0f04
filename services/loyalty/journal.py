"""Idempotency records: a request id runs once and its outcome (result or error) is kept;
the same id with another request is refused. The wallet's pattern, in loyalty's database."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kit.errors import ChainclubError, InvalidArgument
from services.loyalty.context import LoyaltyContext
from services.loyalty.domain import IdempotencyKeyReused
from services.loyalty.models import idempotency

# Errors of these reasons are validation: the request is refused and nothing is stored.
NOT_STORED = frozenset(
    {"invalid_argument", "unauthenticated", "forbidden", "not_found", "out_of_scope", "unavailable"}
)

R = TypeVar("R", bound=Message)


def request_hash(message: Message) -> str:
    copy = type(message)()
    copy.CopyFrom(message)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


async def run_once(
    ctx: LoyaltyContext,
    kind: str,
    request: Message,
    result_type: type[R],
    work: Callable[[AsyncSession], Awaitable[R]],
) -> R:
    """Run ``work`` once per request id. A replay returns the stored result (or raises the
    stored error); the same id with another request is ``idempotency_key_reused``; a
    concurrent duplicate waits on the unique key, then replays."""
    request_id = getattr(request, "request_id", "")
    if not request_id:
        raise ChainclubError("an idempotency key (request_id) is required", reason="idempotency_key_required")
    if len(request_id) > 300:
        raise InvalidArgument("request_id is at most 300 characters", field="request_id")
    digest = request_hash(request)
    failure: ChainclubError | None = None
    async with ctx.db.transaction() as session:
        claimed = await session.execute(
            insert(idempotency)
            .values(request_id=request_id, kind=kind, request_hash=digest)
            .on_conflict_do_nothing()
            .returning(idempotency.c.request_id)
        )
        if claimed.first() is None:
            done = (
                await session.execute(select(idempotency).where(idempotency.c.request_id == request_id))
            ).one()
            if done.kind != kind or done.request_hash != digest:
                raise IdempotencyKeyReused("this idempotency key was used for a different request")
            if done.result is not None:
                return result_type.FromString(done.result)
            raise ChainclubError(done.error_detail or "", reason=done.error_reason or "conflict")
        try:
            async with session.begin_nested():
                result = await work(session)
        except ChainclubError as err:
            if err.reason in NOT_STORED:
                raise
            failure = err
            await session.execute(
                update(idempotency)
                .where(idempotency.c.request_id == request_id)
                .values(error_reason=err.reason, error_detail=err.detail)
            )
        else:
            await session.execute(
                update(idempotency)
                .where(idempotency.c.request_id == request_id)
                .values(result=result.SerializeToString())
            )
    if failure is not None:
        raise failure
    return result


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    t = Timestamp()
    t.FromDatetime(value)
    return t
