"""Use cases of cards and card types: issue, the lifecycle (挂失/解挂/冻结/解冻/补卡/注销),
and HQ's card type definitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import members_pb2 as ev
from chainclub.members.v1 import members_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.members import access, card_sync, domain
from services.members.context import MembersContext
from services.members.models import (
    card_events,
    card_holders,
    card_no_seq,
    card_types,
    card_version_seq,
    cards,
    members,
)
from services.members.queries import card_type_for_issue, in_path, member_in_scope
from services.members.views import card_view

FEE_PAYMENTS = ("cash", "stored_value")


async def issue(
    ctx: MembersContext,
    session: AsyncSession,
    p: Principal,
    member_id: uuid.UUID,
    member_no: str,
    home_store_path: str,
    ctype,  # type: ignore[no-untyped-def]
    holders: list[tuple[uuid.UUID, str]],
    *,
    account_id: uuid.UUID | None = None,
    replaces: str | None = None,
):  # type: ignore[no-untyped-def]
    """A new active card (and, for family/group cards, its extra holders)."""
    card_no = domain.card_no_from(await ctx.next_value(session, card_no_seq))
    version = await ctx.next_value(session, card_version_seq)
    today = ctx.today()
    account = account_id or uuid.uuid4()
    await session.execute(
        cards.insert().values(
            card_no=card_no,
            member_id=member_id,
            card_type=ctype.code,
            status="active",
            account_id=account,
            home_store_path=home_store_path,
            issued_on=today,
            expires_on=domain.expiry_for(today, ctype.validity_months),
            replaces=replaces,
            version=version,
        )
    )
    for holder_id, _ in holders:
        await session.execute(card_holders.insert().values(card_no=card_no, member_id=holder_id))
    if replaces is None:
        await ctx.emit(
            session,
            "members.card.issued",
            ev.CardIssued(
                card_no=card_no,
                member_no=member_no,
                card_type=ctype.code,
                home_store_path=home_store_path,
                account_id=str(account),
                joining_fee=ctype.joining_fee,
                holder_member_nos=[no for _, no in holders],
                card_type_home_scope=ctype.home_scope,
                version=version,
                terms=card_sync.event_terms(ctype),
            ),
            home_store_path,
        )
    return (await session.execute(select(cards).where(cards.c.card_no == card_no))).one()


async def _card_view(session: AsyncSession, card) -> pb.Card:  # type: ignore[no-untyped-def]
    owner = (await session.execute(select(members).where(members.c.id == card.member_id))).one()
    extra = (
        await session.execute(
            select(members.c.member_no)
            .join(card_holders, card_holders.c.member_id == members.c.id)
            .where(card_holders.c.card_no == card.card_no)
            .order_by(members.c.member_no)
        )
    ).scalars()
    ctype = (await session.execute(select(card_types).where(card_types.c.code == card.card_type))).one()
    holders = [(owner.member_no, "owner")] + [(no, "holder") for no in extra]
    return card_view(card, owner, holders, ctype)


async def _locked_card(session: AsyncSession, card_no: str):  # type: ignore[no-untyped-def]
    card = (await session.execute(select(cards).where(cards.c.card_no == card_no).with_for_update())).first()
    if card is None:
        raise NotFound(f"no card {card_no!r}")
    member = (await session.execute(select(members).where(members.c.id == card.member_id))).one()
    ctype = (await session.execute(select(card_types).where(card_types.c.code == card.card_type))).one()
    return card, member, ctype


def _check_card_policy(p: Principal, ctype) -> None:  # type: ignore[no-untyped-def]
    if ctype.home_scope and p.role not in ("hq_admin", "service") and not in_path(ctype.home_scope, p.scope):
        raise Forbidden(f"card type {ctype.code} is usable only within {ctype.home_scope} (HQ policy)")


def _check_home_scope(p: Principal, member, what: str) -> None:  # type: ignore[no-untyped-def]
    if not p.may_access(member.home_store_path):
        raise Forbidden(f"{what} needs the member's home store ({member.home_store_path}) or above")


# The card, its owner, its type and its extra holders in one indexed query: the counter
# identifies a card by it (wallet reads its own copy and asks only for a card it never heard of).
_HOLDER_NOS = (
    select(func.array_agg(aggregate_order_by(members.c.member_no, members.c.member_no)))
    .select_from(card_holders.join(members, members.c.id == card_holders.c.member_id))
    .where(card_holders.c.card_no == cards.c.card_no)
    .scalar_subquery()
)
_OWNER = members.alias("owner")
_CARD_QUERY = (
    select(
        *cards.c,
        _OWNER.c.member_no.label("owner_member_no"),
        _OWNER.c.home_store_path.label("owner_home_store_path"),
        *(c.label(f"type_{c.name}") for c in card_types.c),
        _HOLDER_NOS.label("holder_nos"),
    )
    .join(_OWNER, _OWNER.c.id == cards.c.member_id)
    .join(card_types, card_types.c.code == cards.c.card_type)
    .where(cards.c.card_no == bindparam("card_no"))
)


async def get_card(ctx: MembersContext, p: Principal, card_no: str) -> pb.Card:
    access.require(p, access.CHAIN_WIDE | {"auditor"}, "read cards")
    async with ctx.db.autocommit() as conn:  # one statement, no transaction to begin or end
        row = (await conn.execute(_CARD_QUERY, {"card_no": card_no})).first()
    if row is None:
        raise NotFound(f"no card {card_no!r}")
    if p.role == "auditor" and not p.may_access(row.owner_home_store_path):
        raise NotFound(f"no card {card_no!r}")
    owner = SimpleNamespace(member_no=row.owner_member_no, home_store_path=row.owner_home_store_path)
    ctype = SimpleNamespace(**{c.name: row._mapping[f"type_{c.name}"] for c in card_types.c})
    holders = [(owner.member_no, "owner")] + [(no, "holder") for no in row.holder_nos or ()]
    return card_view(row, owner, holders, ctype)


async def issue_card(ctx: MembersContext, p: Principal, req: pb.IssueCardRequest) -> pb.Card:
    access.require(p, access.WRITERS, "issue cards")
    async with ctx.db.transaction() as session:
        member = await member_in_scope(session, p, req.member_no, lock=True)
        if member.status != "active":
            raise domain.Conflict("an anonymized member cannot get a card")
        ctype = await card_type_for_issue(session, req.card_type, member.home_store_path)
        holder_nos = list(dict.fromkeys(n for n in req.holder_member_nos if n != member.member_no))
        domain.check_holders(ctype.kind, ctype.max_holders, 1 + len(holder_nos))
        holders = []
        for no in holder_nos:
            row = await member_in_scope(session, p, no)
            holders.append((row.id, row.member_no))
        card = await issue(
            ctx, session, p, member.id, member.member_no, member.home_store_path, ctype, holders
        )
        return await _card_view(session, card)


async def change_status(ctx: MembersContext, p: Principal, req: pb.ChangeCardStatusRequest) -> pb.Card:
    chain_wide = req.action in domain.CHAIN_WIDE_ACTIONS
    access.require(
        p, access.CHAIN_WIDE if chain_wide else access.WRITERS, f"{req.action.replace('_', ' ')} cards"
    )
    if req.action not in domain.TRANSITIONS or req.action == "expire":
        raise InvalidArgument(f"unknown card action {req.action!r}", field="action")
    async with ctx.db.transaction() as session:
        card, member, ctype = await _locked_card(session, req.card_no)
        _check_card_policy(p, ctype)
        if not chain_wide:
            _check_home_scope(p, member, req.action.replace("_", " "))
        to = domain.next_status(card.status, req.action)
        state = await _transition(
            ctx, session, p, card, member, ctype.home_scope, to, req.acting_store_path or p.scope, req.reason
        )
        if to != "active":
            await ctx.wallet.set_card_status(p, [state])  # a block: wallet holds it before it commits here
        view = await _card_view(
            session, (await session.execute(select(cards).where(cards.c.card_no == card.card_no))).one()
        )
    if to == "active":
        await card_sync.tell_unblocked(ctx, p, state)
    return view


async def _transition(
    ctx, session, p, card, member, type_home_scope: str, to: str, acting: str, reason: str
) -> wallet_pb2.CardState:  # type: ignore[no-untyped-def]
    """The card's new status and version, its history row and event; returns what wallet is
    to be told (a block before this transaction commits, an unblock after)."""
    version = (
        await session.execute(
            update(cards)
            .where(cards.c.card_no == card.card_no)
            .values(status=to, status_changed_at=datetime.now(UTC), version=card_sync.next_version())
            .returning(cards.c.version)
        )
    ).scalar_one()
    await session.execute(
        card_events.insert().values(
            card_no=card.card_no, from_status=card.status, to_status=to, actor=p.sub, actor_role=p.role,
            acting_store_path=acting, reason=(reason or "")[:500],
        )
    )  # fmt: skip
    await ctx.emit(
        session,
        "members.card.status_changed",
        ev.CardStatusChanged(
            card_no=card.card_no, member_no=member.member_no, from_status=card.status, to_status=to,
            home_store_path=member.home_store_path, acting_store_path=acting, actor=p.sub, reason=reason or "",
            version=version, account_id=str(card.account_id), card_type=card.card_type,
            card_type_home_scope=type_home_scope,
        ),
        member.home_store_path,
    )  # fmt: skip
    return card_sync.wallet_state(card, member, type_home_scope, to, version)


async def replace(ctx: MembersContext, p: Principal, req: pb.ReplaceCardRequest) -> pb.Card:
    """补卡: a new card number on the same stored-value account; the old card never pays again."""
    access.require(p, access.WRITERS, "replace cards")
    fee_payment = req.fee_payment or "cash"
    if fee_payment not in FEE_PAYMENTS:
        raise InvalidArgument("fee_payment must be cash or stored_value", field="fee_payment")
    acting = req.acting_store_path or p.scope
    async with ctx.db.transaction() as session:
        card, member, ctype = await _locked_card(session, req.card_no)
        _check_card_policy(p, ctype)
        _check_home_scope(p, member, "replace")
        domain.check_replaceable(card.status)
        holders = [
            (r.member_id, r.member_no)
            for r in (
                await session.execute(
                    select(card_holders.c.member_id, members.c.member_no)
                    .join(members, members.c.id == card_holders.c.member_id)
                    .where(card_holders.c.card_no == card.card_no)
                )
            ).all()
        ]
        new = await issue(
            ctx, session, p, member.id, member.member_no, member.home_store_path, ctype, holders,
            account_id=card.account_id, replaces=card.card_no,
        )  # fmt: skip
        state = await _transition(
            ctx, session, p, card, member, ctype.home_scope, "replaced", acting, f"replaced by {new.card_no}"
        )
        await ctx.wallet.set_card_status(p, [state])  # the old card never pays again: before the commit
        await session.execute(
            update(cards).where(cards.c.card_no == card.card_no).values(replaced_by=new.card_no)
        )
        await ctx.emit(
            session,
            "members.card.replaced",
            ev.CardReplaced(
                old_card_no=card.card_no, new_card_no=new.card_no, member_no=member.member_no,
                home_store_path=member.home_store_path, account_id=str(card.account_id),
                replacement_fee=ctype.replacement_fee, fee_payment=fee_payment, acting_store_path=acting, actor=p.sub,
                card_type=ctype.code, card_type_home_scope=ctype.home_scope, new_card_version=new.version,
                terms=card_sync.event_terms(ctype),
            ),
            member.home_store_path,
        )  # fmt: skip
        return await _card_view(session, new)


async def expire_due(ctx: MembersContext, p: Principal) -> int:
    """Active cards past their expiry become expired (run by the scheduler); wallet is told of
    the batch before it commits (when it does not answer, the batch waits for the next run).
    A process that cannot sign a token of its own leaves it to the cards' events: an expiry
    is a date, not a block a member asked for."""
    today = ctx.today()
    states = []
    async with ctx.db.transaction() as session:
        due = (
            await session.execute(
                select(cards, card_types.c.home_scope.label("type_home_scope"))
                .join(card_types, card_types.c.code == cards.c.card_type)
                .where(
                    cards.c.status == "active", cards.c.expires_on.is_not(None), cards.c.expires_on < today
                )
                .order_by(cards.c.card_no)
                .limit(500)
                .with_for_update(of=cards, skip_locked=True)
            )
        ).all()
        for card in due:
            member = (await session.execute(select(members).where(members.c.id == card.member_id))).one()
            states.append(
                await _transition(
                    ctx, session, p, card, member, card.type_home_scope, "expired", "HQ", "validity ended"
                )
            )
        if states and ctx.wallet.can_tell(p):
            await ctx.wallet.set_card_status(p, states)
    return len(states)


# --- card types ---------------------------------------------------------------------------------
def card_type_pb(row) -> pb.CardType:  # type: ignore[no-untyped-def]
    return pb.CardType(
        code=row.code, name=row.name, kind=row.kind, joining_fee=row.joining_fee, annual_fee=row.annual_fee,
        replacement_fee=row.replacement_fee, validity_months=row.validity_months, max_holders=row.max_holders,
        discount_bps=row.discount_bps, home_scope=row.home_scope, is_default=row.is_default, active=row.active,
        max_balance=row.max_balance, max_single_top_up=row.max_single_top_up,
    )  # fmt: skip


async def list_card_types(ctx: MembersContext, p: Principal) -> pb.ListCardTypesResponse:
    access.require(p, access.READERS, "read card types")
    async with ctx.db.sessions() as session:
        rows = (await session.execute(select(card_types).order_by(card_types.c.code))).all()
    return pb.ListCardTypesResponse(card_types=[card_type_pb(r) for r in rows])


async def upsert_card_type(ctx: MembersContext, p: Principal, req: pb.CardType) -> pb.CardType:
    access.require(p, access.HQ, "define card types")
    fees = [req.joining_fee, req.annual_fee, req.replacement_fee, req.max_balance, req.max_single_top_up]
    domain.check_card_type_fields(req.code, req.kind, fees, req.discount_bps, req.max_holders or 1)
    if not req.name.strip():
        raise InvalidArgument("name must not be empty", field="name")
    if req.validity_months < 0:
        raise InvalidArgument("validity_months must be 0 (no expiry) or more", field="validity_months")
    if req.home_scope and not (req.home_scope == "HQ" or req.home_scope.startswith("HQ/")):
        raise InvalidArgument("home_scope must be an org path such as HQ/EAST", field="home_scope")
    if req.is_default and not req.active:
        raise InvalidArgument("the default card type must be active", field="is_default")
    values = dict(
        name=req.name.strip(), kind=req.kind, joining_fee=req.joining_fee, annual_fee=req.annual_fee,
        replacement_fee=req.replacement_fee, validity_months=req.validity_months, max_holders=req.max_holders or 1,
        discount_bps=req.discount_bps, home_scope=req.home_scope, is_default=req.is_default, active=req.active,
        max_balance=req.max_balance, max_single_top_up=req.max_single_top_up, updated_at=datetime.now(UTC),
    )  # fmt: skip
    async with ctx.db.transaction() as session:
        # One default at a time: serialise changes of the default through a lock on the table.
        await session.execute(
            select(card_types.c.code).where(card_types.c.is_default.is_(True)).with_for_update()
        )
        if req.is_default:
            await session.execute(
                update(card_types).where(card_types.c.code != req.code).values(is_default=False)
            )
        told = ("home_scope", *card_sync.TERMS)  # what wallet holds of the type with each card
        before = (
            await session.execute(
                select(*(card_types.c[c] for c in told))
                .where(card_types.c.code == req.code)
                .with_for_update()
            )
        ).first()
        if before is not None and tuple(before) != tuple(values[c] for c in told):
            await card_sync.tell_type_change(ctx, session, p, SimpleNamespace(code=req.code, **values))
        stmt = insert(card_types).values(code=req.code, **values)
        await session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
        row = (await session.execute(select(card_types).where(card_types.c.code == req.code))).one()
    return card_type_pb(row)
