"""Points accounts and lots: earn into a new lot, spend FIFO by expiry, claw back without
going negative; the account's cached balance always equals the sum of its lots."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.common.v1 import common_pb2
from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument, NotFound
from services.loyalty import access, domain
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import points_accounts, points_entries, points_lots


async def ensure_account(session: AsyncSession, member_no: str, home: str = ""):  # type: ignore[no-untyped-def]
    """The member's points account (created on first use), locked for this transaction: one
    statement when it exists (the usual case), three when it is created."""
    locked = select(points_accounts).where(points_accounts.c.member_no == member_no).with_for_update()
    row = (await session.execute(locked)).first()
    if row is not None:
        return row
    await session.execute(
        insert(points_accounts).values(member_no=member_no, home_store_path=home).on_conflict_do_nothing()
    )
    return (await session.execute(locked)).one()


async def entry(
    session: AsyncSession, member_no: str, kind: str, points: int, reference: str, now: datetime, rules=()
) -> None:  # type: ignore[no-untyped-def]
    await session.execute(
        points_entries.insert().values(
            member_no=member_no,
            kind=kind,
            points=points,
            reference=reference,
            rules=list(rules),
            created_at=now,
        )
    )


async def add_lot(
    ctx: LoyaltyContext,
    session: AsyncSession,
    account,  # type: ignore[no-untyped-def]  # a locked points_accounts row
    points: int,
    *,
    source: str,
    reference: str,
    now: datetime,
    rules: list[str] | tuple[str, ...] = (),
    expires_on: date | None = None,
) -> int:
    """Put ``points`` into a new lot; returns the new balance. Emits loyalty.points.earned."""
    if points <= 0:
        return account.balance
    expires = expires_on or domain.default_expiry(ctx.local_date(now))
    await session.execute(
        points_lots.insert().values(
            id=uuid.uuid4(), member_no=account.member_no, source=source, reference=reference, points=points,
            remaining=points, expires_on=expires, created_at=now,
        )
    )  # fmt: skip
    balance = await _move_balance(session, account.member_no, points, now)
    await entry(session, account.member_no, source, points, reference, now, rules)
    await ctx.emit(
        session,
        "loyalty.points.earned",
        ev.PointsChanged(
            member_no=account.member_no, kind=source, points=points, balance=balance, reference=reference,
            rules=list(rules), expires_on=expires.isoformat(), home_store_path=account.home_store_path, at=ts(now),
        ),
        account.home_store_path,
    )  # fmt: skip
    return balance


async def _move_balance(
    session: AsyncSession, member_no: str, delta: int, now: datetime, reserved: int = 0
) -> int:
    row = (
        await session.execute(
            update(points_accounts)
            .where(points_accounts.c.member_no == member_no)
            .values(
                balance=points_accounts.c.balance + delta,
                reserved=points_accounts.c.reserved + reserved,
                updated_at=now,
            )
            .returning(points_accounts.c.balance)
        )
    ).one()
    return row.balance


async def take(
    session: AsyncSession,
    member_no: str,
    points: int,
    *,
    now: datetime,
    unreserve: int = 0,
) -> int:
    """Take ``points`` from the lots FIFO by expiry (locked); ``unreserve`` releases that many
    reserved points at the same time. Returns the new balance."""
    if points <= 0 and unreserve == 0:
        return (
            await session.execute(
                select(points_accounts.c.balance).where(points_accounts.c.member_no == member_no)
            )
        ).scalar_one()
    rows = (
        await session.execute(
            select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_on)
            .where(points_lots.c.member_no == member_no, points_lots.c.remaining > 0)
            .order_by(points_lots.c.expires_on, points_lots.c.id)
            .with_for_update()
        )
    ).all()
    lots = [domain.Lot(str(r.id), r.remaining, r.expires_on) for r in rows]
    for lot_id, n in domain.consume_fifo(lots, points):
        await session.execute(
            update(points_lots)
            .where(points_lots.c.id == uuid.UUID(lot_id))
            .values(remaining=points_lots.c.remaining - n)
        )
    return await _move_balance(session, member_no, -points, now, reserved=-unreserve)


async def lots_of(session: AsyncSession, member_no: str) -> list[domain.Lot]:
    rows = (
        await session.execute(
            select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_on).where(
                points_lots.c.member_no == member_no, points_lots.c.remaining > 0
            )
        )
    ).all()
    return [domain.Lot(str(r.id), r.remaining, r.expires_on) for r in rows]


async def get_points(ctx: LoyaltyContext, p: Principal, req: pb.GetPointsRequest) -> pb.PointsBalance:
    access.require(p, access.READERS, "read points")
    if not req.member_no:
        raise InvalidArgument("member_no is required", field="member_no")
    async with ctx.db.transaction() as session:
        account = (
            await session.execute(select(points_accounts).where(points_accounts.c.member_no == req.member_no))
        ).first()
        if account is None:
            raise NotFound(f"no points account for member {req.member_no}")
        access.check_member_read(p, account.home_store_path)
        lots = await lots_of(session, req.member_no)
    today = ctx.local_date(ctx.now())
    return pb.PointsBalance(
        member_no=account.member_no,
        balance=account.balance,
        reserved=account.reserved,
        tier=account.tier,
        expiring=[
            pb.ExpiringPoints(points=n, expires_on=d.isoformat())
            for d, n in domain.expiring_by_date(lots, today)
        ],
    )


async def list_history(
    ctx: LoyaltyContext, p: Principal, req: pb.ListPointsHistoryRequest
) -> pb.ListPointsHistoryResponse:
    access.require(p, access.READERS, "read points")
    size = min(req.page.limit or 50, 500)
    offset = int(req.page.cursor) if req.page.cursor.isdigit() else 0
    async with ctx.db.transaction() as session:
        account = (
            await session.execute(select(points_accounts).where(points_accounts.c.member_no == req.member_no))
        ).first()
        if account is None:
            raise NotFound(f"no points account for member {req.member_no}")
        access.check_member_read(p, account.home_store_path)
        rows = (
            await session.execute(
                select(points_entries)
                .where(points_entries.c.member_no == req.member_no)
                .order_by(points_entries.c.id.desc())
                .offset(offset)
                .limit(size + 1)
            )
        ).all()
    more = len(rows) > size
    return pb.ListPointsHistoryResponse(
        entries=[
            pb.PointsEntry(
                id=str(r.id),
                kind=r.kind,
                points=r.points,
                reference=r.reference,
                rules=list(r.rules),
                at=ts(r.created_at),
            )
            for r in rows[:size]
        ],
        page=common_pb2.PageInfo(next_cursor=str(offset + size) if more else ""),
    )
