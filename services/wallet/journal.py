"""The journal and the idempotency records: every money movement is one transaction with
postings that sum to zero, the account's cached buckets updated in the same database
transaction under the row lock; a request id runs once and its outcome is kept."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.errors import ChainclubError, InvalidArgument
from services.wallet.context import WalletContext
from services.wallet.domain import IdempotencyKeyReused, Posting, balanced, member_ledger
from services.wallet.models import accounts, idempotency, postings, transactions

# Errors of these reasons are validation: the request is refused and nothing is stored.
NOT_STORED = frozenset(
    {"invalid_argument", "unauthenticated", "forbidden", "not_found", "out_of_scope", "unavailable"}
)


def request_hash(message: Message) -> str:
    copy = type(message)()
    copy.CopyFrom(message)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


@dataclass
class Outcome:
    """What a unit of work leaves behind even when it fails (e.g. a risk alert)."""

    after_failure: list[Callable[[AsyncSession], Awaitable[None]]] = field(default_factory=list)


async def run_once(
    ctx: WalletContext,
    kind: str,
    request: Message,
    work: Callable[[AsyncSession, Outcome], Awaitable[pb.Transaction]],
) -> pb.Transaction:
    """Run ``work`` once per request id. A replay returns the stored transaction (or raises
    the stored error); the same id with another request is ``idempotency_key_reused``; a
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
                return pb.Transaction.FromString(done.result)
            raise ChainclubError(done.error_detail or "", reason=done.error_reason or "conflict")
        outcome = Outcome()
        try:
            async with session.begin_nested():
                txn = await work(session, outcome)
        except ChainclubError as err:
            if err.reason in NOT_STORED:
                raise
            failure = err
            for action in outcome.after_failure:
                await action(session)
            await session.execute(
                update(idempotency)
                .where(idempotency.c.request_id == request_id)
                .values(error_reason=err.reason, error_detail=err.detail)
            )
        else:
            await session.execute(
                update(idempotency)
                .where(idempotency.c.request_id == request_id)
                .values(result=txn.SerializeToString())
            )
    if failure is not None:
        raise failure
    return txn


async def lock_account(session: AsyncSession, account_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return (
        await session.execute(select(accounts).where(accounts.c.id == account_id).with_for_update())
    ).first()


async def open_account(session: AsyncSession, account_id: uuid.UUID, card_no: str, member_no: str, home: str):  # type: ignore[no-untyped-def]
    """The account (created on first use), locked for this transaction; a closed account
    takes no more value."""
    await session.execute(
        insert(accounts)
        .values(id=account_id, card_no=card_no, member_no=member_no, home_store_path=home)
        .on_conflict_do_nothing()
    )
    account = await lock_account(session, account_id)
    if account.status != "open":
        raise ChainclubError("the card's stored-value account is closed", reason="conflict")
    return account


def ts(value: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(value)
    return t


async def post(
    session: AsyncSession,
    *,
    kind: str,
    account,  # type: ignore[no-untyped-def]  # a locked accounts row
    card_no: str,
    amount: int,
    entries: list[Posting],
    channel: str = "",
    acting: str,
    request_id: str,
    actor: str,
    now: datetime,
    bonus_points: int = 0,
    related_id: uuid.UUID | None = None,
    note: str = "",
) -> pb.Transaction:
    """Write one balanced transaction and move the account's cached buckets with it."""
    entries = balanced(entries)
    principal_delta = sum(e.amount for e in entries if e.ledger == member_ledger(account.id, "principal"))
    bonus_delta = sum(e.amount for e in entries if e.ledger == member_ledger(account.id, "bonus"))
    new_principal, new_bonus = account.principal + principal_delta, account.bonus + bonus_delta
    if new_principal < 0 or new_bonus < 0:
        raise AssertionError("a bucket would go negative: the use case must refuse this first")
    txn_id = uuid.uuid4()
    await session.execute(
        transactions.insert().values(
            id=txn_id, kind=kind, account_id=account.id, card_no=card_no, amount=amount,
            principal_delta=principal_delta, bonus_delta=bonus_delta, bonus_points=bonus_points, channel=channel,
            acting_store_path=acting, home_store_path=account.home_store_path, request_id=request_id,
            related_id=related_id, note=note, actor=actor, created_at=now,
        )
    )  # fmt: skip
    await session.execute(
        postings.insert(),
        [
            {"transaction_id": txn_id, "ledger": e.ledger, "amount": e.amount, "created_at": now}
            for e in entries
        ],
    )
    await session.execute(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(principal=new_principal, bonus=new_bonus, card_no=card_no, updated_at=now)
    )
    return pb.Transaction(
        transaction_id=str(txn_id), kind=kind, card_no=card_no, account_id=str(account.id), amount=amount,
        principal=principal_delta, bonus=bonus_delta, bonus_points=bonus_points, channel=channel,
        acting_store_path=acting, home_store_path=account.home_store_path, request_id=request_id,
        balance=pb.Balance(
            principal=new_principal, bonus=new_bonus, total=new_principal + new_bonus, account_id=str(account.id),
            card_no=card_no, status=account.status,
        ),
        created_at=ts(now), related_transaction_id=str(related_id) if related_id else "", note=note,
    )  # fmt: skip
