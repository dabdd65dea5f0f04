"""The daily business summary (营业汇报, docs/api.md "Analytics and reports"): one local day in the
chain's timezone, from the members, wallet and loyalty ``DailySummary`` RPCs called at once
with the caller's token (each service scopes them again), merged per store and rolled up per
region and for the whole scope.

``GET /api/v1/reports/daily-summary?date=YYYY-MM-DD&org_unit=<code or path>`` answers::

    {"date": "2026-11-23", "timezone": "Asia/Shanghai", "org_unit": "HQ/EAST",
     "totals":  {"members": {...}, "wallet": {...}, "loyalty": {...}},
     "regions": [{"path": "HQ/EAST", "name": "华东", "figures": {...same shape...}}],
     "stores":  [{"path": "HQ/EAST/SH001", "name": "上海一店", "figures": {...}}]}

``figures`` are grouped by the service that counts them (both wallet and loyalty have a
``refund_amount``: stored value given back, and purchases refunded), integers, money in fen:

- members: ``new_members`` (registered that day, by home store);
- wallet: ``top_up_count``, ``top_up_amount`` (paid in), ``top_up_bonus`` (bonus money given),
  ``payment_count``, ``payment_amount``, ``refund_amount`` (by the store where money moved);
- loyalty: ``sales_count``, ``sales_amount`` (paid total), ``discount_amount``, ``refund_count``,
  ``refund_amount``, ``points_earned``, ``points_redeemed`` (points used as payment), by the
  purchase's store.

Every active store of the scope is listed, with zeros when nothing happened there; a region is
the store path's first level below HQ (``HQ/<region>``), as in the sales report.
The routes check the caller's role before calling these use cases (deps.permitted)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from sqlalchemy import or_, select

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument
from kit.summary import parse_day
from services.gateway import audit, reports
from services.gateway.models import org_units
from services.gateway.state import GatewayState

FIGURES: dict[str, tuple[str, ...]] = {
    "members": ("new_members",),
    "wallet": ("top_up_count", "top_up_amount", "top_up_bonus", "payment_count", "payment_amount", "refund_amount"),
    "loyalty": (
        "sales_count", "sales_amount", "discount_amount", "refund_count", "refund_amount",
        "points_earned", "points_redeemed",
    ),
}  # fmt: skip
COLUMNS = tuple(f"{source}.{name}" for source, names in FIGURES.items() for name in names)

Figures = dict[str, dict[str, int]]


def zero() -> Figures:
    return {source: dict.fromkeys(names, 0) for source, names in FIGURES.items()}


def add(into: Figures, more: Figures) -> None:
    for source, values in more.items():
        for name, value in values.items():
            into.setdefault(source, {})[name] = into.get(source, {}).get(name, 0) + value


def region_of(store_path: str) -> str:
    """``HQ/<region>`` of a store path (the path itself when it has no such level)."""
    parts = store_path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else store_path


def ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def merge(
    replies: dict[str, common_pb2.DailySummaryResponse], stores: list[str], names: dict[str, str]
) -> dict[str, Any]:
    """Per store (every store of ``stores`` and any a service reported), per region, in total."""
    per_store: dict[str, Figures] = {path: zero() for path in stores}
    for source, reply in replies.items():
        for s in reply.stores:
            add(per_store.setdefault(s.store_path, zero()), {source: dict(s.figures)})
    per_region: dict[str, Figures] = {}
    totals = zero()
    for path, figures in per_store.items():
        add(per_region.setdefault(region_of(path), zero()), figures)
        add(totals, figures)
    return {
        "totals": totals,
        "regions": [{"path": r, "name": names.get(r), "figures": per_region[r]} for r in sorted(per_region)],
        "stores": [{"path": s, "name": names.get(s), "figures": per_store[s]} for s in sorted(per_store)],
    }


async def _scope(
    state: GatewayState, p: Principal, org_unit: str | None
) -> tuple[str, dict[str, str], list[str]]:
    """The path reported on, the names of the units involved, the active stores below it."""
    async with state.db.sessions() as session:
        if org_unit:
            column = org_units.c.path if "/" in org_unit else org_units.c.code
            unit = (await session.execute(select(org_units).where(column == org_unit))).first()
            if unit is None or not p.may_access(unit.path):
                # As every other report filter: unknown and out of scope look the same.
                raise InvalidArgument(f"unknown org unit {org_unit!r}", field="org_unit")
            scope = unit.path
        else:
            scope = p.scope
        rows = (
            await session.execute(
                select(org_units.c.path, org_units.c.name, org_units.c.kind, org_units.c.active).where(
                    or_(in_scope(org_units.c.path, scope), org_units.c.path.in_(ancestors(scope)))
                )
            )
        ).all()
    names = {r.path: r.name for r in rows}
    stores = [r.path for r in rows if r.kind == "store" and r.active and p.may_access(r.path)]
    stores = [s for s in stores if s == scope or s.startswith(scope + "/")]
    return scope, names, stores


async def daily_summary(
    state: GatewayState, p: Principal, day: str | None, org_unit: str | None
) -> dict[str, Any]:
    when = parse_day(day or "", reports.today(state, datetime.now(UTC)))
    scope, names, stores = await _scope(state, p, org_unit)
    request = common_pb2.DailySummaryRequest(date=when.isoformat(), org_path=scope)
    c = state.clients
    members, wallet, loyalty = await asyncio.gather(
        c.call(c.members.DailySummary, request, p),
        c.call(c.wallet.DailySummary, request, p),
        c.call(c.loyalty.DailySummary, request, p),
    )
    merged = merge({"members": members, "wallet": wallet, "loyalty": loyalty}, stores, names)
    return {"date": when.isoformat(), "timezone": state.settings.chain_timezone, "org_unit": scope, **merged}


def rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report as table rows (the XLSX): level, path, name, then every figure."""

    def cells(figures: Figures) -> list[int]:
        return [figures.get(source, {}).get(name, 0) for source, names in FIGURES.items() for name in names]

    out: list[list[Any]] = [["total", report["org_unit"], "", *cells(report["totals"])]]
    out += [["region", r["path"], r["name"] or "", *cells(r["figures"])] for r in report["regions"]]
    out += [["store", s["path"], s["name"] or "", *cells(s["figures"])] for s in report["stores"]]
    return out


def workbook(report: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The report as a spooled XLSX (``reports.spooled``)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("daily summary")
    sheet.append(["daily summary", report["org_unit"], report["date"], report["timezone"]])
    sheet.append(["level", "path", "name", *COLUMNS])
    for row in rows(report):
        sheet.append(row)
    return reports.spooled(book)


async def daily_summary_xlsx(
    state: GatewayState, request: Request, p: Principal, day: str | None, org_unit: str | None
) -> StreamingResponse:
    """The daily summary as a streamed XLSX, the export audited."""
    report = await daily_summary(state, p, day, org_unit)
    spool = await asyncio.to_thread(workbook, report)
    await audit.record_alone(
        state, request, p, "report.daily_summary.export", "report", "daily-summary.xlsx", report["org_unit"],
        {"date": report["date"], "stores": len(report["stores"])},
    )  # fmt: skip
    return reports.xlsx_response(spool, f"daily-summary-{report['date']}.xlsx")
