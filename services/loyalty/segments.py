"""Segments: RFM scores, the four quadrants and the lifecycle stage of every member who
bought something.

``recompute`` rewrites the ``member_segments`` table from the purchases (nightly by
``segments_job`` and on demand by the RecomputeSegments RPC). The table holds the raw
recency / frequency / monetary and the lifecycle stage; RFM scores and quadrants are relative
to a population, so they are derived per request within the scope asked for.

Rules (each a pure function below, tested in tests/loyalty/test_segments_domain.py):

- recency = whole days since the last purchase; frequency = purchases in the last 12 months
  (``WINDOW``); monetary = fen spent in those 12 months, net of refunds. A purchase refunded
  in full counts for nothing.
- R/F/M scores 1..5 by quintiles within the scope (``quintile_scores``): a member's score is
  the fifth their mid-rank falls in, so ties share one score and a scope of fewer than five
  members still spreads (one member scores 3). Recency is scored the other way round: the
  more recent, the higher.
- quadrant by F × M against the scope's medians: strictly above the median is "high".
  ally 知己 = high F / high M, butterfly 蝴蝶 = low F / high M, barnacle 藤壶 = high F / low M,
  stranger 过客 = low / low.
- lifecycle (``lifecycle_stage``), first match wins: new = first purchase less than
  ``NEW_DAYS`` (30) days ago; declining = bought within ``ACTIVE_DAYS`` (90) days but spent
  less than half of what they spent in the 90 days before; active = bought within 90 days;
  at_risk = last purchase 90..180 (``AT_RISK_DAYS``) days ago; churned = more than 180.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument, OutOfScope
from services.loyalty import access
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import member_segments, points_accounts, purchases

log = logging.getLogger("loyalty.segments")

WINDOW = timedelta(days=365)  # frequency and monetary look back 12 months
NEW_DAYS = 30  # first purchase less than this many days ago: "new"
ACTIVE_DAYS = 90  # a purchase within this many days: "active" (or "declining")
AT_RISK_DAYS = 180  # last purchase ACTIVE_DAYS..AT_RISK_DAYS ago: "at_risk"; beyond: "churned"
DECLINE_RATIO = 0.5  # spend in the last 90 days below half the 90 days before: "declining"

QUADRANTS = ("ally", "butterfly", "barnacle", "stranger")
STAGES = ("new", "active", "declining", "at_risk", "churned")
SEGMENTS = QUADRANTS + STAGES

NIGHTLY_HOUR = 3  # chain time: the job recomputes once a day after this hour
JOB_POLL = 600.0  # seconds between the job's checks

ANALYSTS = frozenset({"hq_admin", "region_manager", "store_manager", "auditor", "service"})
SEGMENT_USERS = ANALYSTS | access.READERS  # member search and coupon issuance by segment
RECOMPUTERS = frozenset({"hq_admin", "service"})

_LOCK = 0x5E6_3E47  # advisory lock: one recompute at a time across replicas


# --- pure rules ------------------------------------------------------------------------


def quintile_scores(values: Mapping[str, float]) -> dict[str, int]:
    """1..5 per key, higher value = higher score. The score is the fifth in which the key's
    mid-rank ((first + last position of its value) / 2, 0-based) lies: ties share a score,
    five distinct values score 1..5 and a single one scores 3."""
    ordered = sorted(values.values())
    n = len(ordered)
    out = {}
    for key, v in values.items():
        lo, hi = bisect_left(ordered, v), bisect_right(ordered, v)
        # mid-rank position (lo + hi - 1) / 2; its fifth: floor(5 * (mid + 0.5) / n)
        out[key] = min(5, 1 + (5 * (lo + hi)) // (2 * n))
    return out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def quadrant(frequency: float, monetary: float, median_f: float, median_m: float) -> str:
    high_f, high_m = frequency > median_f, monetary > median_m
    if high_m:
        return "ally" if high_f else "butterfly"
    return "barnacle" if high_f else "stranger"


def lifecycle_stage(
    now: datetime, first_at: datetime, last_at: datetime, spend_90d: int, spend_prev_90d: int
) -> str:
    if now - first_at < timedelta(days=NEW_DAYS):
        return "new"
    since_last = now - last_at
    if since_last < timedelta(days=ACTIVE_DAYS):
        if spend_prev_90d > 0 and spend_90d < spend_prev_90d * DECLINE_RATIO:
            return "declining"
        return "active"
    if since_last <= timedelta(days=AT_RISK_DAYS):
        return "at_risk"
    return "churned"


def recompute_due(last: datetime | None, now: datetime, tz: str) -> bool:
    """The nightly job runs when nothing was computed yet, or when the last run was on an
    earlier chain day and it is past NIGHTLY_HOUR now."""
    if last is None:
        return True
    zone = ZoneInfo(tz)
    here = now.astimezone(zone)
    return last.astimezone(zone).date() < here.date() and here.hour >= NIGHTLY_HOUR


@dataclass
class Scored:
    member_no: str
    home_store_path: str
    recency_days: int
    frequency: int
    monetary: int
    lifecycle: str
    r: int = 0
    f: int = 0
    m: int = 0
    quadrant: str = ""

    def to_pb(self) -> pb.MemberSegment:
        return pb.MemberSegment(
            member_no=self.member_no, home_store_path=self.home_store_path, recency_days=self.recency_days,
            frequency=self.frequency, monetary=self.monetary, r=self.r, f=self.f, m=self.m,
            quadrant=self.quadrant, lifecycle=self.lifecycle,
        )  # fmt: skip


def score(members: list[Scored]) -> tuple[float, float]:
    """Fill in R/F/M and the quadrant of every member, relative to this population; returns
    the medians of frequency and monetary."""
    rs = quintile_scores({s.member_no: -s.recency_days for s in members})
    fs = quintile_scores({s.member_no: s.frequency for s in members})
    ms = quintile_scores({s.member_no: s.monetary for s in members})
    med_f = median([s.frequency for s in members])
    med_m = median([s.monetary for s in members])
    for s in members:
        s.r, s.f, s.m = rs[s.member_no], fs[s.member_no], ms[s.member_no]
        s.quadrant = quadrant(s.frequency, s.monetary, med_f, med_m)
    return med_f, med_m


# --- recompute ---------------------------------------------------------------------------


async def recompute(ctx: LoyaltyContext, now: datetime | None = None) -> int:
    """Rewrite member_segments from the purchases as of ``now``; returns the members."""
    now = now or ctx.now()
    p = purchases.c
    net = p.total_due - p.refunded_amount
    year_ago = now - WINDOW
    d90, d180 = now - timedelta(days=ACTIVE_DAYS), now - timedelta(days=2 * ACTIVE_DAYS)
    query = (
        select(
            p.member_no,
            func.min(p.created_at).label("first_at"),
            func.max(p.created_at).label("last_at"),
            func.count().filter(p.created_at >= year_ago).label("frequency"),
            func.coalesce(func.sum(net).filter(p.created_at >= year_ago), 0).label("monetary"),
            func.coalesce(func.sum(net).filter(p.created_at >= d90), 0).label("spend_90d"),
            func.coalesce(func.sum(net).filter(p.created_at >= d180, p.created_at < d90), 0).label(
                "spend_prev"
            ),
            literal_column("(array_agg(purchases.store_path ORDER BY purchases.created_at DESC))[1]").label(
                "last_store"
            ),
            func.max(points_accounts.c.home_store_path).label("home"),
        )
        .select_from(purchases.outerjoin(points_accounts, points_accounts.c.member_no == p.member_no))
        .where(p.member_no != "", p.status != "refunded", p.created_at <= now)
        .group_by(p.member_no)
    )
    async with ctx.db.transaction() as session:
        await session.execute(select(func.pg_advisory_xact_lock(literal(_LOCK))))
        rows = (await session.execute(query)).all()
        values = [
            dict(
                member_no=r.member_no,
                home_store_path=r.home or r.last_store,
                first_purchase_at=r.first_at,
                last_purchase_at=r.last_at,
                recency_days=(now - r.last_at).days,
                frequency=r.frequency,
                monetary=int(r.monetary),
                spend_90d=int(r.spend_90d),
                spend_prev_90d=int(r.spend_prev),
                lifecycle=lifecycle_stage(now, r.first_at, r.last_at, int(r.spend_90d), int(r.spend_prev)),
                computed_at=now,
            )
            for r in rows
        ]
        await session.execute(delete(member_segments))
        for i in range(0, len(values), 1000):
            await session.execute(member_segments.insert(), values[i : i + 1000])
    log.info("segments recomputed for %d members", len(values))
    return len(values)


async def last_computed(ctx: LoyaltyContext) -> datetime | None:
    async with ctx.db.transaction() as session:
        return (await session.execute(select(func.max(member_segments.c.computed_at)))).scalar_one()


async def segments_job(ctx: LoyaltyContext) -> None:
    """Background job of the service: recompute once a night (chain time)."""
    while True:
        try:
            if recompute_due(await last_computed(ctx), ctx.now(), ctx.settings.chain_timezone):
                await recompute(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("segment recompute failed; retrying later")
        await asyncio.sleep(JOB_POLL)


# --- reads -------------------------------------------------------------------------------


def _scope(p: Principal, store_path: str) -> str:
    if not store_path:
        return p.scope
    if not p.may_access(store_path):
        raise OutOfScope("no such org unit in your scope")
    return store_path


async def _population(ctx: LoyaltyContext, scope: str) -> tuple[list[Scored], datetime | None]:
    s = member_segments.c
    async with ctx.db.transaction() as session:
        rows = (
            await session.execute(
                select(member_segments).where(in_scope(s.home_store_path, scope)).order_by(s.member_no)
            )
        ).all()
        computed = await _computed_at(session)
    members = [
        Scored(r.member_no, r.home_store_path, r.recency_days, r.frequency, r.monetary, r.lifecycle)
        for r in rows
    ]
    return members, computed


async def _computed_at(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.max(member_segments.c.computed_at)))).scalar_one()


def _page(
    items: list[Scored], page: common_pb2.PageRequest
) -> tuple[list[pb.MemberSegment], common_pb2.PageInfo]:
    offset = int(page.cursor) if page.cursor.isdigit() else 0
    size = min(page.limit or 50, 500)
    chunk = items[offset : offset + size]
    more = offset + size < len(items)
    return [s.to_pb() for s in chunk], common_pb2.PageInfo(next_cursor=str(offset + size) if more else "")


def _check_segment(name: str, allowed: Sequence[str]) -> None:
    if name and name not in allowed:
        raise InvalidArgument(f"segment must be one of {', '.join(allowed)}", field="segment")


async def get_rfm(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.RfmReport:
    access.require(p, ANALYSTS, "read segments")
    scope = _scope(p, req.store_path)
    members, computed = await _population(ctx, scope)
    med_f, med_m = score(members)
    members.sort(key=lambda s: (-(s.r + s.f + s.m), s.member_no))
    items, info = _page(members, req.page)

    def dist(attr: str) -> list[pb.ScoreCount]:
        return [
            pb.ScoreCount(score=k, count=sum(1 for s in members if getattr(s, attr) == k))
            for k in range(1, 6)
        ]

    return pb.RfmReport(
        scope=scope, members=len(members), r=dist("r"), f=dist("f"), m=dist("m"), items=items, page=info,
        computed_at=ts(computed), median_frequency=med_f, median_monetary=med_m,
    )  # fmt: skip


async def get_quadrants(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.QuadrantReport:
    access.require(p, ANALYSTS, "read segments")
    _check_segment(req.segment, QUADRANTS)
    scope = _scope(p, req.store_path)
    members, computed = await _population(ctx, scope)
    med_f, med_m = score(members)
    counts = [pb.SegmentCount(segment=q, count=sum(1 for s in members if s.quadrant == q)) for q in QUADRANTS]
    chosen = [s for s in members if not req.segment or s.quadrant == req.segment]
    items, info = _page(chosen, req.page)
    return pb.QuadrantReport(
        scope=scope, counts=counts, items=items, page=info, computed_at=ts(computed),
        median_frequency=med_f, median_monetary=med_m,
    )  # fmt: skip


async def get_lifecycle(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.LifecycleReport:
    access.require(p, ANALYSTS, "read segments")
    _check_segment(req.segment, STAGES)
    scope = _scope(p, req.store_path)
    members, computed = await _population(ctx, scope)
    score(members)
    counts = [
        pb.SegmentCount(segment=st, count=sum(1 for s in members if s.lifecycle == st)) for st in STAGES
    ]
    chosen = [s for s in members if not req.segment or s.lifecycle == req.segment]
    items, info = _page(chosen, req.page)
    return pb.LifecycleReport(scope=scope, counts=counts, items=items, page=info, computed_at=ts(computed))


async def members_in(ctx: LoyaltyContext, p: Principal, segment: str, store_path: str = "") -> list[str]:
    """The member numbers of a quadrant or lifecycle stage within the scope (sorted)."""
    if segment not in SEGMENTS:
        raise InvalidArgument(f"segment must be one of {', '.join(SEGMENTS)}", field="segment")
    scope = _scope(p, store_path)
    members, _ = await _population(ctx, scope)
    if segment in QUADRANTS:
        score(members)
        return [s.member_no for s in members if s.quadrant == segment]
    return [s.member_no for s in members if s.lifecycle == segment]


async def members_in_segment(
    ctx: LoyaltyContext, p: Principal, req: pb.MembersInSegmentRequest
) -> pb.MembersInSegmentResponse:
    access.require(p, SEGMENT_USERS, "read segments")
    return pb.MembersInSegmentResponse(member_nos=await members_in(ctx, p, req.segment, req.store_path))


async def recompute_segments(
    ctx: LoyaltyContext, p: Principal, req: pb.RecomputeSegmentsRequest
) -> pb.RecomputeSegmentsResponse:
    access.require(p, RECOMPUTERS, "recompute segments")
    now = ctx.now()
    n = await recompute(ctx, now)
    return pb.RecomputeSegmentsResponse(members=n, computed_at=ts(now))
