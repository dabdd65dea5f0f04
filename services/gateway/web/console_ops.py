"""The console's operations screens: approvals (审批) of stored-value adjustments by a second HQ
admin (or their rejection with a reason), risk alerts (风险) with the transactions behind them, and reports (报表: sales, the daily
business summary, the inter-store settlement of stored value) with their XLSX downloads.

Every figure comes from the use cases the REST routes call (services/gateway/wallet.py,
reports.py, daily_summary.py); the services keep each caller inside its scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import daily_summary, reports, wallet
from services.gateway.deps import scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.i18n import parse_yuan

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ApprovalsCtx = Annotated[PageContext, Depends(gate("hq_admin", "auditor"))]
ManagersCtx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

REFUSALS = {
    "forbidden": N_("You requested this adjustment: another HQ admin must approve it."),
    "conflict": N_("This adjustment is no longer waiting for approval."),
    "not_found": N_("There is no such adjustment."),
}


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}


# --- approvals (审批) ------------------------------------------------------------------------------
async def _approvals(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    pending = await wallet.adjustments(ctx.state, ctx.p, "pending_approval")
    applied = (await wallet.adjustments(ctx.state, ctx.p, "applied"))[:20]
    page = {"form": {}, "errors": {}, "key": new_key(), "done": None, "refused": None, "reject_errors": {},
            "reject_reasons": {}, **values}  # fmt: skip
    return ctx.render("console/ops/approvals.html", status=status, pending=pending, applied=applied, **page)


@router.get("/console/approvals")
async def approvals(ctx: ApprovalsCtx) -> Response:
    return await _approvals(ctx)


@router.post("/console/approvals/request")
async def request_adjustment(ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    form = await _fields(ctx)
    errors: dict[str, str] = {}
    text = form.get("amount", "")
    try:
        amount = -parse_yuan(text[1:]) if text.startswith("-") else parse_yuan(text)
        if amount == 0:
            raise ValueError(text)
    except (ValueError, ArithmeticError):
        errors["amount"] = ctx._("Enter a non-zero amount in yuan, e.g. 1200 or -50.50.")
        amount = 0
    if not form.get("card_no"):
        errors["card_no"] = ctx._("Enter the card number.")
    if not form.get("reason"):
        errors["reason"] = ctx._("Say why the balance is adjusted.")
    if not errors:
        try:
            body = wallet.AdjustmentBody.model_validate(
                {"card_no": form["card_no"], "amount": amount, "reason": form["reason"],
                 "bucket": form.get("bucket") or "principal"}
            )  # fmt: skip
            key = scoped_key(ctx.p, form.get("key", ""))
            adj = await wallet.request_adjustment(ctx.state, ctx.request, ctx.p, key, body)
        except ValidationError as exc:
            errors = field_errors(exc)
        except ChainclubError as exc:
            if exc.reason == "not_found":
                errors = {"card_no": ctx._("There is no card %(card)s in your scope.", card=form["card_no"])}
            elif exc.reason in ("invalid_argument", "conflict", "forbidden", "idempotency_key_reused"):
                errors = field_errors(exc)
            else:
                raise
        else:
            if adj["status"] == "applied":
                done = ctx._("Applied at once: %(amount)s on card %(card)s.", amount=ctx.fmt.money(adj["amount"]),
                             card=adj["card_no"])  # fmt: skip
            else:
                done = ctx._("Over the approval threshold: %(amount)s on card %(card)s waits for another HQ admin.",
                             amount=ctx.fmt.money(adj["amount"]), card=adj["card_no"])  # fmt: skip
            return await _approvals(ctx, 201, done=done)
    if errors.get("_") is None and set(errors) - {"card_no", "amount", "reason", "bucket"}:
        errors["_"] = "; ".join(
            v for k, v in errors.items() if k not in ("card_no", "amount", "reason", "bucket")
        )
    return await _approvals(ctx, 422, form=form, errors=errors, key=form.get("key") or new_key())


@router.post("/console/approvals/{adjustment_id}/approve")
async def approve(adjustment_id: str, ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    try:
        adj = await wallet.approve_adjustment(ctx.state, ctx.request, ctx.p, adjustment_id)
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        status = {"forbidden": 403, "conflict": 409, "not_found": 404}[exc.reason]
        return await _approvals(ctx, status, refused=ctx._(REFUSALS[exc.reason]), refused_detail=exc.detail)
    done = ctx._("Approved: %(amount)s on card %(card)s is applied.", amount=ctx.fmt.money(adj["amount"]),
                 card=adj["card_no"])  # fmt: skip
    return await _approvals(ctx, done=done)


@router.post("/console/approvals/{adjustment_id}/reject")
async def reject(adjustment_id: str, ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    reason = (await _fields(ctx)).get("reason", "")
    if not reason or len(reason) > 1000:
        message = ctx._("Say why the adjustment is rejected (at most 1000 characters).")
        return await _approvals(ctx, 422, reject_errors={adjustment_id: message},
                                reject_reasons={adjustment_id: reason})  # fmt: skip
    try:
        adj = await wallet.reject_adjustment(ctx.state, ctx.request, ctx.p, adjustment_id, reason)
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        status = {"forbidden": 403, "conflict": 409, "not_found": 404}[exc.reason]
        refused = ctx._("Only an HQ admin may reject an adjustment.") if exc.reason == "forbidden" else None
        return await _approvals(
            ctx, status, refused=refused or ctx._(REFUSALS[exc.reason]), refused_detail=exc.detail
        )
    done = ctx._("Rejected: %(amount)s on card %(card)s; nothing was moved.", amount=ctx.fmt.money(adj["amount"]),
                 card=adj["card_no"])  # fmt: skip
    return await _approvals(ctx, done=done)


# --- risk (风险) ---------------------------------------------------------------------------------
async def _risk(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    show = ctx.request.query_params.get("show")
    show = show if show in ("open", "acknowledged") else "open"
    cursor = ctx.request.query_params.get("cursor") or None
    alerts = await wallet.risk_alerts(ctx.state, ctx.p, show, 50, cursor[:128] if cursor else None)
    page = {"errors": {}, "notes": {}, "done": None, **values}
    return ctx.render("console/ops/risk.html", status=status, alerts=alerts["items"],
                      next_cursor=alerts["next_cursor"], show=show, **page)  # fmt: skip


@router.get("/console/risk")
async def risk(ctx: ManagersCtx) -> Response:
    return await _risk(ctx)


@router.get("/console/risk/transactions")
async def alert_transactions(ctx: ManagersCtx, card_no: str = "", at: str = "", kind: str = "") -> Response:
    """The card's transactions up to the alert, the one that raised it marked (the wallet writes
    an alert at the instant of its transaction)."""
    _require(ctx, "wallet.transactions")
    items: list[dict] = []
    refused = None
    try:
        page = await wallet.transactions(ctx.state, ctx.p, card_no[:32], 50)
    except ChainclubError as exc:
        if exc.reason not in ("not_found", "forbidden", "invalid_argument"):
            raise
        refused = ctx._("The card's transactions are outside your scope.")
    else:
        when = _instant(at)
        items = [
            {**t, "raised": _instant(t["created_at"]) == when and t["kind"] == kind}
            for t in page["items"]
            if when is None or (_instant(t["created_at"]) or when) <= when
        ][:10]
    return ctx.render("console/ops/_alert_transactions.html", items=items, refused=refused)


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@router.post("/console/risk/alerts/{alert_id}/ack")
async def acknowledge(alert_id: str, ctx: ManagersCtx) -> Response:
    _require(ctx, "risk.alerts.ack")
    form = await _fields(ctx)
    note = form.get("note", "")
    if not note or len(note) > 500:
        message = ctx._("Write a note of what was checked (at most 500 characters).")
        return await _risk(ctx, 422, errors={alert_id: message}, notes={alert_id: note})
    try:
        alert = await wallet.acknowledge_alert(ctx.state, ctx.request, ctx.p, alert_id, note)
    except ChainclubError as exc:
        if exc.reason not in ("conflict", "not_found"):
            raise
        return await _risk(ctx, 409 if exc.reason == "conflict" else 404, errors={alert_id: exc.detail})
    return await _risk(ctx, done=ctx._("Acknowledged the alert of rule %(rule)s.", rule=alert["rule_name"]))


# --- reports (报表) --------------------------------------------------------------------------------
GROUPS = ("store", "region", "day")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _filters(ctx: PageContext) -> tuple[dict[str, Any], dict[str, str]]:
    """The report filters of the query string, with a message per field that does not parse."""
    q = ctx.request.query_params
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"group_by": q.get("group_by") if q.get("group_by") in GROUPS else "store"}
    for name in ("from", "to", "date"):
        try:
            values[name] = _day((q.get(name) or "").strip()[:10])
        except ValueError:
            errors[name] = ctx._("Enter a date as YYYY-MM-DD.")
            values[name] = None
    return values, errors


def _period(ctx: PageContext, values: dict[str, Any]) -> reports.Period:
    return reports.period(values["from"], values["to"], reports.today(ctx.state, datetime.now(UTC)))


@router.get("/console/reports")
async def reports_page(ctx: ManagersCtx) -> Response:
    values, errors = _filters(ctx)
    sales = summary = settlement = None
    status = 200
    if not errors:
        try:
            period = _period(ctx, values)
            sales = await reports.sales_for(
                ctx.state, ctx.p, values["group_by"], period.first, period.last, None
            )
        except ChainclubError as exc:
            if exc.reason != "invalid_argument":
                raise
            errors = {str(exc.extra.get("field", "from")): exc.detail}
        else:
            values["from"], values["to"] = period.first, period.last
            start, end = period.bounds(ctx.state.settings.chain_timezone)
            if ctx.allowed("wallet.settlement"):
                settlement = await wallet.settlement(ctx.state, ctx.p, start, end)
            if ctx.allowed("reports.daily_summary"):
                day = values["date"].isoformat() if values["date"] else None
                summary = await daily_summary.daily_summary(ctx.state, ctx.p, day, None)
    if errors:
        status = 422
    query = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v}
    return ctx.render("console/ops/reports.html", status=status, f=values, errors=errors, sales=sales,
                      summary=summary, settlement=settlement, query=query, groups=GROUPS,
                      summary_columns=SUMMARY_COLUMNS)  # fmt: skip


# The daily summary's figures the page shows (the XLSX has all of them).
SUMMARY_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("members", "new_members", N_("New members"), False),
    ("wallet", "top_up_amount", N_("Topped up"), True),
    ("wallet", "top_up_bonus", N_("Bonus given"), True),
    ("wallet", "payment_amount", N_("Paid with stored value"), True),
    ("loyalty", "sales_count", N_("Sales count"), False),
    ("loyalty", "sales_amount", N_("Sales amount"), True),
    ("loyalty", "discount_amount", N_("Discounts"), True),
    ("loyalty", "refund_amount", N_("Refunded"), True),
    ("loyalty", "points_earned", N_("Points earned"), False),
)


async def _xlsx_filters(ctx: PageContext) -> dict[str, Any]:
    values, errors = _filters(ctx)
    if errors:
        name, message = next(iter(errors.items()))
        raise InvalidArgument(message, field=name)
    return values


@router.get("/console/reports/sales.xlsx")
async def sales_xlsx(ctx: ManagersCtx) -> Response:
    _require(ctx, "reports.read")
    v = await _xlsx_filters(ctx)
    response = await reports.sales_xlsx(
        ctx.state, ctx.request, ctx.p, v["group_by"], v["from"], v["to"], None
    )
    return ctx.finish(response)


@router.get("/console/reports/daily-summary.xlsx")
async def daily_summary_xlsx(ctx: ManagersCtx) -> Response:
    _require(ctx, "reports.daily_summary")
    v = await _xlsx_filters(ctx)
    day = v["date"].isoformat() if v["date"] else None
    return ctx.finish(await daily_summary.daily_summary_xlsx(ctx.state, ctx.request, ctx.p, day, None))


@router.get("/console/reports/settlement.xlsx")
async def settlement_xlsx(ctx: ManagersCtx) -> Response:
    _require(ctx, "wallet.settlement")
    v = await _xlsx_filters(ctx)
    start, end = _period(ctx, v).bounds(ctx.state.settings.chain_timezone)
    return ctx.finish(await wallet.settlement_xlsx(ctx.state, ctx.request, ctx.p, start, end))
