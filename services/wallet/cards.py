"""Wallet's copy of what its use cases need of each card (status, account, owner, type scope,
the type's limits and fees), so a payment or a top-up reads it in its own claim statement, and
a fee or a read in one statement, instead of asking members.

It is kept exact by members, with members' version of the card (it grows with every change):
- a block (lost, frozen, replaced, expired, cancelled), and a change of a card type's scope,
  is pushed by members with ``SetCardStatus`` *before* it commits there: when wallet cannot
  be told, the change fails and the card is unchanged in members; once the block request
  returned, wallet holds it;
- an unblock is pushed *after* members committed it: until wallet hears it (the push, or the
  event if the push failed) the card stays blocked here — the safe side;
- members' card events (issued, status changed, replaced) fill in the rest, and bring late
  unblocks.
Every write keeps the newest version: an older state (a late event, a repeated push) changes
nothing. The type's terms (limits, fees) come with a type change's push, a new card's event and
members' answer; a status change leaves them as they are. A card wallet has never heard of, or
whose terms it has not heard yet, is asked of members once (``learn``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Row, Select, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import insert

from chainclub.events.v1 import members_pb2 as mev
from chainclub.members.v1 import members_pb2
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, Unavailable
from kit.events import Event
from kit.inbox import Route
from services.wallet import access
from services.wallet.context import WalletContext
from services.wallet.journal import TERMS, Executor, StoredCard
from services.wallet.models import cards

STATUSES = frozenset({"active", "lost", "frozen", "replaced", "expired", "cancelled"})
_STATE = (
    "account_id",
    "member_no",
    "status",
    "home_store_path",
    "card_type",
    "card_type_home_scope",
    "version",
)


def _terms(terms: pb.CardTerms | mev.CardTypeTerms) -> pb.CardTerms:
    return pb.CardTerms(
        max_balance=terms.max_balance, max_single_top_up=terms.max_single_top_up, joining_fee=terms.joining_fee,
        annual_fee=terms.annual_fee, replacement_fee=terms.replacement_fee,
    )  # fmt: skip


def _row(state: pb.CardState) -> dict[str, object]:
    known = state.HasField("terms")
    return {
        "card_no": state.card_no,
        "account_id": uuid.UUID(state.account_id),
        "member_no": state.member_no,
        "status": state.status,
        "home_store_path": state.home_store_path,
        "card_type": state.card_type,
        "card_type_home_scope": state.card_type_home_scope,
        "version": state.version,
    } | {t: getattr(state.terms, t) if known else None for t in TERMS}


def _newest(states: Iterable[pb.CardState]) -> list[pb.CardState]:
    """One state per card (its newest), in card number order: one statement may touch a row
    once, and concurrent batches lock their cards in the same order."""
    newest: dict[str, pb.CardState] = {}
    for s in states:
        if s.card_no not in newest or newest[s.card_no].version < s.version:
            newest[s.card_no] = s
    return [newest[no] for no in sorted(newest)]


async def store(session: Executor, states: Iterable[pb.CardState]) -> int:
    """Write the states that are newer than what wallet holds; returns how many changed. A
    state without terms keeps the terms held. Terms fill a card held without any whatever the
    version: its terms never changed since wallet holds it (a type change pushes its cards'
    terms, and no write drops them)."""
    rows = [_row(s) for s in _newest(states)]
    if not rows:
        return 0
    stmt = insert(cards).values(rows)
    new = stmt.excluded
    newer = cards.c.version < new.version
    fills = cards.c.max_balance.is_(None) & new.max_balance.is_not(None)
    set_ = {c: case((newer, new[c]), else_=cards.c[c]) for c in _STATE}
    set_ |= {t: case((newer | fills, func.coalesce(new[t], cards.c[t])), else_=cards.c[t]) for t in TERMS}
    stmt = stmt.on_conflict_do_update(
        index_elements=[cards.c.card_no], set_=set_ | {"updated_at": func.now()}, where=newer | fills
    ).returning(cards.c.card_no)
    return len((await session.execute(stmt)).all())


def _check(state: pb.CardState) -> None:
    if not state.card_no:
        raise InvalidArgument("card_no is required", field="card_no")
    if state.status not in STATUSES:
        raise InvalidArgument(f"status must be one of {', '.join(sorted(STATUSES))}", field="status")
    if state.version <= 0:
        raise InvalidArgument("version must be positive", field="version")
    try:
        uuid.UUID(state.account_id)
    except ValueError:
        raise InvalidArgument("account_id must be a UUID", field="account_id") from None


def _check_teller(p: Principal, states: Iterable[pb.CardState]) -> None:
    """Members tells with its own service token, or forwards the token of the staff member who
    changed the card: staff may tell blocks only (which any counter may cause: reporting a loss
    works chain-wide); an unblock or a type's scope is members' own word (or HQ's)."""
    if p.role in access.CARD_TELLERS:
        return
    access.require(p, access.COUNTER, "set card status")
    if any(s.status == "active" for s in states):
        raise Forbidden(f"role {p.role} may tell wallet of a card block only")


async def set_card_status(
    ctx: WalletContext, p: Principal, req: pb.SetCardStatusRequest
) -> pb.SetCardStatusResponse:
    """Members' push: committed here before it answers, so a block members goes on to commit
    is already what every later payment reads."""
    _check_teller(p, req.cards)
    for state in req.cards:
        _check(state)
    async with ctx.db.transaction() as session:
        applied = await store(session, req.cards)
    return pb.SetCardStatusResponse(applied=applied)


def state_of(card: members_pb2.Card) -> pb.CardState:
    return pb.CardState(
        card_no=card.card_no, account_id=card.account_id, member_no=card.member_no, status=card.status,
        home_store_path=card.member_home_store_path, card_type=card.card_type,
        card_type_home_scope=card.card_type_home_scope, version=card.version, terms=_terms(card),
    )  # fmt: skip


async def learn(ctx: WalletContext, p: Principal, card_no: str) -> None:
    """The fallback for a card wallet has not heard of, or not of its terms (issued before
    wallet kept cards, or its event not here yet): ask members once and keep the answer (raises
    members' refusal, e.g. ``NotFound``). An answer older than what arrived meanwhile changes
    nothing but terms wallet did not have."""
    card = await ctx.members.card(p, card_no)
    async with ctx.db.transaction() as session:
        await store(session, [state_of(card)])


CARD = select(*(cards.c[name] for name in StoredCard.COLUMNS)).where(cards.c.card_no == bindparam("card_no"))
_WIDTH = len(StoredCard.COLUMNS)


async def card_of(
    ctx: WalletContext, p: Principal, card_no: str, query: Select = CARD
) -> tuple[StoredCard, Row]:
    """The card and its terms as wallet holds them, with whatever else ``query`` (``CARD``, or
    one that reads the card's columns first, by ``card_no``) reads along in the same
    statement; asked of members first when wallet has not heard of them (``learn``: members'
    ``NotFound`` for no such card)."""
    row = await _read(ctx, card_no, query)
    if row is None or row.max_balance is None:
        await learn(ctx, p, card_no)
        row = await _read(ctx, card_no, query)
    if row is None or row.max_balance is None:  # learnt, and gone or changed meanwhile: ask again
        raise Unavailable(f"card {card_no!r} is changing: try again")
    return StoredCard(*row[:_WIDTH]), row


async def _read(ctx: WalletContext, card_no: str, query: Select) -> Row | None:
    async with ctx.db.autocommit() as conn:
        return (await conn.execute(query, {"card_no": card_no})).first()


# --- members' events --------------------------------------------------------------------------
# An event without a version predates versions and cannot be ordered: it is skipped (a card
# wallet then does not know is asked of members when it pays).


def members_routes(ctx: WalletContext) -> dict[str, Route]:
    """The handlers of members' card events: each writes wallet's copy of the card in the
    inbox transaction and needs nothing else of the context."""

    async def issued(session: Executor, event: Event, msg: mev.CardIssued) -> None:
        if msg.version:
            await store(session, [pb.CardState(
                card_no=msg.card_no, account_id=msg.account_id, member_no=msg.member_no, status="active",
                home_store_path=msg.home_store_path, card_type=msg.card_type,
                card_type_home_scope=msg.card_type_home_scope, version=msg.version,
                terms=_terms(msg.terms) if msg.HasField("terms") else None,
            )])  # fmt: skip

    async def status_changed(session: Executor, event: Event, msg: mev.CardStatusChanged) -> None:
        if msg.version and msg.account_id:
            await store(session, [pb.CardState(
                card_no=msg.card_no, account_id=msg.account_id, member_no=msg.member_no, status=msg.to_status,
                home_store_path=msg.home_store_path, card_type=msg.card_type,
                card_type_home_scope=msg.card_type_home_scope, version=msg.version,
            )])  # fmt: skip

    async def replaced(session: Executor, event: Event, msg: mev.CardReplaced) -> None:
        if msg.new_card_version:
            await store(session, [pb.CardState(
                card_no=msg.new_card_no, account_id=msg.account_id, member_no=msg.member_no, status="active",
                home_store_path=msg.home_store_path, card_type=msg.card_type,
                card_type_home_scope=msg.card_type_home_scope, version=msg.new_card_version,
                terms=_terms(msg.terms) if msg.HasField("terms") else None,
            )])  # fmt: skip

    return {
        "members.card.issued": Route(mev.CardIssued, issued),
        "members.card.status_changed": Route(mev.CardStatusChanged, status_changed),
        "members.card.replaced": Route(mev.CardReplaced, replaced),
    }


SUBJECTS = ("members.card.issued", "members.card.status_changed", "members.card.replaced")
