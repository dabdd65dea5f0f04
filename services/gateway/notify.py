"""Notification use cases the REST routes (routes/notify.py) and the pages share. The notify
service owns the deliveries and checks role and scope again with the forwarded token."""

from __future__ import annotations

from typing import Any

from chainclub.notify.v1 import notify_pb2 as pb
from kit.auth import Principal
from services.gateway.protojson import plain
from services.gateway.state import GatewayState


async def deliveries(
    state: GatewayState,
    p: Principal,
    member_no: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The notifications sent (or queued, skipped, dead) in the caller's scope, of one member
    or all, newest first; one page."""
    req = pb.ListDeliveriesRequest(
        member_no=member_no or "", status=status or "", page={"limit": limit, "cursor": cursor or ""}
    )
    reply = await state.clients.call(state.clients.notify.ListDeliveries, req, p)
    return {"items": [plain(d) for d in reply.deliveries], "next_cursor": reply.page.next_cursor or None}
