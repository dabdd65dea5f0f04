"""The console's notifications (通知: the templates of each event, channel and language, edited by
HQ with a live preview; the deliveries with their status) and the audit log (审计日志: filtered,
paged, exported as CSV — the export itself is audited).

Every call goes through the use cases the REST routes share (services/gateway/notify.py and
audit.py); the notify service validates templates and keeps each caller inside its scope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import audit, notify
from services.gateway.deps import Page
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, field_errors, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ConsoleCtx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]
AuditCtx = Annotated[PageContext, Depends(gate("hq_admin", "auditor"))]

EVENTS: dict[str, str] = {
    "welcome": N_("Welcome"),
    "payment": N_("Payment notice"),
    "top_up": N_("Top-up notice"),
    "points_earned": N_("Points earned notice"),
    "tier_changed": N_("Tier changed"),
    "coupon_issued": N_("Coupon issued"),
    "card_status": N_("Card status changed"),
    "birthday": N_("Birthday greeting"),
    "anniversary": N_("Membership anniversary"),
    "points_expiring": N_("Points expiring"),
    "coupon_expiring": N_("Coupon expiring"),
    "daily_summary": N_("Daily business summary"),
    "risk_alert": N_("Risk alert"),
}
CHANNELS: dict[str, str] = {
    "sms": N_("SMS"),
    "wechat": N_("WeChat"),
    "email": N_("Email"),
    "announcement": N_("Announcement"),
}
LOCALES: dict[str, str] = {"zh-CN": "中文", "en": "English"}
STATUSES = ("pending", "sent", "skipped", "dead")


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


def _names(ctx: PageContext) -> dict[str, Any]:
    return {
        "event_name": lambda code: ctx._(EVENTS[code]) if code in EVENTS else code,
        "channel_name": lambda code: ctx._(CHANNELS[code]) if code in CHANNELS else code,
        "locales": LOCALES,
    }


def _locale(text: str | None) -> str:
    return text if text in LOCALES else "zh-CN"


# --- templates -----------------------------------------------------------------------------------
@router.get("/console/notifications")
async def templates_page(ctx: ConsoleCtx, event: str = "", channel: str = "", locale: str = "") -> Response:
    _require(ctx, "notify.templates.read")
    f = {
        "event": event if event in EVENTS else "",
        "channel": channel if channel in CHANNELS else "",
        "locale": locale if locale in LOCALES else "",
    }
    found = await notify.templates(ctx.state, ctx.p, f["event"], f["channel"], f["locale"])
    return ctx.render("console/notify/templates.html", items=found["items"], f=f, events=EVENTS,
                      channels=CHANNELS, tab="templates", **_names(ctx))  # fmt: skip


async def _editor(
    ctx: PageContext, event: str, channel: str, locale: str, status: int = 200, **values: Any
) -> Response:
    t = await notify.template(ctx.state, ctx.p, event, channel, locale)
    form = values.pop("form", None) or {"subject": t["subject"], "body": t["body"]}
    preview, errors = await _preview(ctx, event, channel, locale, form)
    page = {"errors": {}, "saved": None, **values}
    if page["errors"]:
        errors = page["errors"]
    return ctx.render("console/notify/editor.html", status=status, t=t, form=form, preview=preview,
                      preview_errors=errors, tab="templates", **page, **_names(ctx))  # fmt: skip


async def _preview(
    ctx: PageContext, event: str, channel: str, locale: str, form: dict[str, str]
) -> tuple[dict | None, dict[str, str]]:
    """The text rendered with sample values, or the service's message per field."""
    subject, body = form.get("subject", ""), form.get("body", "")
    if not body.strip():
        return None, {"body": ctx._("Write the message text.")}
    try:
        return await notify.preview_template(ctx.state, ctx.p, event, channel, locale, subject, body), {}
    except ChainclubError as exc:  # refused (too costly, say) or too slow: shown by the form
        if exc.reason not in {"invalid_argument", "unavailable"}:
            raise
        return None, _template_errors(exc)


def _template_errors(exc: ChainclubError) -> dict[str, str]:
    errors = field_errors(exc)
    return {("subject" if k == "subject" else "body" if k == "body" else "_"): v for k, v in errors.items()}


@router.get("/console/notifications/templates/{event}/{channel}")
async def editor(event: str, channel: str, ctx: ConsoleCtx, locale: str = "") -> Response:
    """HQ only: the other console roles see the list of templates."""
    _require(ctx, "notify.templates.write")
    return await _editor(ctx, event, channel, _locale(locale))


async def _text(ctx: PageContext) -> tuple[str, dict[str, str]]:
    form = await ctx.form()
    fields = {k: str(form.get(k) or "") for k in ("subject", "body")}
    return _locale(str(form.get("locale") or "")), fields


@router.post("/console/notifications/templates/{event}/{channel}/preview")
async def preview(event: str, channel: str, ctx: ConsoleCtx) -> Response:
    _require(ctx, "notify.templates.write")
    locale, form = await _text(ctx)
    shown, errors = await _preview(ctx, event, channel, locale, form)
    return ctx.render("console/notify/_preview.html", status=422 if errors else 200, preview=shown,
                      preview_errors=errors, oob=True)  # fmt: skip


@router.post("/console/notifications/templates/{event}/{channel}")
async def save(event: str, channel: str, ctx: ConsoleCtx) -> Response:
    _require(ctx, "notify.templates.write")
    locale, form = await _text(ctx)
    errors: dict[str, str] = {}
    if not form["body"].strip():
        errors["body"] = ctx._("Write the message text.")
    elif len(form["body"]) > 10_000 or len(form["subject"]) > 1000:
        errors["body"] = ctx._("The text is too long (at most 10,000 characters, the subject 1,000).")
    if not errors:
        try:
            await notify.put_template(ctx.state, ctx.request, ctx.p, event, channel, locale, form["subject"],
                                      form["body"])  # fmt: skip
        except ChainclubError as exc:
            if exc.reason != "invalid_argument":
                raise
            errors = _template_errors(exc)
        else:
            return await _editor(
                ctx, event, channel, locale, saved=ctx._("Saved. New messages use this text.")
            )
    return await _editor(ctx, event, channel, locale, 422, form=form, errors=errors)


# --- deliveries ----------------------------------------------------------------------------------
@router.get("/console/notifications/deliveries")
async def deliveries_page(
    ctx: ConsoleCtx, member_no: str = "", status: str = "", cursor: str = ""
) -> Response:  # fmt: skip
    _require(ctx, "notifications.read")
    return await _deliveries(ctx, member_no, status, cursor)


async def _deliveries(
    ctx: PageContext, member_no: str, status: str, cursor: str = "", code: int = 200, **notice: str
) -> Response:  # fmt: skip
    f = {"member_no": member_no.strip()[:32], "status": status if status in STATUSES else ""}
    found = await notify.deliveries(ctx.state, ctx.p, f["member_no"] or None, f["status"] or None, 50,
                                    cursor[:128] or None)  # fmt: skip
    now = datetime.now(UTC)
    items = [{**d, "deferred": _deferred(d, now)} for d in found["items"]]
    query = {k: v for k, v in f.items() if v}
    return ctx.render("console/notify/deliveries.html", status=code, items=items, next_cursor=found["next_cursor"],
                      f=f, statuses=STATUSES, query=query, tab="deliveries", done=notice.get("done"),
                      refused=notice.get("refused"), **_names(ctx))  # fmt: skip


@router.post("/console/notifications/deliveries/{delivery_id}/retry")
async def retry_delivery(delivery_id: str, ctx: ConsoleCtx) -> Response:
    """A dead delivery back to pending (managers, in their scope); the list is shown again with
    the same filters and what happened."""
    _require(ctx, "notifications.retry")
    form = await ctx.form()
    member_no, status = str(form.get("member_no") or ""), str(form.get("status") or "")
    try:
        await notify.retry_delivery(ctx.state, ctx.request, ctx.p, delivery_id)
    except ChainclubError as exc:
        if exc.reason not in ("conflict", "not_found"):
            raise
        refused = (
            ctx._("This delivery is no longer given up on: it was retried or sent already.")
            if exc.reason == "conflict"
            else ctx._("No such delivery in your scope.")
        )
        code = 409 if exc.reason == "conflict" else 404
        return await _deliveries(ctx, member_no, status, code=code, refused=refused)
    done = ctx._("Queued again: the message is sent at the next round.")
    return await _deliveries(ctx, member_no, status, done=done)


def _deferred(d: dict, now: datetime) -> bool:
    """A pending delivery waiting for a later time (quiet hours, a retry or a busy provider)."""
    at = d.get("next_attempt_at")
    if d.get("status") != "pending" or not at:
        return False
    try:
        return datetime.fromisoformat(str(at).replace("Z", "+00:00")) > now
    except ValueError:
        return False


# --- audit log -----------------------------------------------------------------------------------
TARGETS = ("member", "card", "template", "user", "org_unit", "adjustment", "audit_log")


def _audit_filters(ctx: PageContext) -> tuple[dict[str, str], audit.Filters, dict[str, str]]:
    q = ctx.request.query_params
    form = {
        k: (q.get(k) or "").strip()[:200]
        for k in ("actor", "action", "target_type", "target_id", "from", "to")
    }
    errors: dict[str, str] = {}
    tz = ZoneInfo(ctx.state.settings.chain_timezone)
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    for name in ("from", "to"):
        if form[name]:
            try:
                day = date.fromisoformat(form[name][:10])
            except ValueError:
                errors[name] = ctx._("Enter a date as YYYY-MM-DD.")
                continue
            if name == "to":
                day += timedelta(days=1)
            bounds[name] = datetime.combine(day, time(), tz)
    if bounds["from"] and bounds["to"] and bounds["to"] <= bounds["from"]:
        errors["to"] = ctx._("The end date is before the start date.")
    f = audit.Filters(
        actor=form["actor"] or None,
        action=form["action"][:64] or None,
        target_type=form["target_type"] or None,
        target_id=form["target_id"] or None,
        since=bounds["from"],
        until=bounds["to"],
    )
    return form, f, errors


@router.get("/console/audit")
async def audit_page(ctx: AuditCtx, cursor: str = "") -> Response:
    _require(ctx, "audit.read")
    form, f, errors = _audit_filters(ctx)
    found: dict[str, Any] = {"items": [], "next_cursor": None}
    if not errors:
        page = Page(50, None)
        if cursor:
            try:
                page = Page(50, int(cursor))
            except ValueError:
                errors["_"] = ctx._("That page of the log no longer exists; start from the newest.")
        if not errors:
            found = await audit.entries(ctx.state, ctx.p, f, page)
    items = [
        {**e, "detail_text": json.dumps(e["detail"], ensure_ascii=False, indent=1)} for e in found["items"]
    ]
    next_cursor = str(items[-1]["id"]) if found["next_cursor"] and items else None
    query = {k: v for k, v in form.items() if v}
    return ctx.render("console/notify/audit.html", status=422 if errors else 200, items=items,
                      next_cursor=next_cursor, form=form, errors=errors, query=query, targets=TARGETS,
                      tab="audit")  # fmt: skip


@router.get("/console/audit/export.csv")
async def audit_export(ctx: AuditCtx) -> Response:
    _require(ctx, "audit.read")
    _form, f, errors = _audit_filters(ctx)
    if errors:
        name, message = next(iter(errors.items()))
        raise InvalidArgument(message, field=name)
    return ctx.finish(await audit.export_csv(ctx.state, ctx.request, ctx.p, f))
