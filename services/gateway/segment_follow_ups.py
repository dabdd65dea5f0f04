"""Follow-ups for a segment (``POST /api/v1/analytics/segments/{segment}/follow-ups`` and the
segments screen's "create follow-ups" button): the gateway pages through the segment's members
as loyalty last computed them (the caller's scope or an org unit inside it), and notify
creates one task per member at the member's home store. The Idempotency-Key is the batch key:
sending the same request again creates nothing twice."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from pydantic import Field

from chainclub.notify.v1 import notify_pb2 as npb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import analytics, audit
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

SEGMENTS = analytics.QUADRANTS + analytics.STAGES
READ_PAGE = 500  # members per segment page read from loyalty
CREATE_CHUNK = 5000  # targets per CreateFollowUps call


class SegmentFollowUpsBody(Strict):
    purpose: str = Field(min_length=1, max_length=500)  # what to call about (the script)
    due_on: date  # the chain's local date, not in the past
    store: str | None = Field(default=None, max_length=64)  # an org unit inside the caller's scope


async def segment_targets(
    state: GatewayState, p: Principal, segment: str, store: str | None
) -> list[tuple[str, str]]:
    """(member number, home store path) of every member of the segment, page by page."""
    read = analytics.quadrants if segment in analytics.QUADRANTS else analytics.lifecycle
    targets: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        page = await read(state, p, store, segment, READ_PAGE, cursor)
        targets.extend((m["member_no"], m["home_store_path"]) for m in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return targets


async def create_for_segment(
    state: GatewayState, request: Request, p: Principal, key: str, segment: str, body: SegmentFollowUpsBody
) -> dict[str, Any]:
    """One follow-up per member of ``segment``, once per ``key`` (the scoped Idempotency-Key),
    audited. -> ``{"segment","store","members","created","existing","due_on","purpose"}``."""
    if segment not in SEGMENTS:
        raise InvalidArgument(f"segment must be one of {', '.join(SEGMENTS)}", field="segment")
    purpose = body.purpose.strip()
    if not purpose:
        raise InvalidArgument("purpose must not be blank", field="purpose")
    targets = await segment_targets(state, p, segment, body.store)
    created = existing = 0
    for start in range(0, len(targets), CREATE_CHUNK):
        chunk = targets[start : start + CREATE_CHUNK]
        req = npb.CreateFollowUpsRequest(
            batch_key=key, purpose=purpose, due_on=body.due_on.isoformat(),
            targets=[npb.FollowUpTarget(member_no=no, home_store_path=path) for no, path in chunk],
        )  # fmt: skip
        reply = await state.clients.call(state.clients.notify.CreateFollowUps, req, p, timeout=60)
        created, existing = created + reply.created, existing + reply.existing
    if created:
        await audit.record_alone(
            state, request, p, "followups.create", "segment", segment, p.scope,
            {"store": body.store, "members": len(targets), "created": created, "due_on": body.due_on.isoformat()},
        )  # fmt: skip
    return {
        "segment": segment, "store": body.store, "members": len(targets), "created": created,
        "existing": existing, "due_on": body.due_on.isoformat(), "purpose": purpose,
    }  # fmt: skip
