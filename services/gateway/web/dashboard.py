"""The console's dashboard (首页, ``/console/dashboard``): for the caller's scope (HQ all, a
region its subtree, a store itself) and a day, week or month — sales, stored-value top-ups
(principal and bonus), refunds, new members, points issued and redeemed — from the daily
business summary of each day (services/gateway/dashboard.py); a 30-day trend of sales and
top-ups; the stores (regions for HQ) ranked by sales; stored value outstanding now (the
liability: the balances of the scope's members, summed by the wallet); and what waits: open
risk alerts and adjustments pending approval.

Charts are drawn by ``static/charts.js`` (Apache ECharts, vendored) from the page's JSON data
block; every chart's numbers are also a table. An htmx request (the period form, the previous
and next links) gets the dashboard's content only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from babel.dates import format_skeleton
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway import dashboard as figures
from services.gateway import permissions, reports, wallet
from services.gateway.permissions import MANAGERS
from services.gateway.state import GatewayState
from services.gateway.web import periods
from services.gateway.web.core import PageContext, PageRoute, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]
RANKED_IN_CHART = 10  # bars in the ranking chart; the table lists every unit


async def _count(
    ctx: PageContext, action: str, count: Callable[[GatewayState, Principal], Awaitable[figures.Count]]
) -> figures.Count | None:
    """A waiting count, or None when the role may not see it or the wallet does not answer
    (the dashboard still shows the period's figures)."""
    if not ctx.allowed(action):
        return None
    try:
        return await count(ctx.state, ctx.p)
    except ChainclubError:
        return None


async def _liability(ctx: PageContext) -> dict[str, int] | None:
    """Stored value outstanding in the caller's scope now, or None when the role may not see
    it or the wallet does not answer."""
    if not ctx.allowed("wallet.liability"):
        return None
    try:
        return await wallet.liability(ctx.state, ctx.p, ctx.p.scope)
    except ChainclubError:
        return None


def _anchor(text: str | None, today: date) -> tuple[date, bool]:
    """The chosen date (default today) and whether what was sent was not a date."""
    if not text:
        return today, False
    try:
        return date.fromisoformat(text), False
    except ValueError:
        return today, True


def _ranked(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(units, key=lambda u: (-u["figures"]["loyalty"]["sales_amount"], u["path"]))


@router.get("/console/dashboard")
async def dashboard(
    ctx: Ctx,
    day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    period: Annotated[str, Query(max_length=8)] = "day",
) -> Response:
    permissions.require(ctx.p, "reports.daily_summary")
    today = reports.today(ctx.state, datetime.now(UTC))
    anchor, bad_date = _anchor(day, today)
    chosen = periods.period(period if period in periods.KINDS else "day", anchor, today)
    trend = periods.trend_days(chosen.end)
    by_day, alerts, adjustments, outstanding = await asyncio.gather(
        figures.summaries(ctx.state, ctx.p, [*chosen.days, *trend]),
        _count(ctx, "risk.alerts.read", figures.open_alerts),
        _count(ctx, "wallet.adjustments.read", figures.pending_adjustments),
        _liability(ctx),
    )
    summed = figures.combine([by_day[d] for d in chosen.days])
    level = "regions" if "/" not in ctx.p.scope else "stores"
    ranking = _ranked(summed[level])
    trend_rows = [
        {"day": d, "sales": by_day[d]["totals"]["loyalty"]["sales_amount"],
         "top_ups": by_day[d]["totals"]["wallet"]["top_up_amount"]}
        for d in trend
    ]  # fmt: skip
    short = lambda d: format_skeleton("MMMd", d, locale=ctx.locale)  # noqa: E731
    chart = {
        "locale": "zh-CN" if ctx.locale == "zh_CN" else "en",
        "trend": {
            "labels": [short(r["day"]) for r in trend_rows],
            "series": [
                {"name": ctx._("Sales"), "values": [r["sales"] for r in trend_rows]},
                {"name": ctx._("Top-ups"), "values": [r["top_ups"] for r in trend_rows]},
            ],
        },
        "ranking": {
            "labels": [u["name"] or u["path"] for u in ranking[:RANKED_IN_CHART]],
            "series": [
                {"name": ctx._("Sales"), "values": [u["figures"]["loyalty"]["sales_amount"] for u in ranking[:RANKED_IN_CHART]]}
            ],
        },
    }  # fmt: skip
    template = "console/_dashboard.html" if ctx.htmx else "console/dashboard.html"
    return ctx.render(
        template,
        chosen=chosen, anchor=min(anchor, today), today=today, bad_date=bad_date, totals=summed["totals"],
        ranking=ranking, ranking_level=level, trend_rows=trend_rows, chart=chart, alerts=alerts,
        adjustments=adjustments, outstanding=outstanding, month_name=format_skeleton("yMMMM", chosen.first, locale=ctx.locale),
    )  # fmt: skip
