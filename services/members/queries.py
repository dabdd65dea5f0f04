"""Reads shared by the member and card use cases."""

from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument, NotFound
from services.members import access, domain
from services.members.context import MembersContext
from services.members.models import card_holders, card_types, cards, field_definitions, members
from services.members.views import member_view


async def field_defs(session: AsyncSession) -> dict[str, domain.FieldDef]:
    rows = (
        await session.execute(select(field_definitions).where(field_definitions.c.active.is_(True)))
    ).all()
    return {r.key: domain.FieldDef(r.key, r.type, r.required, tuple(r.choices or ())) for r in rows}


async def member_row(session: AsyncSession, member_no: str, *, lock: bool = False):  # type: ignore[no-untyped-def]
    query = select(members).where(members.c.member_no == member_no)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def member_in_scope(session: AsyncSession, p: Principal, member_no: str, *, lock: bool = False):  # type: ignore[no-untyped-def]
    """The member, or NotFound when missing or outside the caller's scope (never reveal it)."""
    row = await member_row(session, member_no, lock=lock)
    if row is None or not p.may_access(row.home_store_path):
        raise NotFound(f"no member {member_no!r}")
    return row


async def cards_of(session: AsyncSession, member_ids: list) -> dict:  # type: ignore[no-untyped-def]
    """Cards each member owns or holds, newest first: two index lookups (owner, holder)
    joined by UNION ALL, never a scan of every card."""
    if not member_ids:
        return {}
    owned = select(cards, cards.c.member_id.label("for_member")).where(cards.c.member_id.in_(member_ids))
    held = (
        select(cards, card_holders.c.member_id.label("for_member"))
        .join(card_holders, card_holders.c.card_no == cards.c.card_no)
        .where(card_holders.c.member_id.in_(member_ids))
    )
    both = union_all(owned, held).subquery()
    rows = (await session.execute(select(both).order_by(both.c.created_at.desc()))).all()
    out: dict = {mid: [] for mid in member_ids}
    seen: set = set()
    for r in rows:
        if (r.for_member, r.card_no) not in seen:
            seen.add((r.for_member, r.card_no))
            out[r.for_member].append(r)
    return out


async def view(ctx: MembersContext, session: AsyncSession, p: Principal, row) -> pb.Member:  # type: ignore[no-untyped-def]
    owned = await cards_of(session, [row.id])
    return member_view(row, owned[row.id], ctx.keyring, access.sees_pii(p, row.home_store_path))


async def card_type_for_issue(session: AsyncSession, code: str, home_store_path: str):  # type: ignore[no-untyped-def]
    """The type of a card about to be issued, share-locked: a change of its scope (told to
    wallet with every card of the type) waits for the new card, or the card for the change."""
    query = select(card_types).where(card_types.c.active.is_(True))
    query = query.where(card_types.c.code == code) if code else query.where(card_types.c.is_default.is_(True))
    row = (await session.execute(query.with_for_update(read=True))).first()
    if row is None:
        raise InvalidArgument(
            f"unknown card type {code!r}" if code else "no default card type is configured", field="card_type"
        )
    if row.home_scope and not in_path(row.home_scope, home_store_path):
        raise InvalidArgument(
            f"card type {row.code} is only for members of {row.home_scope}", field="card_type"
        )
    return row


def in_path(scope: str, path: str) -> bool:
    return path == scope or path.startswith(scope + "/")
