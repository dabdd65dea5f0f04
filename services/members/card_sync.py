"""Keeping wallet's copy of the cards exact: wallet refuses a payment from its own copy of the
card (status, type scope), so members tells it of every change, with the card's version.

- A block (lost, frozen, replaced, expired, cancelled) and a change of a card type's scope are
  told *before* they commit here: when wallet does not answer, the change fails (the caller
  sees ``unavailable``) and nothing changed — a blocked card never paid after its block returned.
- A change of a card type's limits or fees is told like a change of its scope: every card of
  the type with its new terms, before the commit (wallet refuses top-ups and charges fees
  from its copy). New cards bring their type's terms in their events.
- An unblock is told *after* it committed: until wallet hears it, the card stays blocked there
  (the safe side); when wallet does not answer, the card's event brings it later.
- The call carries members' own service token, or the changing staff member's when this
  process cannot sign (``WalletClient``).
Versions come from ``card_version_seq``, never reused: a state wallet was told by a
transaction that then failed here cannot hide a later change of the same card."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import members_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2
from kit.auth import Principal
from kit.errors import ChainclubError
from services.members.context import MembersContext
from services.members.models import card_version_seq, cards, members

log = logging.getLogger("members.card_sync")

BATCH = 1000  # card states per call to wallet


def wallet_state(card, member, type_home_scope: str, status: str, version: int) -> wallet_pb2.CardState:  # type: ignore[no-untyped-def]
    return wallet_pb2.CardState(
        card_no=card.card_no, account_id=str(card.account_id), member_no=member.member_no, status=status,
        home_store_path=member.home_store_path, card_type=card.card_type, card_type_home_scope=type_home_scope,
        version=version,
    )  # fmt: skip


TERMS = ("max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee")


def event_terms(ctype) -> ev.CardTypeTerms:  # type: ignore[no-untyped-def]
    """A card type's limits and fees as its cards' events carry them to wallet."""
    return ev.CardTypeTerms(**{t: getattr(ctype, t) for t in TERMS})


def next_version():  # type: ignore[no-untyped-def]
    """The value a changed card row takes as its version."""
    return card_version_seq.next_value()


async def tell_unblocked(ctx: MembersContext, p: Principal, state: wallet_pb2.CardState) -> None:
    """After the commit; a failure is logged, not raised: the unblock is done here, and the
    card's event tells wallet later."""
    try:
        await ctx.wallet.set_card_status(p, [state])
    except ChainclubError as exc:
        log.warning(
            "wallet did not hear that card %s is active again (%s); its event will", state.card_no, exc
        )


async def tell_type_change(ctx: MembersContext, session: AsyncSession, p: Principal, ctype) -> int:  # type: ignore[no-untyped-def]
    """A card type's scope, limits or fees changed (``ctype``: the type as it will be): every
    card of it takes a new version and wallet is told, in batches, before the change commits."""
    code, home_scope = ctype.code, ctype.home_scope
    terms = wallet_pb2.CardTerms(**{t: getattr(ctype, t) for t in TERMS})
    rows = (
        await session.execute(
            update(cards)
            .where(cards.c.card_type == code, members.c.id == cards.c.member_id)
            .values(version=next_version())
            .returning(
                cards.c.card_no, cards.c.account_id, cards.c.card_type, cards.c.status, cards.c.version,
                members.c.member_no, members.c.home_store_path,
            )
        )
    ).all()  # fmt: skip
    states = [wallet_state(r, r, home_scope, r.status, r.version) for r in rows]
    for state in states:
        state.terms.CopyFrom(terms)
    for start in range(0, len(states), BATCH):
        await ctx.wallet.set_card_status(p, states[start : start + BATCH])
    return len(states)
