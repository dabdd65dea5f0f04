"""Notification use cases the REST routes (routes/notify.py) and the pages share. The notify
service owns the deliveries and checks role and scope again with the forwarded token."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from chainclub.members.v1 import members_pb2 as mpb
from chainclub.notify.v1 import notify_pb2 as pb
from kit.auth import Principal
from services.gateway import audit
from services.gateway.org import unit_path
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


async def retry_delivery(
    state: GatewayState, request: Request, p: Principal, delivery_id: str
) -> dict[str, Any]:
    """A dead delivery back to pending (attempts reset, due now) for notify's sender, audited.
    Notify decides: managers only, a delivery in the caller's scope (else not found), and only
    a dead one (any other status is a conflict)."""
    d = await state.clients.call(
        state.clients.notify.RetryDelivery, pb.RetryDeliveryRequest(id=delivery_id), p
    )
    await audit.record_alone(state, request, p, "notify.delivery.retry", "delivery", d.id, d.org_path,
                             {"event": d.event, "channel": d.channel, "member_no": d.member_no})  # fmt: skip
    return plain(d)


# --- templates (one per event, channel and locale) ----------------------------------------------
async def templates(
    state: GatewayState, p: Principal, event: str | None = None, channel: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The templates, filtered by event, channel and locale (each optional)."""
    req = pb.ListTemplatesRequest(event=event or "", channel=channel or "", locale=locale or "")
    reply = await state.clients.call(state.clients.notify.ListTemplates, req, p)
    return {"items": [plain(t) for t in reply.templates]}


async def template(state: GatewayState, p: Principal, event: str, channel: str, locale: str | None) -> dict:
    req = pb.GetTemplateRequest(event=event, channel=channel, locale=locale or "")
    return plain(await state.clients.call(state.clients.notify.GetTemplate, req, p))


async def put_template(
    state: GatewayState, request: Request, p: Principal, event: str, channel: str, locale: str | None,
    subject: str, body: str,
) -> dict:  # fmt: skip
    """Store a template and audit it. Notify validates it: a syntax error or a variable the
    event does not offer is refused (invalid_argument naming the field: subject or body)."""
    req = pb.PutTemplateRequest(event=event, channel=channel, locale=locale or "", subject=subject, body=body)
    t = await state.clients.call(state.clients.notify.PutTemplate, req, p)
    await audit.record_alone(state, request, p, "notify.template.put", "template",
                             f"{t.event}/{t.channel}/{t.locale}", "HQ",
                             {"locale": locale, "subject": subject, "body": body})  # fmt: skip
    return plain(t)


async def preview_template(
    state: GatewayState, p: Principal, event: str, channel: str, locale: str | None, subject: str = "",
    body: str = "", variables: dict[str, str] | None = None,
) -> dict:  # fmt: skip
    """The template (the given text, or the stored one when both are empty) rendered with
    sample values (or the given ones); nothing is stored."""
    req = pb.PreviewTemplateRequest(event=event, channel=channel, locale=locale or "", subject=subject,
                                    body=body, variables=variables or {})  # fmt: skip
    return plain(await state.clients.call(state.clients.notify.PreviewTemplate, req, p))


# --- follow-ups (回访: the 333 tasks after a first purchase at a store) ----------------------------
async def follow_ups(
    state: GatewayState,
    p: Principal,
    store: str | None = None,
    due_before: str | None = None,
    status: str = "open",
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The follow-up tasks of the caller's scope, or of the org unit ``store`` inside it (unknown
    or outside: 422 on ``store``), due before ``due_before`` (YYYY-MM-DD, exclusive; None = any),
    earliest due first; one page."""
    store_path = await unit_path(state, p, store, field="store") if store else p.scope
    req = pb.ListFollowUpsRequest(
        store_path=store_path, due_before=due_before or "", status=status,
        page={"limit": limit, "cursor": cursor or ""},
    )  # fmt: skip
    reply = await state.clients.call(state.clients.notify.ListFollowUps, req, p)
    return {"items": [plain(f) for f in reply.follow_ups], "next_cursor": reply.page.next_cursor or None}


async def complete_follow_up(
    state: GatewayState,
    request: Request,
    p: Principal,
    follow_up_id: str,
    outcome: str,
    notes: str = "",
    channel: str | None = None,
) -> dict[str, Any]:
    """Closes the task with its outcome, audited; notify writes the visit record on the member
    (channel default phone). A second completion is a conflict, another scope's task not found."""
    req = pb.CompleteFollowUpRequest(id=follow_up_id, outcome=outcome, notes=notes, channel=channel or "")
    f = await state.clients.call(state.clients.notify.CompleteFollowUp, req, p)
    await audit.record_alone(state, request, p, "followup.complete", "follow_up", f.id, f.store_path,
                             {"member_no": f.member_no, "stage": f.stage, "outcome": f.outcome,
                              "visit_id": f.visit_id})  # fmt: skip
    return plain(f)


async def follow_up_members(
    state: GatewayState, p: Principal, member_nos: list[str]
) -> dict[str, dict[str, str]]:
    """Name and phone of the members of some follow-ups, as the members service shows them to
    the caller (masked unless the caller's role may see them), by member number. A member
    outside the caller's scope (a first purchase away from the home store) is left out."""
    wanted = sorted(set(member_nos))
    if not wanted:
        return {}
    req = mpb.SearchMembersRequest(member_nos=wanted, page={"limit": min(len(wanted), 500)})
    reply = await state.clients.call(state.clients.members.SearchMembers, req, p)
    return {m.member_no: {"name": m.name, "phone": m.phone} for m in reply.members}
