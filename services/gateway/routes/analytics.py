"""Analytics (docs/api.md "Analytics and reports"): RFM scores, the four quadrants and the
lifecycle stages of the members in the caller's scope or a store inside it. The loyalty
service computes them (services/loyalty/segments.py); the use cases are in
services/gateway/analytics.py, shared with the console's segments screen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kit.auth import Principal
from services.gateway import analytics, segment_follow_ups
from services.gateway.analytics import QUADRANTS, STAGES
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.segment_follow_ups import SegmentFollowUpsBody

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Store = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=64)]


@router.get("/rfm")
async def rfm(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    return await analytics.rfm(state, p, store, limit, cursor)


@router.get("/quadrants")
async def quadrants(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    quadrant: Annotated[str | None, Query(pattern="^(" + "|".join(QUADRANTS) + ")$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    return await analytics.quadrants(state, p, store, quadrant, limit, cursor)


@router.get("/lifecycle")
async def lifecycle(
    p: Annotated[Principal, Depends(permitted("analytics.read"))],
    state: State,
    store: Store = None,
    stage: Annotated[str | None, Query(pattern="^(" + "|".join(STAGES) + ")$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    return await analytics.lifecycle(state, p, store, stage, limit, cursor)


@router.post("/segments/recompute")
async def recompute(
    request: Request, p: Annotated[Principal, Depends(permitted("analytics.recompute"))], state: State
) -> dict:
    """Recompute the segments now (they are recomputed nightly anyway)."""
    return await analytics.recompute(state, request, p)


@router.post("/segments/{segment}/follow-ups", status_code=201)
async def create_segment_follow_ups(
    segment: Annotated[str, Path(pattern="^(" + "|".join(QUADRANTS + STAGES) + ")$")],
    body: SegmentFollowUpsBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("followups.create"))],
    key: IdempotencyKey,
    state: State,
) -> dict:
    """A follow-up task for every member of a quadrant or lifecycle stage (of the caller's scope
    or ``store``), each at the member's home store; the same Idempotency-Key creates nothing
    twice."""
    return await segment_follow_ups.create_for_segment(state, request, p, key, segment, body)
