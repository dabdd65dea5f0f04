"""Analytics (docs/api.md "Analytics and reports"): RFM scores, the four quadrants and the
lifecycle stages of the members in the caller's scope or a store inside it. The loyalty
service computes them (services/loyalty/segments.py); the gateway resolves the org code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from services.gateway import audit
from services.gateway.deps import State, permitted
from services.gateway.org import unit_path

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Store = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=64)]
QUADRANTS = ("ally", "butterfly", "barnacle", "stranger")
STAGES = ("new", "active", "declining", "at_risk", "churned")


def member_json(m: pb.MemberSegment) -> dict[str, Any]:
    return {
        "member_no": m.member_no, "home_store_path": m.home_store_path, "recency_days": m.recency_days,
        "frequency": m.frequency, "monetary": m.monetary, "r": m.r, "f": m.f, "m": m.m,
        "rfm": f"{m.r}{m.f}{m.m}", "quadrant": m.quadrant, "lifecycle": m.lifecycle,
    }  # fmt: skip


def _when(reply) -> str | None:  # type: ignore[no-untyped-def]
    t = reply.computed_at
    return t.ToDatetime().isoformat() + "Z" if t.seconds else None


async def _query(
    state, p, store: str | None, limit: int, cursor: str | None, segment: str = ""
) -> pb.SegmentQuery:  # type: ignore[no-untyped-def]
    q = pb.SegmentQuery(page={"limit": limit, "cursor": cursor or ""}, segment=segment)
    if store:
        q.store_path = await unit_path(state, p, store, field="store")
    return q


@router.get("/rfm")
async def rfm(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    reply = await state.clients.call(
        state.clients.loyalty.GetRfm, await _query(state, p, store, limit, cursor), p
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
        "computed_at": _when(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


@router.get("/quadrants")
async def quadrants(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    quadrant: Annotated[str | None, Query(pattern="^(" + "|".join(QUADRANTS) + ")$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    q = await _query(state, p, store, limit, cursor, quadrant or "")
    reply = await state.clients.call(state.clients.loyalty.GetQuadrants, q, p)
    return {
        "scope": reply.scope,
        "counts": {c.segment: c.count for c in reply.counts},
        "median_frequency": reply.median_frequency,
        "median_monetary": reply.median_monetary,
        "computed_at": _when(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


@router.get("/lifecycle")
async def lifecycle(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    stage: Annotated[str | None, Query(pattern="^(" + "|".join(STAGES) + ")$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    q = await _query(state, p, store, limit, cursor, stage or "")
    reply = await state.clients.call(state.clients.loyalty.GetLifecycle, q, p)
    return {
        "scope": reply.scope,
        "counts": {c.segment: c.count for c in reply.counts},
        "computed_at": _when(reply),
        "items": [member_json(m) for m in reply.items],
        "next_cursor": reply.page.next_cursor or None,
    }


@router.post("/segments/recompute")
async def recompute(
    request: Request, p: Annotated[Principal, Depends(permitted("analytics.recompute"))], state: State
) -> dict:
    """Recompute the segments now (they are recomputed nightly anyway)."""
    reply = await state.clients.call(
        state.clients.loyalty.RecomputeSegments, pb.RecomputeSegmentsRequest(), p, timeout=300
    )
    await audit.record_alone(
        state, request, p, "segments.recompute", "segments", "all", "HQ", {"members": reply.members}
    )
    return {"members": reply.members, "computed_at": _when(reply)}
