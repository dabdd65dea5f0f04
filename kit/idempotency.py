"""Idempotent requests (docs/design.md §5 "Idempotency"): a request id runs once and its outcome —
the result, or the error it was refused with — is kept under a unique key; a replay returns
the stored outcome; the same id with another request is ``idempotency_key_reused``; two
concurrent requests with one id: the second waits on the key, then replays. A request
rejected by validation (``NOT_STORED``) keeps nothing, so it may be sent again corrected.

Each service keeps the records in its own database (``idempotency_table``), in the same
transaction as the work they stand for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, Text, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kit.db import Database
from kit.errors import ChainclubError, InvalidArgument

# Where the records are read and written: an ORM session or a Core connection.
Executor = AsyncSession | AsyncConnection

# Refusals of these reasons are validation (or "try again"): nothing is stored for them.
NOT_STORED = frozenset(
    {"invalid_argument", "unauthenticated", "forbidden", "not_found", "out_of_scope", "unavailable"}
)

R = TypeVar("R", bound=Message)


class IdempotencyKeyReused(ChainclubError):
    reason = "idempotency_key_reused"


def idempotency_table(metadata: MetaData, kind_length: int = 32) -> Table:
    return Table(
        "idempotency",
        metadata,
        Column("request_id", String(300), primary_key=True),
        Column("kind", String(kind_length), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("result", LargeBinary),  # the serialized reply when it succeeded
        Column("error_reason", String(64)),
        Column("error_detail", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def request_hash(message: Message) -> str:
    """What makes two requests "the same": every field but the request id, serialized
    deterministically."""
    copy = type(message)()
    copy.CopyFrom(message)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def check_request_id(request: Message) -> str:
    """The request's idempotency key, validated."""
    request_id = getattr(request, "request_id", "")
    if not request_id:
        raise ChainclubError("an idempotency key (request_id) is required", reason="idempotency_key_required")
    if len(request_id) > 300:
        raise InvalidArgument("request_id is at most 300 characters", field="request_id")
    return request_id


async def claim(session: Executor, table: Table, request_id: str, kind: str, digest: str) -> bool:
    """Insert the request's record; False when the id was claimed before (a concurrent
    claimer's transaction is waited for by the unique key)."""
    claimed = await session.execute(
        insert(table)
        .values(request_id=request_id, kind=kind, request_hash=digest)
        .on_conflict_do_nothing()
        .returning(table.c.request_id)
    )
    return claimed.first() is not None


async def replay(
    session: Executor, table: Table, request_id: str, kind: str, digest: str, result_type: type[R]
) -> R:
    """The stored outcome of a request id claimed before: its result, or its error raised."""
    done = (await session.execute(select(table).where(table.c.request_id == request_id))).one()
    if done.kind != kind or done.request_hash != digest:
        raise IdempotencyKeyReused("this idempotency key was used for a different request")
    if done.result is not None:
        return result_type.FromString(done.result)
    raise ChainclubError(done.error_detail or "", reason=done.error_reason or "conflict")


async def store_result(session: Executor, table: Table, request_id: str, result: Message) -> None:
    await session.execute(
        update(table).where(table.c.request_id == request_id).values(result=result.SerializeToString())
    )


async def store_failure(session: Executor, table: Table, request_id: str, err: ChainclubError) -> None:
    """Keep a refusal as the request's outcome: what a replay raises."""
    await session.execute(
        update(table)
        .where(table.c.request_id == request_id)
        .values(error_reason=err.reason, error_detail=err.detail)
    )


async def run_once(
    db: Database,
    table: Table,
    kind: str,
    request: Message,
    result_type: type[R],
    work: Callable[[AsyncSession], Awaitable[R]],
    *,
    after_failure: Callable[[AsyncSession], Awaitable[None]] | None = None,
) -> R:
    """Run ``work`` once per request id, in one transaction with the record. ``work`` runs in
    a savepoint: when it raises a stored refusal its changes are undone, ``after_failure``
    writes what a refusal leaves behind (e.g. a risk alert), and the refusal is kept."""
    request_id = check_request_id(request)
    digest = request_hash(request)
    failure: ChainclubError | None = None
    async with db.transaction() as session:
        if not await claim(session, table, request_id, kind, digest):
            return await replay(session, table, request_id, kind, digest, result_type)
        try:
            async with session.begin_nested():
                result = await work(session)
        except ChainclubError as err:
            if err.reason in NOT_STORED:
                raise
            failure = err
            if after_failure is not None:
                await after_failure(session)
            await store_failure(session, table, request_id, err)
        else:
            await store_result(session, table, request_id, result)
    if failure is not None:
        raise failure
    return result
