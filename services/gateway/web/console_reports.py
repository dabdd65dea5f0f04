"""The console's reports (报表): sales by store, region or day, the daily business summary,
inter-store settlement of stored value, top-ups and the points liability for the caller's scope
and a period, each a chart over a table of the same figures and a streamed, audited XLSX."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from babel.dates import format_skeleton
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import daily_summary, money_reports, reports, wallet
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ManagersCtx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


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
