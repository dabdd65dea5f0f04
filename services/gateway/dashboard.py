"""The console dashboard's figures (首页): the daily business summary (daily_summary.py) of
several days of the caller's scope summed, and what waits for someone — open risk alerts and
stored-value adjustments pending approval — counted (wallet.py's use cases). Role and scope are
those of REST: each daily summary is scoped by the gateway and again by every service; the
wallet scopes the lists. Stored value outstanding (the liability) is ``wallet.liability``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from kit.auth import Principal
from services.gateway import daily_summary, wallet
from services.gateway.state import GatewayState

CONCURRENT_DAYS = 6  # days asked for at once (each is three RPCs and one gateway query)
ALERT_PAGE = 500  # ListAlerts' largest page
ALERT_PAGES = 2  # counted up to ALERT_PAGE * ALERT_PAGES, then "at least"
ADJUSTMENTS_CAP = 500  # the wallet answers ListAdjustments with at most this many


async def summaries(state: GatewayState, p: Principal, days: list[date]) -> dict[date, dict[str, Any]]:
    """The daily summary of each of ``days`` in the caller's scope, a few days at a time."""
    gate = asyncio.Semaphore(CONCURRENT_DAYS)

    async def one(day: date) -> tuple[date, dict[str, Any]]:
        async with gate:
            return day, await daily_summary.daily_summary(state, p, day.isoformat(), None)

    return dict(await asyncio.gather(*(one(d) for d in sorted(set(days)))))


def combine(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Daily summaries of one scope added up: ``{"totals", "regions", "stores"}`` as in one
    summary, each region and store with the sum of its figures over the reports."""
    totals = daily_summary.zero()
    units: dict[str, dict[str, dict[str, Any]]] = {"regions": {}, "stores": {}}
    for report in reports:
        daily_summary.add(totals, report["totals"])
        for level, by_path in units.items():
            for item in report[level]:
                unit = by_path.setdefault(
                    item["path"],
                    {"path": item["path"], "name": item["name"], "figures": daily_summary.zero()},
                )
                unit["name"] = unit["name"] or item["name"]
                daily_summary.add(unit["figures"], item["figures"])
    return {
        "totals": totals,
        **{level: [by_path[k] for k in sorted(by_path)] for level, by_path in units.items()},
    }


@dataclass(frozen=True)
class Count:
    """How many; ``more``: at least that many (counting stopped at a cap)."""

    value: int
    more: bool = False


async def open_alerts(state: GatewayState, p: Principal) -> Count:
    """Risk alerts of the scope not yet acknowledged (the wallet scopes them)."""
    seen, cursor = 0, None
    for _ in range(ALERT_PAGES):
        page = await wallet.risk_alerts(state, p, "open", ALERT_PAGE, cursor)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return Count(seen)
    return Count(seen, more=True)


async def pending_adjustments(state: GatewayState, p: Principal) -> Count:
    """Stored-value adjustments of the scope waiting for a second HQ admin's approval."""
    pending = await wallet.adjustments(state, p, "pending_approval")
    return Count(len(pending), more=len(pending) >= ADJUSTMENTS_CAP)
