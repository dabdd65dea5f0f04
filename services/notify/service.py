"""Use cases of notify: templates (HQ edits them), deliveries and follow-ups created by the
consumers inside the inbox transaction, lists scoped by the caller, completing a follow-up."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.common.v1 import common_pb2
from chainclub.members.v1 import members_pb2
from chainclub.notify.v1 import notify_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.notify import domain, templates
from services.notify.context import NotifyContext
from services.notify.models import announcements, deliveries, follow_ups
from services.notify.models import templates as templates_table

EDITORS = {"hq_admin"}
# Who may send a dead delivery again: the managers (HQ, region, store), as the gateway's
# MANAGERS who manage the chain's other operational records; clerks and auditors only read.
MANAGERS = {"hq_admin", "region_manager", "store_manager"}
STAFF = {"hq_admin", "region_manager", "store_manager", "clerk", "auditor", "service"}


def _require(p: Principal, roles: set[str], what: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"role {p.role!r} may not {what}")


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    t = Timestamp()
    t.FromDatetime(value)
    return t


def _page(page: common_pb2.PageRequest) -> tuple[int, int]:
    limit = page.limit if 0 < page.limit <= 200 else 50
    return limit, int(page.cursor) if page.cursor.isdigit() else 0


def _next(offset: int, limit: int, rows: list) -> tuple[list, common_pb2.PageInfo]:  # type: ignore[type-arg]
    more = len(rows) > limit
    return rows[:limit], common_pb2.PageInfo(next_cursor=str(offset + limit) if more else "")


# --- templates ---------------------------------------------------------------------------


def template_pb(row: Any) -> pb.Template:
    kind = domain.event_kind(row.event)
    return pb.Template(
        event=row.event, channel=row.channel, locale=row.locale, subject=row.subject, body=row.body,
        marketing=kind.marketing, variables=list(kind.variables), updated_at=_ts(row.updated_at),
        updated_by=row.updated_by,
    )  # fmt: skip


async def list_templates(
    ctx: NotifyContext, p: Principal, req: pb.ListTemplatesRequest
) -> pb.ListTemplatesResponse:
    _require(p, STAFF, "read templates")
    query = select(templates_table).order_by(
        templates_table.c.event, templates_table.c.channel, templates_table.c.locale
    )
    for column, value in (("event", req.event), ("channel", req.channel), ("locale", req.locale)):
        if value:
            query = query.where(templates_table.c[column] == value)
    async with ctx.db.transaction() as session:
        rows = (await session.execute(query)).all()
    return pb.ListTemplatesResponse(templates=[template_pb(r) for r in rows])


async def _template(session: AsyncSession, event: str, channel: str, locale: str):  # type: ignore[no-untyped-def]
    return (
        await session.execute(
            select(templates_table).where(
                templates_table.c.event == event, templates_table.c.channel == channel,
                templates_table.c.locale == locale,
            )
        )
    ).first()  # fmt: skip


async def get_template(ctx: NotifyContext, p: Principal, req: pb.GetTemplateRequest) -> pb.Template:
    _require(p, STAFF, "read templates")
    domain.event_kind(req.event), domain.check_channel(req.channel)
    locale = domain.check_locale(req.locale)
    async with ctx.db.transaction() as session:
        row = await _template(session, req.event, req.channel, locale)
    if row is None:
        raise NotFound(f"no {locale} template for {req.event}/{req.channel}")
    return template_pb(row)


async def put_template(ctx: NotifyContext, p: Principal, req: pb.PutTemplateRequest) -> pb.Template:
    _require(p, EDITORS, "edit templates")
    kind = domain.event_kind(req.event)
    domain.check_channel(req.channel)
    locale = domain.check_locale(req.locale)
    if not req.body.strip():
        raise InvalidArgument("body is required", field="body")
    await templates.check(kind, "subject", req.subject)
    await templates.check(kind, "body", req.body)
    values = {"subject": req.subject, "body": req.body, "updated_by": p.sub, "updated_at": ctx.now()}
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                insert(templates_table)
                .values(event=req.event, channel=req.channel, locale=locale, **values)
                .on_conflict_do_update(index_elements=["event", "channel", "locale"], set_=values)
                .returning(*templates_table.c)
            )
        ).one()
    return template_pb(row)


async def preview_template(
    ctx: NotifyContext, p: Principal, req: pb.PreviewTemplateRequest
) -> pb.PreviewTemplateResponse:
    _require(p, EDITORS, "preview templates")  # it renders arbitrary text: the editors' tool
    kind = domain.event_kind(req.event)
    domain.check_channel(req.channel)
    subject, body = req.subject, req.body
    if not subject and not body:
        stored = await get_template(
            ctx, p, pb.GetTemplateRequest(event=req.event, channel=req.channel, locale=req.locale)
        )
        subject, body = stored.subject, stored.body
    templates.validate(kind, "subject", subject)
    templates.validate(kind, "body", body)
    variables = {**templates.sample_variables(kind), **dict(req.variables)}
    return pb.PreviewTemplateResponse(
        subject=await templates.render(subject, variables, "subject"),
        body=await templates.render(body, variables, "body"),
    )


# --- deliveries (created by consumers, in the inbox transaction) ---------------------------


async def add_deliveries(
    ctx: NotifyContext,
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    event: str,
    org_path: str,
    variables: dict[str, Any],
    member_no: str = "",
    recipient: str = "",
    channels: tuple[str, ...] | None = None,
    now: datetime,
    refresh: bool = False,
) -> int:
    """One pending delivery per channel that has a template for the event; a second call for
    the same event id (or delivery key) adds nothing (unique event x channel). With
    ``refresh``, a delivery not yet attempted takes these variables and org path instead (the
    better source of one consumption notice arrived second). Returns how many rows were added
    or refreshed."""
    kind = domain.event_kind(event)
    locale = ctx.settings.notify_default_locale
    if channels is None:
        channels = tuple(
            (
                await session.execute(
                    select(templates_table.c.channel).where(
                        templates_table.c.event == event, templates_table.c.locale == locale
                    )
                )
            ).scalars()
        )
    added = 0
    for channel in channels:
        statement = insert(deliveries).values(
            id=uuid.uuid4(), event_id=event_id, event=event, channel=channel, member_no=member_no,
            recipient=recipient, org_path=org_path, locale=locale, marketing=kind.marketing,
            variables=variables, next_attempt_at=now,
        )  # fmt: skip
        if refresh:
            statement = statement.on_conflict_do_update(
                constraint="uq_deliveries_event_channel",
                set_={"variables": statement.excluded.variables, "org_path": statement.excluded.org_path},
                where=(deliveries.c.status == "pending") & (deliveries.c.attempts == 0),
            )
        else:
            statement = statement.on_conflict_do_nothing(constraint="uq_deliveries_event_channel")
        result = await session.execute(statement.returning(deliveries.c.id))
        added += result.first() is not None
    return added


def delivery_pb(row: Any) -> pb.Delivery:
    return pb.Delivery(
        id=str(row.id), event_id=str(row.event_id), event=row.event, channel=row.channel, member_no=row.member_no,
        recipient=row.recipient, org_path=row.org_path, status=row.status, attempts=row.attempts,
        last_error=row.last_error, next_attempt_at=_ts(row.next_attempt_at), sent_at=_ts(row.sent_at),
        created_at=_ts(row.created_at), marketing=row.marketing,
    )  # fmt: skip


async def list_deliveries(
    ctx: NotifyContext, p: Principal, req: pb.ListDeliveriesRequest
) -> pb.ListDeliveriesResponse:
    _require(p, STAFF, "read deliveries")
    limit, offset = _page(req.page)
    query = select(deliveries).where(in_scope(deliveries.c.org_path, p.scope))
    if req.member_no:
        query = query.where(deliveries.c.member_no == req.member_no)
    if req.status:
        query = query.where(deliveries.c.status == req.status)
    query = query.order_by(deliveries.c.created_at.desc(), deliveries.c.id).offset(offset).limit(limit + 1)
    async with ctx.db.transaction() as session:
        rows, page = _next(offset, limit, (await session.execute(query)).all())
    return pb.ListDeliveriesResponse(deliveries=[delivery_pb(r) for r in rows], page=page)


async def retry_delivery(ctx: NotifyContext, p: Principal, req: pb.RetryDeliveryRequest) -> pb.Delivery:
    """A dead delivery (its retries exhausted) back to pending: attempts reset, due now, last
    error cleared, so the sender tries it again from the start (with its backoff and, again,
    ``notify_max_attempts`` before it is dead once more).

    Who: a manager (HQ, region or store manager): the roles that manage deliveries, because
    a resend reaches a member again; clerks and auditors only read the list. Which: what the
    caller may list, a delivery under the caller's scope (another scope's, or an unknown id,
    is not found). Under the row's lock, so two retries at once change it once: any status but
    ``dead`` (a pending one already retried, sent, skipped) is a conflict saying which."""
    _require(p, MANAGERS, "retry deliveries")
    try:
        delivery_id = uuid.UUID(req.id)
    except ValueError:
        raise domain.DeliveryNotFound(f"no delivery {req.id!r}") from None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(deliveries)
                .where(deliveries.c.id == delivery_id, in_scope(deliveries.c.org_path, p.scope))
                .with_for_update()
            )
        ).first()
        if row is None:
            raise domain.DeliveryNotFound(f"no delivery {req.id!r}")
        if row.status != "dead":
            raise domain.DeliveryNotDead(
                f"delivery {req.id} is {row.status}, not dead: only a dead delivery can be retried"
            )
        done = (
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(status="pending", attempts=0, next_attempt_at=ctx.now(), last_error="")
                .returning(*deliveries.c)
            )
        ).one()
    return delivery_pb(done)


async def list_announcements(
    ctx: NotifyContext, p: Principal, req: pb.ListAnnouncementsRequest
) -> pb.ListAnnouncementsResponse:
    _require(p, STAFF, "read announcements")
    limit, offset = _page(req.page)
    query = select(announcements).where(in_scope(announcements.c.org_path, p.scope))
    if req.member_no:
        query = query.where(announcements.c.member_no == req.member_no)
    query = (
        query.order_by(announcements.c.created_at.desc(), announcements.c.id).offset(offset).limit(limit + 1)
    )
    async with ctx.db.transaction() as session:
        rows, page = _next(offset, limit, (await session.execute(query)).all())
    return pb.ListAnnouncementsResponse(
        announcements=[
            pb.Announcement(
                id=str(r.id), member_no=r.member_no, org_path=r.org_path, event=r.event, subject=r.subject,
                body=r.body, created_at=_ts(r.created_at),
            )
            for r in rows
        ],
        page=page,
    )  # fmt: skip


# --- follow-ups (333) ------------------------------------------------------------------------


async def add_follow_ups(
    ctx: NotifyContext,
    session: AsyncSession,
    *,
    member_no: str,
    store_path: str,
    checkout_id: str,
    at: datetime,
) -> None:
    for plan in domain.follow_up_plan(at, ctx.tz):
        await session.execute(
            insert(follow_ups)
            .values(
                id=uuid.uuid4(), member_no=member_no, store_path=store_path, checkout_id=checkout_id,
                stage=plan.stage, due_on=plan.due_on, window_start=plan.window[0].strftime("%H:%M"),
                window_end=plan.window[1].strftime("%H:%M"),
            )
            .on_conflict_do_nothing(constraint="uq_follow_ups_checkout_stage")
        )  # fmt: skip


def follow_up_pb(row: Any) -> pb.FollowUp:
    return pb.FollowUp(
        id=str(row.id), member_no=row.member_no, store_path=row.store_path, stage=row.stage,
        due_on=row.due_on.isoformat(), window_start=row.window_start, window_end=row.window_end, status=row.status,
        outcome=row.outcome, notes=row.notes, completed_by=row.completed_by, completed_at=_ts(row.completed_at),
        visit_id=row.visit_id, checkout_id=row.checkout_id or "", purpose=row.purpose, batch_key=row.batch_key or "",
    )  # fmt: skip


async def list_follow_ups(
    ctx: NotifyContext, p: Principal, req: pb.ListFollowUpsRequest
) -> pb.ListFollowUpsResponse:
    _require(p, STAFF, "read follow-ups")
    store = req.store_path or p.scope
    if not p.may_access(store):
        raise NotFound(f"no store {store!r}")
    limit, offset = _page(req.page)
    query = select(follow_ups).where(
        in_scope(follow_ups.c.store_path, store), follow_ups.c.status == (req.status or "open")
    )
    if req.due_before:
        try:
            query = query.where(follow_ups.c.due_on < date.fromisoformat(req.due_before))
        except ValueError:
            raise InvalidArgument("due_before must be YYYY-MM-DD", field="due_before") from None
    query = query.order_by(follow_ups.c.due_on, follow_ups.c.id).offset(offset).limit(limit + 1)
    async with ctx.db.transaction() as session:
        rows, page = _next(offset, limit, (await session.execute(query)).all())
    return pb.ListFollowUpsResponse(follow_ups=[follow_up_pb(r) for r in rows], page=page)


async def complete_follow_up(
    ctx: NotifyContext, p: Principal, req: pb.CompleteFollowUpRequest
) -> pb.FollowUp:
    """Writes the visit record to members and marks the task done, under the row's lock:
    completing twice is a conflict, someone else's task not found.

    The follow-up's store may not be the member's home store (a first purchase elsewhere), so
    the caller's token would not reach the member in members. Scope stays honest this way:
    notify checks here that the caller's scope covers the follow-up's store, then writes the
    visit with its own service token on behalf of the caller (members records the caller as
    the staff member and the follow-up's store as the visit's store)."""
    _require(p, STAFF - {"auditor"}, "complete follow-ups")
    outcome = req.outcome.strip()
    if not outcome:
        raise InvalidArgument("outcome is required", field="outcome")
    try:
        follow_up_id = uuid.UUID(req.id)
    except ValueError:
        raise domain.FollowUpNotFound(f"no follow-up {req.id!r}") from None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(follow_ups).where(follow_ups.c.id == follow_up_id).with_for_update())
        ).first()
        if row is None or not p.may_access(row.store_path):
            raise domain.FollowUpNotFound(f"no follow-up {req.id!r}")
        if row.status != "open":
            raise domain.FollowUpCompleted(f"follow-up {req.id} was completed already")
        visit = await ctx.members.add_visit(
            members_pb2.AddVisitRequest(
                member_no=row.member_no, channel=req.channel or "phone", outcome=outcome, notes=req.notes,
                store_path=row.store_path, on_behalf_of=p.sub,
            ),
        )  # fmt: skip
        done = (
            await session.execute(
                update(follow_ups)
                .where(follow_ups.c.id == follow_up_id)
                .values(
                    status="done", outcome=outcome, notes=req.notes, completed_by=p.sub,
                    completed_at=ctx.now(), visit_id=visit.id,
                )
                .returning(*follow_ups.c)
            )
        ).one()  # fmt: skip
    return follow_up_pb(done)
