"""Notifications, templates, follow-ups and announcements (docs/api.md "Notifications, follow-ups,
alerts, audit"). The notify service owns them and checks role and scope again with the forwarded
token; the gateway resolves org codes and audits the changes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from chainclub.notify.v1 import notify_pb2 as pb
from kit.auth import Principal
from services.gateway import notify
from services.gateway.deps import State, permitted
from services.gateway.protojson import plain
from services.gateway.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["notifications"])

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=128)]
Locale = Annotated[str | None, Query(max_length=16, description="default: zh-CN")]


class TemplateBody(Strict):
    locale: str | None = Field(default=None, max_length=16, description="default: zh-CN")
    subject: str = Field(default="", max_length=1000)
    body: str = Field(min_length=1, max_length=10_000)


class PreviewBody(Strict):
    locale: str | None = Field(default=None, max_length=16)
    subject: str = Field(default="", max_length=1000, description="with body: preview this text")
    body: str = Field(default="", max_length=10_000, description="both empty: the stored template")
    variables: dict[str, str] = Field(default_factory=dict, description="missing ones get sample values")


class CompleteBody(Strict):
    outcome: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=2000)
    channel: str | None = Field(default=None, max_length=32, description="the visit's channel; default phone")


def _page(limit: int, cursor: str | None) -> dict:
    return {"limit": limit, "cursor": cursor or ""}


@router.get("/notifications")
async def notifications(
    p: Annotated[Principal, Depends(permitted("notifications.read"))],
    state: State,
    member_no: Annotated[str | None, Query(max_length=32)] = None,
    status: Literal["pending", "sent", "skipped", "dead"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    return await notify.deliveries(state, p, member_no, status, limit, cursor)


@router.post("/notifications/{delivery_id}/retry")
async def retry_notification(
    delivery_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("notifications.retry"))],
    state: State,
) -> dict:
    """A dead delivery back to pending, for the sender to try again from the first attempt;
    any other status is 409, another scope's delivery 404."""
    return await notify.retry_delivery(state, request, p, delivery_id)


@router.get("/notify/templates")
async def templates(
    p: Annotated[Principal, Depends(permitted("notify.templates.read"))],
    state: State,
    event: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    locale: Locale = None,
) -> dict:
    return await notify.templates(state, p, event, channel, locale)


@router.get("/notify/templates/{event}/{channel}")
async def template(
    event: str,
    channel: str,
    p: Annotated[Principal, Depends(permitted("notify.templates.read"))],
    state: State,
    locale: Locale = None,
) -> dict:
    return await notify.template(state, p, event, channel, locale)


@router.put("/notify/templates/{event}/{channel}")
async def put_template(
    event: str,
    channel: str,
    body: TemplateBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("notify.templates.write"))],
    state: State,
) -> dict:
    """Validated by notify: a syntax error or a variable the event does not offer is a 422
    naming it."""
    return await notify.put_template(state, request, p, event, channel, body.locale, body.subject, body.body)


@router.post("/notify/templates/{event}/{channel}/preview")
async def preview_template(
    event: str,
    channel: str,
    body: PreviewBody,
    p: Annotated[Principal, Depends(permitted("notify.templates.write"))],
    state: State,
) -> dict:
    """The template rendered with sample values (or the given ones); nothing is stored. For
    those who edit templates: it renders any text the caller sends."""
    return await notify.preview_template(state, p, event, channel, body.locale, body.subject, body.body,
                                         body.variables)  # fmt: skip


@router.get("/follow-ups")
async def follow_ups(
    p: Annotated[Principal, Depends(permitted("followups.read"))],
    state: State,
    store: Annotated[
        str | None, Query(max_length=64, description="org unit code; default: the caller's")
    ] = None,
    due_before: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, exclusive")
    ] = None,
    status: Literal["open", "done"] = "open",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    return await notify.follow_ups(state, p, store, due_before, status, limit, cursor)


@router.post("/follow-ups/{follow_up_id}/complete")
async def complete_follow_up(
    follow_up_id: str,
    body: CompleteBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("followups.complete"))],
    state: State,
) -> dict:
    """Writes the visit record to the member and closes the task; a second completion is 409."""
    return await notify.complete_follow_up(
        state, request, p, follow_up_id, body.outcome, body.notes, body.channel
    )


@router.get("/announcements")
async def announcements(
    p: Annotated[Principal, Depends(permitted("announcements.read"))],
    state: State,
    member_no: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict:
    req = pb.ListAnnouncementsRequest(member_no=member_no or "", page=_page(limit, cursor))
    reply = await state.clients.call(state.clients.notify.ListAnnouncements, req, p)
    return {"items": [plain(a) for a in reply.announcements], "next_cursor": reply.page.next_cursor or None}
