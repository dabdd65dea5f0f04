"""The points liability (积分负债): points members hold, per home store, and how much of it
expires soon — what the chain still owes in points and what it may stop owing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from kit.summary import IN_SCOPE
from services.loyalty import access
from services.loyalty.context import LoyaltyContext

READERS = frozenset({"hq_admin", "region_manager", "store_manager", "auditor", "service"})

# Outstanding points are the accounts' balances (the lots' remaining summed); a lot is good
# through its expires_on, so the windows count the lots expiring from today to today + N days.
_SQL = text(
    f"""
    SELECT a.home_store_path AS store_path,
           count(*) FILTER (WHERE a.balance > 0) AS members,
           coalesce(sum(a.balance), 0) AS outstanding,
           coalesce(sum(l.soon), 0) AS expiring_30,
           coalesce(sum(l.later), 0) AS expiring_90
    FROM points_accounts a
    LEFT JOIN (
        SELECT member_no,
               sum(remaining) FILTER (WHERE expires_on <= :until_30) AS soon,
               sum(remaining) AS later
        FROM points_lots
        WHERE remaining > 0 AND expires_on >= :today AND expires_on <= :until_90
        GROUP BY member_no
    ) l ON l.member_no = a.member_no
    WHERE {IN_SCOPE.format(column="a.home_store_path")}
    GROUP BY a.home_store_path
    HAVING coalesce(sum(a.balance), 0) > 0
    ORDER BY a.home_store_path
    """
)


async def points_liability(
    ctx: LoyaltyContext, p: Principal, req: pb.GetPointsLiabilityRequest
) -> pb.PointsLiability:
    """Per home store within ``org_path`` (default the caller's scope, which must hold it)."""
    access.require(p, READERS, "read the points liability")
    path = req.org_path or p.scope
    if not p.may_access(path):
        raise InvalidArgument("org_path lies outside your scope", field="org_path")
    today = ctx.local_date(ctx.now())
    params = {"scope": path, "today": today, "until_30": today + timedelta(days=30),
              "until_90": today + timedelta(days=90)}  # fmt: skip
    async with ctx.db.sessions() as session:
        rows = (await session.execute(_SQL, params)).all()
    return pb.PointsLiability(
        org_path=path,
        as_of=today.isoformat(),
        stores=[
            pb.StorePointsLiability(
                store_path=r.store_path, members=int(r.members), outstanding=int(r.outstanding),
                expiring_30_days=int(r.expiring_30), expiring_90_days=int(r.expiring_90),
            )
            for r in rows
        ],
    )  # fmt: skip
