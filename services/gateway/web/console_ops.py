"""The console's operations screens: approvals (审批) of stored-value adjustments by a second HQ
admin (or their rejection with a reason), risk alerts (风险) with the exact transactions behind them and the acknowledgement note kept
with each, and reports (报表: sales, the daily business summary, the inter-store settlement of
stored value, top-ups, the points liability), each a chart drawn from the page's JSON block
(static/charts.js) over the table of the same figures, with its XLSX download.

Every figure comes from the use cases the REST routes call (services/gateway/wallet.py,
reports.py, daily_summary.py, money_reports.py); the services keep each caller inside its scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from babel.dates import format_skeleton
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import daily_summary, money_reports, reports, wallet
from services.gateway.deps import scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web import console_rules
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.i18n import parse_yuan
from services.gateway.web.rule_forms import Reader, Refused, risk_body

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
async def alert_transactions(ctx: ManagersCtx, card_no: str = "", ids: str = "", at: str = "") -> Response:
    """The exact transactions an alert names (the wallet stores their ids with it), oldest
    first, the one that raised it marked (it happened at the alert's instant)."""
    _require(ctx, "wallet.transactions")
    wanted = [i for i in ids.split(",") if i][:50]
    items: list[dict] = []
    refused = None
    try:
        page = await wallet.transactions(ctx.state, ctx.p, card_no[:32], 500) if wanted else {"items": []}
    except ChainclubError as exc:
        if exc.reason not in ("not_found", "forbidden", "invalid_argument"):
            raise
        refused = ctx._("The card's transactions are outside your scope.")
    else:
        when = _instant(at)
        found = {t["transaction_id"]: t for t in page["items"]}
        items = [
            {**found[i], "raised": when is not None and _instant(found[i]["created_at"]) == when}
            for i in wanted
            if i in found
        ]
    return ctx.render(
        "console/ops/_alert_transactions.html", items=items, refused=refused, card_no=card_no[:32]
    )


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


# --- risk rules: changed, turned off and on, deleted (from the rules page's risk tab) ----------------
RULE_REFUSALS = {
    "conflict": N_("Alerts name this rule, so it cannot be deleted: deactivate it instead."),
    "not_found": N_("That rule is not there any more; the list shows the rules now."),
}


def _risk_rule_form(rule: dict) -> dict[str, str]:
    """A rule as the risk form shows it (yuan, minutes, HH:MM), to edit it."""
    amount = rule["kind"] in ("single_amount", "sum_in_window")
    threshold = (
        str(Decimal(int(rule.get("threshold") or 0)) / 100) if amount else str(rule.get("threshold") or "")
    )
    clock = lambda m: f"{int(m or 0) // 60:02d}:{int(m or 0) % 60:02d}"  # noqa: E731
    timed = rule["kind"] == "time_of_day"
    return {
        "name": rule["name"], "kind": rule["kind"], "applies_to": rule.get("applies_to") or "any",
        "action": rule["action"], "threshold": "" if timed else threshold,
        "window_minutes": str(int(rule.get("window_seconds") or 0) // 60) if rule.get("window_seconds") else "",
        "start_minute": clock(rule.get("start_minute")) if timed else "",
        "end_minute": clock(rule.get("end_minute")) if timed else "", "scope": rule.get("scope") or "HQ",
    }  # fmt: skip


@router.get("/console/rules/risk-rules/{rule_id}/edit")
async def edit_risk_rule(rule_id: str, ctx: ManagersCtx) -> Response:
    """The risk tab with the rule's form prefilled (saving it changes that rule)."""
    _require(ctx, "risk.rules.write")
    try:
        rule = await wallet.risk_rule(ctx.state, ctx.p, rule_id[:64])
    except ChainclubError as exc:
        if exc.reason != "not_found":
            raise
        return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
    return await console_rules._page(ctx, "risk", form=_risk_rule_form(rule), editing=rule)


@router.post("/console/rules/risk-rules/{rule_id}/edit")
async def save_risk_rule(rule_id: str, ctx: ManagersCtx) -> Response:
    """Save the edited rule: every field of the form replaces the rule's (validated as a new
    rule is); a refused value comes back next to its field and nothing changes."""
    _require(ctx, "risk.rules.write")
    form = await _fields(ctx)
    form.pop("key", None)
    try:
        rule = await wallet.risk_rule(ctx.state, ctx.p, rule_id[:64])
        body = risk_body(Reader(ctx, form))
        patch = wallet.RiskRulePatch.model_validate(body.model_dump(exclude={"active"}))
        saved = await wallet.update_risk_rule(ctx.state, ctx.request, ctx.p, rule["id"], patch)
    except Refused as exc:
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, exc.errors))  # fmt: skip
    except ValidationError as exc:
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, field_errors(exc)))  # fmt: skip
    except ChainclubError as exc:
        if exc.reason == "not_found":
            return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
        if exc.reason != "invalid_argument":
            raise
        errors = {str(exc.extra.get("field") or "_"): exc.detail}
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, errors))  # fmt: skip
    return await console_rules._page(ctx, "risk", done=ctx._("Saved risk rule %(name)s.", name=saved["name"]))


@router.post("/console/rules/risk-rules/{rule_id}/{change}")
async def change_risk_rule(rule_id: str, change: str, ctx: ManagersCtx) -> Response:
    """Deactivate (it stops watching; its alerts stay), activate, or delete a rule no alert names."""
    refused = lambda exc: ctx._(RULE_REFUSALS.get(exc.reason, RULE_REFUSALS["not_found"]))  # noqa: E731
    rid = rule_id[:64]
    if change == "delete":
        run = lambda: wallet.delete_risk_rule(ctx.state, ctx.request, ctx.p, rid)  # noqa: E731
        done = ctx._("Deleted the risk rule.")
    elif change in ("activate", "deactivate"):
        on = change == "activate"
        run = lambda: wallet.set_risk_rule_active(ctx.state, ctx.request, ctx.p, rid, on)  # noqa: E731
        done = (
            ctx._("Activated the risk rule.")
            if on
            else ctx._("Deactivated the risk rule: it raises no alerts.")
        )
    else:
        return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
    return await console_rules._change(ctx, "risk", "risk.rules.write", run, done, refused)


# --- reports (报表) --------------------------------------------------------------------------------
GROUPS = ("store", "region", "day")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _filters(ctx: PageContext) -> tuple[dict[str, Any], dict[str, str]]:
    """The report filters of the query string, with a message per field that does not parse."""
    q = ctx.request.query_params
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "group_by": q.get("group_by") if q.get("group_by") in GROUPS else "store",
        "liability_by": q.get("liability_by")
        if q.get("liability_by") in money_reports.LIABILITY_GROUPS
        else "store",
    }
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
    found: dict[str, Any] = {
        "sales": None,
        "summary": None,
        "settlement": None,
        "top_ups": None,
        "liability": None,
    }
    status = 200
    if not errors:
        try:
            period = _period(ctx, values)
            found["sales"] = await reports.sales_for(
                ctx.state, ctx.p, values["group_by"], period.first, period.last, None
            )
        except ChainclubError as exc:
            if exc.reason != "invalid_argument":
                raise
            errors = {str(exc.extra.get("field", "from")): exc.detail}
        else:
            values["from"], values["to"] = period.first, period.last
            found.update(await _more_reports(ctx, values, period))
    if errors:
        status = 422
    query = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v}
    return ctx.render("console/ops/reports.html", status=status, f=values, errors=errors, query=query,
                      groups=GROUPS, liability_groups=money_reports.LIABILITY_GROUPS,
                      summary_columns=SUMMARY_COLUMNS, chart=_charts(ctx, found), **found)  # fmt: skip


async def _more_reports(ctx: PageContext, values: dict[str, Any], period: reports.Period) -> dict[str, Any]:
    """The reports besides sales the caller may read, for the period (settlement, top-ups), the
    business day (daily summary) or now (the points liability)."""
    found: dict[str, Any] = {}
    start, end = period.bounds(ctx.state.settings.chain_timezone)
    if ctx.allowed("wallet.settlement"):
        found["settlement"] = await wallet.settlement(ctx.state, ctx.p, start, end)
    if ctx.allowed("reports.daily_summary"):
        day = values["date"].isoformat() if values["date"] else None
        found["summary"] = await daily_summary.daily_summary(ctx.state, ctx.p, day, None)
    if ctx.allowed("reports.read"):
        found["top_ups"] = await money_reports.top_ups(ctx.state, ctx.p, period.first, period.last)
        found["liability"] = await money_reports.points_liability(
            ctx.state, ctx.p, values["liability_by"], ctx.p.scope
        )
    return found


def _unit(path: str) -> str:
    """A chart label for an org path: its last code (the table beside it has the whole path)."""
    return path.rsplit("/", 1)[-1]


def _charts(ctx: PageContext, found: dict[str, Any]) -> dict[str, Any]:
    """The JSON block static/charts.js draws each report's chart from (the tables below hold
    the same figures)."""
    short = lambda d: format_skeleton("MMMd", date.fromisoformat(d), locale=ctx.locale)  # noqa: E731
    chart: dict[str, Any] = {"locale": "zh-CN" if ctx.locale == "zh_CN" else "en"}
    if sales := found["sales"]:
        labels = [short(r["key"]) if sales["group_by"] == "day" else _unit(r["key"]) for r in sales["items"]]
        chart["sales"] = {
            "labels": labels,
            "series": [{"name": ctx._("Net"), "values": [r["net"] for r in sales["items"]]}],
        }
    if summary := found["summary"]:
        stores = summary["stores"]
        chart["summary"] = {
            "labels": [r["name"] or r["path"] for r in stores],
            "series": [
                {
                    "name": ctx._("Sales amount"),
                    "values": [r["figures"]["loyalty"]["sales_amount"] for r in stores],
                },
                {
                    "name": ctx._("Topped up"),
                    "values": [r["figures"]["wallet"]["top_up_amount"] for r in stores],
                },
            ],
        }
    if found["settlement"] is not None:
        rows = found["settlement"]
        chart["settlement"] = {
            "labels": [_unit(r["store_path"]) for r in rows],
            "series": [
                {"name": ctx._("Taken in"), "values": [r["taken_in"] for r in rows]},
                {"name": ctx._("Spent"), "values": [r["spent"] for r in rows]},
            ],
        }
    if top_ups := found["top_ups"]:
        by_day = {r["day"]: r for r in top_ups["days"]}
        first, last = date.fromisoformat(top_ups["from"]), date.fromisoformat(top_ups["to"])
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        # every day of the period, none left out: a day without top-ups is a zero on the line
        chart["top_ups"] = {
            "labels": [short(d) for d in days],
            "series": [
                {"name": ctx._("Principal"), "values": [by_day.get(d, {}).get("principal", 0) for d in days]},
                {"name": ctx._("Bonus"), "values": [by_day.get(d, {}).get("bonus", 0) for d in days]},
            ],
        }
    if liability := found["liability"]:
        items = liability["items"]
        chart["liability"] = {
            "unit": "count",
            "labels": [_unit(r["key"]) for r in items],
            "series": [
                {"name": ctx._("Points held"), "values": [r["outstanding"] for r in items]},
                {"name": ctx._("Expiring within 90 days"), "values": [r["expiring_90_days"] for r in items]},
            ],
        }
    return chart  # fmt: skip


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


@router.get("/console/reports/top-ups.xlsx")
async def top_ups_xlsx(ctx: ManagersCtx) -> Response:
    _require(ctx, "reports.read")
    v = await _xlsx_filters(ctx)
    return ctx.finish(await money_reports.top_ups_xlsx(ctx.state, ctx.request, ctx.p, v["from"], v["to"]))


@router.get("/console/reports/points-liability.xlsx")
async def points_liability_xlsx(ctx: ManagersCtx) -> Response:
    _require(ctx, "reports.read")
    v = await _xlsx_filters(ctx)
    response = await money_reports.points_liability_xlsx(
        ctx.state, ctx.request, ctx.p, v["liability_by"], ctx.p.scope
    )
    return ctx.finish(response)
