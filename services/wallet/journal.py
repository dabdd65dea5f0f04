"""The journal and the idempotency records: every money movement is one transaction with
postings that sum to zero, the account's cached buckets updated in the same database
transaction under the row lock; a request id runs once and its outcome is kept."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import TextClause, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit import idempotency as idem
from kit.errors import ChainclubError
from kit.outbox import pending_rows
from services.wallet.context import WalletContext
from services.wallet.domain import Posting, balanced, member_ledger
from services.wallet.models import accounts, idempotency, postings, transactions

# Where a unit of work executes: an ORM session, or (the hot path) a Core connection.
Executor = idem.Executor


@dataclass
class Outcome:
    """What a unit of work leaves behind even when it fails (e.g. a risk alert)."""

    after_failure: list[Callable[[Executor], Awaitable[None]]] = field(default_factory=list)


async def replay(session: Executor, request_id: str, kind: str, digest: str) -> pb.Transaction:
    """The stored outcome of a request id claimed before (by this request or another one)."""
    return await idem.replay(session, idempotency, request_id, kind, digest, pb.Transaction)


async def record_failure(session: Executor, request_id: str, err: ChainclubError, outcome: Outcome) -> None:
    """Keep a refusal as the request's outcome (what a replay raises), with what the failed
    work leaves behind (e.g. the alert of a blocking risk rule)."""
    for action in outcome.after_failure:
        await action(session)
    await idem.store_failure(session, idempotency, request_id, err)


async def run_once(
    ctx: WalletContext,
    kind: str,
    request: Message,
    work: Callable[[AsyncSession, Outcome], Awaitable[pb.Transaction]],
) -> pb.Transaction:
    """``kit.idempotency.run_once`` in the wallet's database; ``work`` may add to the
    ``Outcome`` what a refusal leaves behind."""
    outcome = Outcome()

    async def after_failure(session: AsyncSession) -> None:
        for action in outcome.after_failure:
            await action(session)

    return await idem.run_once(
        ctx.db,
        idempotency,
        kind,
        request,
        pb.Transaction,
        lambda s: work(s, outcome),
        after_failure=after_failure,
    )


async def lock_account(session: Executor, account_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return (
        await session.execute(select(accounts).where(accounts.c.id == account_id).with_for_update())
    ).first()


async def open_account(session: Executor, account_id: uuid.UUID, card_no: str, member_no: str, home: str):  # type: ignore[no-untyped-def]
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


@dataclass
class Planned:
    """A balanced transaction ready to be written: its reply and the rows behind it."""

    txn: pb.Transaction
    values: dict[str, Any]  # the transactions row
    entries: list[Posting]
    principal: int  # the account's buckets after it
    bonus: int


def plan(
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
    transaction_id: uuid.UUID | None = None,
    bonus_rule_id: str | None = None,
) -> Planned:
    """One balanced transaction over ``account`` and the buckets it leaves (nothing written)."""
    entries = balanced(entries)
    principal_delta = sum(e.amount for e in entries if e.ledger == member_ledger(account.id, "principal"))
    bonus_delta = sum(e.amount for e in entries if e.ledger == member_ledger(account.id, "bonus"))
    new_principal, new_bonus = account.principal + principal_delta, account.bonus + bonus_delta
    if new_principal < 0 or new_bonus < 0:
        raise AssertionError("a bucket would go negative: the use case must refuse this first")
    txn_id = transaction_id or uuid.uuid4()
    values = dict(
        id=txn_id, kind=kind, account_id=account.id, card_no=card_no, amount=amount,
        principal_delta=principal_delta, bonus_delta=bonus_delta, bonus_points=bonus_points, channel=channel,
        acting_store_path=acting, home_store_path=account.home_store_path, request_id=request_id,
        related_id=related_id, note=note, actor=actor, created_at=now, bonus_rule_id=bonus_rule_id,
    )  # fmt: skip
    txn = pb.Transaction(
        transaction_id=str(txn_id), kind=kind, card_no=card_no, account_id=str(account.id), amount=amount,
        principal=principal_delta, bonus=bonus_delta, bonus_points=bonus_points, channel=channel,
        acting_store_path=acting, home_store_path=account.home_store_path, request_id=request_id,
        balance=pb.Balance(
            principal=new_principal, bonus=new_bonus, total=new_principal + new_bonus, account_id=str(account.id),
            card_no=card_no, status=account.status,
        ),
        created_at=ts(now), related_transaction_id=str(related_id) if related_id else "", note=note,
    )  # fmt: skip
    return Planned(txn, values, entries, new_principal, new_bonus)


async def post(session: AsyncSession, **fields: Any) -> pb.Transaction:
    """Write one balanced transaction and move the account's cached buckets with it
    (``plan``'s arguments)."""
    planned = plan(**fields)
    v = planned.values
    await session.execute(transactions.insert().values(**v))
    await session.execute(
        postings.insert(),
        [
            {"transaction_id": v["id"], "ledger": e.ledger, "amount": e.amount, "created_at": v["created_at"]}
            for e in planned.entries
        ],
    )
    await session.execute(
        update(accounts)
        .where(accounts.c.id == v["account_id"])
        .values(
            principal=planned.principal, bonus=planned.bonus, card_no=v["card_no"], updated_at=v["created_at"]
        )
    )
    return planned.txn


# --- the hot path: payments and top-ups in two statements ---------------------------------------
# A payment or top-up is BEGIN, one statement that claims the request id, locks (or opens) the
# account and reads the active rules, then — after the checks, in Python — one statement that
# writes the transaction, its postings, the buckets, the event and the request's result, and
# COMMIT. Same rows, same locks, same order of checks as ``run_once`` + ``post``; the event is
# handed to the outbox relay after the commit (``kit.outbox.pending_rows``).

_RISK_RULES_JSON = """(SELECT json_agg(r) FROM (
        SELECT id, name, kind, threshold, window_seconds, action, applies_to, start_minute, end_minute, scope
        FROM risk_rules WHERE active ORDER BY created_at, id) r)"""

_BONUS_RULES_JSON = """(SELECT json_agg(b) FROM (
            SELECT id, name, min_amount, bonus_amount, bonus_points, scope, starts_at, ends_at
            FROM bonus_rules WHERE active ORDER BY created_at, id) b)"""

_POLICY_JSON = """(SELECT json_build_object('store_paths', store_paths, 'operators', operators)
            FROM topup_policy WHERE id = 1)"""

_CLAIM = """
    claim AS (
        INSERT INTO idempotency (request_id, kind, request_hash) VALUES (:request_id, :kind, :digest)
        ON CONFLICT DO NOTHING RETURNING request_id
    )"""

_ACCOUNT_COLUMNS = "id, card_no, member_no, home_store_path, principal, bonus, status"

TERMS = ("max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee")

# The card as wallet holds it (``services.wallet.cards``), under names apart from the account's.
CARD_COLUMNS = (
    "card_no", "account_id", "member_no", "status", "home_store_path", "card_type", "card_type_home_scope", *TERMS,
)  # fmt: skip
_CARD_FIELDS = ", ".join(f"k.{c} AS card_{c}" for c in CARD_COLUMNS)

# For a payment: the card comes along, share-locked before its account is locked, so a block
# members pushes meanwhile waits for this payment to commit: once the block has returned, no
# payment that read the card before it is still to commit. The account is the card's
# (card_card_no IS NULL: a card wallet has not heard of).
CLAIM_AND_LOCK = text(
    f"""
    WITH {_CLAIM},
    card AS (
        SELECT * FROM cards WHERE card_no = :card_no AND EXISTS (SELECT FROM claim) FOR SHARE
    ),
    locked AS (
        SELECT {_ACCOUNT_COLUMNS} FROM accounts
        WHERE id = (SELECT account_id FROM card) FOR UPDATE
    )
    SELECT c.claimed, a.*, {_RISK_RULES_JSON} AS risk_rules, {_CARD_FIELDS}
    FROM (SELECT count(*) AS claimed FROM claim) c LEFT JOIN card k ON true LEFT JOIN locked a ON true
    """
)

# For a top-up: the card comes along share-locked as for a payment, its account is opened on
# first use (only for an active card whose terms wallet holds: anything else is refused, or
# asked of members and run again) and locked, and the bonus rules and the top-up policy come
# along.
CLAIM_AND_OPEN = text(
    f"""
    WITH {_CLAIM},
    card AS (
        SELECT * FROM cards WHERE card_no = :card_no AND EXISTS (SELECT FROM claim) FOR SHARE
    ),
    usable AS (
        SELECT account_id, card_no, member_no, home_store_path FROM card
        WHERE status = 'active' AND max_balance IS NOT NULL
    ),
    opened AS (
        INSERT INTO accounts (id, card_no, member_no, home_store_path)
        SELECT account_id, card_no, member_no, home_store_path FROM usable
        ON CONFLICT DO NOTHING
        RETURNING {_ACCOUNT_COLUMNS}, true AS created
    ),
    locked AS (
        SELECT {_ACCOUNT_COLUMNS}, false AS created FROM accounts
        WHERE id = (SELECT account_id FROM usable) FOR UPDATE
    )
    SELECT c.claimed, a.*, {_RISK_RULES_JSON} AS risk_rules, {_BONUS_RULES_JSON} AS bonus_rules,
        {_POLICY_JSON} AS policy, {_CARD_FIELDS}
    FROM (SELECT count(*) AS claimed FROM claim) c LEFT JOIN card k ON true
    LEFT JOIN (SELECT * FROM opened UNION ALL SELECT * FROM locked) a ON true
    """
)

# A top-up's preview: what CLAIM_AND_OPEN reads, with nothing claimed, opened or locked.
PEEK_TOP_UP = text(
    f"""
    SELECT false AS claimed, a.*, {_RISK_RULES_JSON} AS risk_rules, {_BONUS_RULES_JSON} AS bonus_rules,
        {_POLICY_JSON} AS policy, {_CARD_FIELDS}
    FROM (SELECT 1) one
    LEFT JOIN cards k ON k.card_no = :card_no
    LEFT JOIN (SELECT {_ACCOUNT_COLUMNS} FROM accounts) a ON a.id = k.account_id
    """
)

# A refused top-up leaves no account behind (as the savepoint of ``run_once`` would not).
DROP_OPENED_ACCOUNT = text("DELETE FROM accounts WHERE id = CAST(:account_id AS uuid)")


def write_statement(outbox: str) -> TextClause:
    """Transaction, postings, buckets, event and the request's result in one statement."""
    return text(
        f"""
        WITH txn AS (
            INSERT INTO transactions (id, kind, account_id, card_no, amount, principal_delta, bonus_delta,
                bonus_points, channel, acting_store_path, home_store_path, request_id, related_id, note, actor,
                created_at, bonus_rule_id)
            VALUES (CAST(:id AS uuid), :kind, CAST(:account_id AS uuid), :card_no, :amount, :principal_delta,
                :bonus_delta, :bonus_points, :channel, :acting_store_path, :home_store_path, :request_id,
                CAST(:related_id AS uuid), :note, :actor, :created_at, CAST(:bonus_rule_id AS uuid))
        ),
        entries AS (
            INSERT INTO postings (transaction_id, ledger, amount, created_at)
            SELECT CAST(:id AS uuid), e.ledger, e.amount, :created_at
            FROM unnest(CAST(:ledgers AS text[]), CAST(:amounts AS bigint[])) WITH ORDINALITY AS e(ledger, amount, n)
            ORDER BY e.n
        ),
        buckets AS (
            UPDATE accounts SET principal = :new_principal, bonus = :new_bonus, card_no = :card_no,
                updated_at = :created_at
            WHERE id = CAST(:account_id AS uuid)
        ),
        event AS (
            INSERT INTO {outbox} (event_id, subject, type, payload, org_path, traceparent, created_at)
            VALUES (CAST(:event_id AS uuid), :subject, :event_type, :payload, :org_path, :traceparent,
                :event_created_at)
        )
        UPDATE idempotency SET result = :result WHERE request_id = :request_id
        """
    )


@dataclass(frozen=True)
class StoredCard:
    """A card as wallet holds it (the claim statements read it with the account); its type's
    terms are None while wallet has not heard of them."""

    COLUMNS = CARD_COLUMNS

    card_no: str
    account_id: uuid.UUID
    member_no: str
    status: str
    home_store_path: str
    card_type: str
    card_type_home_scope: str
    max_balance: int | None
    max_single_top_up: int | None
    joining_fee: int | None
    annual_fee: int | None
    replacement_fee: int | None

    @property
    def terms_known(self) -> bool:
        return self.max_balance is not None


@dataclass
class Claim:
    claimed: bool
    account: Any  # the locked accounts row (None: no account, or not claimed)
    card: StoredCard | None  # None: not heard of, or not claimed
    created: bool  # the account was opened by this statement
    risk_rules: list[dict[str, Any]]
    bonus_rules: list[dict[str, Any]]
    policy: dict[str, Any] | None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def claim(
    session: Executor, statement: TextClause, *, request_id: str, kind: str, digest: str, **params: Any
) -> Claim:
    row = (
        await session.execute(statement, {"request_id": request_id, "kind": kind, "digest": digest, **params})
    ).one()
    return _claim_of(row)


def _claim_of(row: Any) -> Claim:
    m = row._mapping
    card = None
    if m.get("card_card_no") is not None:
        card = StoredCard(*(m[f"card_{c}"] for c in StoredCard.COLUMNS))
    return Claim(
        claimed=bool(row.claimed),
        account=row if row.id is not None else None,
        card=card,
        created=bool(m.get("created", False)),
        risk_rules=_json(m["risk_rules"]) or [],
        bonus_rules=_json(m.get("bonus_rules")) or [],
        policy=_json(m.get("policy")),
    )


async def peek_top_up(session: Executor, card_no: str) -> Claim:
    """What a top-up of the card would read (``CLAIM_AND_OPEN``: the card, its account, the
    rules, the policy), read only: ``claimed`` is False and nothing is locked (account None:
    not opened yet; card None: not heard of)."""
    row = (await session.execute(PEEK_TOP_UP, {"card_no": card_no})).one()
    return _claim_of(row)


async def write(
    ctx: WalletContext,
    session: Executor,
    planned: Planned,
    *,
    subject: str,
    event: Message,
    org_path: str,
) -> pb.Transaction:
    """Write ``planned`` with its event and store its reply as the request's result. The
    event goes to the relay once the transaction commits: ``session`` is a connection of
    ``Database.begin()``."""
    v = planned.values
    (row,) = pending_rows(session, [(subject, event, org_path)])
    await session.execute(
        ctx.write_statement,
        {
            **v,
            "ledgers": [e.ledger for e in planned.entries],
            "amounts": [e.amount for e in planned.entries],
            "new_principal": planned.principal,
            "new_bonus": planned.bonus,
            "event_id": row["event_id"],
            "subject": row["subject"],
            "event_type": row["type"],
            "payload": row["payload"],
            "org_path": row["org_path"],
            "traceparent": row["traceparent"],
            "event_created_at": row["created_at"],
            "result": planned.txn.SerializeToString(),
        },
    )
    return planned.txn


Decide = Callable[[Executor, Claim, Outcome], Awaitable[tuple[Planned, str, Message, str]]]


async def run_claimed(
    ctx: WalletContext,
    kind: str,
    request: Message,
    statement: TextClause,
    params: dict[str, Any],
    decide: Decide,
) -> pb.Transaction:
    """``run_once`` for the hot path: ``statement`` (``CLAIM_AND_LOCK`` or ``CLAIM_AND_OPEN``)
    claims the request id and locks the account; ``decide`` checks, reads what else it needs
    and returns the planned transaction with its event (subject, message, org path) — or
    raises, writing nothing but what ``outcome`` keeps; then ``write``. Replays, reused keys,
    concurrent duplicates and stored refusals behave exactly as in ``run_once``."""
    request_id = idem.check_request_id(request)
    digest = idem.request_hash(request)
    failure: ChainclubError | None = None
    # A Core connection rather than an ORM session: nothing here needs one, and the rare
    # paths (replays, refusals, risk statistics and alerts) only ever call ``execute``.
    async with ctx.db.begin() as session:
        claimed = await claim(session, statement, request_id=request_id, kind=kind, digest=digest, **params)
        if not claimed.claimed:
            return await replay(session, request_id, kind, digest)
        outcome = Outcome()
        try:
            planned, subject, event, org_path = await decide(session, claimed, outcome)
        except ChainclubError as err:
            if err.reason in idem.NOT_STORED:
                raise
            failure = err
            if claimed.created:
                await session.execute(DROP_OPENED_ACCOUNT, {"account_id": claimed.account.id})
            await record_failure(session, request_id, err, outcome)
        else:
            txn = await write(ctx, session, planned, subject=subject, event=event, org_path=org_path)
    if failure is not None:
        raise failure
    return txn
