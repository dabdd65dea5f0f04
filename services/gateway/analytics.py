"""Analytics use cases the REST routes (routes/analytics.py) and the console's segments screen
(会员分析) share: RFM scores, the four quadrants and the lifecycle stages of the members in the
caller's scope or an org unit inside it, and recomputing them. The loyalty service computes
them (services/loyalty/segments.py) and checks role and scope again; the gateway resolves the
org code and maps protobuf to the REST JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from services.gateway import audit
from services.gateway.org import unit_path
from services.gateway.state import GatewayState

QUADRANTS = ("ally", "butterfly", "barnacle", "stranger")
STAGES = ("new", "active", "declining", "at_risk", "churned")
RECOMPUTE_TIMEOUT = 300  # seconds: the whole chain is rescored in one go


def member_json(m: pb.MemberSegment) -> dict[str, Any]:
    return {
        "member_no": m.member_no, "home_store_path": m.home_store_path, "recency_days": m.recency_days,
        "frequency": m.frequency, "monetary": m.monetary, "r": m.r, "f": m.f, "m": m.m,
        "rfm": f"{m.r}{m.f}{m.m}", "quadrant": m.quadrant, "lifecycle": m.lifecycle,
    }  # fmt: skip


def computed_at(reply: Any) -> str | None:
    """When the segments the reply describes were last computed (UTC, RFC 3339 with ``Z``);
    None when they never were."""
    t = reply.computed_at
    return t.ToDatetime().isoformat() + "Z" if t.seconds else None


async def query(
    state: GatewayState,
    p: Principal,
    store: str | None,
    limit: int = 50,
    cursor: str | None = None,
    segment: str = "",
) -> pb.SegmentQuery:
    """Loyalty's query for the caller's scope, or the org unit ``store`` inside it (unknown or
    outside the scope: 422 on ``store``)."""
    q = pb.SegmentQuery(page={"limit": limit, "cursor": cursor or ""}, segment=segment)
    if store:
        q.store_path = await unit_path(state, p, store, field="store")
    return q


async def rfm(
    state: GatewayState, p: Principal, store: str | None = None, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """R, F and M scores (1..5, quintiles within the scope) and their distributions."""
    reply = await state.clients.call(
        state.clients.loyalty.GetRfm, await query(state, p, store, limit, cursor), p
    )
    return {
        "scope": reply.scope,
        "members": reply.members,
        "distribution": {
            name: {str(c.score): c.count for c in dist}
            for name, dist in (("r", reply.r), ("f", reply.f), ("m", reply.m))
        },
        "median_frequency": reply.median_frequency,
        "median_monetary": reply.median_monetary,
        "computed_at": computed_at(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


async def quadrants(
    state: GatewayState,
    p: Principal,
    store: str | None = None,
    quadrant: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The members per quadrant (F × M against the scope's medians): ally 知己, butterfly
    蝴蝶, barnacle 藤壶, stranger 过客; the items of one quadrant or all."""
    q = await query(state, p, store, limit, cursor, quadrant or "")
    reply = await state.clients.call(state.clients.loyalty.GetQuadrants, q, p)
    return {
        "scope": reply.scope,
        "counts": {c.segment: c.count for c in reply.counts},
        "median_frequency": reply.median_frequency,
        "median_monetary": reply.median_monetary,
        "computed_at": computed_at(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


async def lifecycle(
    state: GatewayState,
    p: Principal,
    store: str | None = None,
    stage: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The members per lifecycle stage (new, active, declining, at_risk, churned)."""
    q = await query(state, p, store, limit, cursor, stage or "")
    reply = await state.clients.call(state.clients.loyalty.GetLifecycle, q, p)
    return {
        "scope": reply.scope,
        "counts": {c.segment: c.count for c in reply.counts},
        "computed_at": computed_at(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


async def recompute(state: GatewayState, request: Request, p: Principal) -> dict[str, Any]:
    """Recompute every member's segments now (they are recomputed nightly anyway), audited."""
    reply = await state.clients.call(
        state.clients.loyalty.RecomputeSegments, pb.RecomputeSegmentsRequest(), p, timeout=RECOMPUTE_TIMEOUT
    )
    await audit.record_alone(
        state, request, p, "segments.recompute", "segments", "all", "HQ", {"members": reply.members}
    )
    return {"members": reply.members, "computed_at": computed_at(reply)}


async def segment_members(state: GatewayState, p: Principal, segment: str, store_path: str = "") -> list[str]:
    """The member numbers of a quadrant or lifecycle stage, as loyalty last computed it, within
    the caller's scope or the org path ``store_path`` inside it (quadrants are relative to that
    population)."""
    req = pb.MembersInSegmentRequest(segment=segment, store_path=store_path)
    return list((await state.clients.call(state.clients.loyalty.MembersInSegment, req, p)).member_nos)
