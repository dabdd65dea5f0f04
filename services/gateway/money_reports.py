"""Two reports of what the chain owes its members, for the REST routes and the console alike:
top-ups (充值报表: count, principal paid in and bonus given, per store and per day of a period,
summed by the wallet) and the points liability (积分负债: points held per home store or region,
and what expires within 30 and 90 days, summed by loyalty); each also as a streamed, audited XLSX."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook

from chainclub.loyalty.v1 import loyalty_pb2 as loyalty_pb
from chainclub.wallet.v1 import wallet_pb2 as wallet_pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit, reports
from services.gateway.protojson import timestamp
from services.gateway.state import GatewayState

TOP_UP_FIGURES = ("count", "principal", "bonus")
LIABILITY_FIGURES = ("members", "outstanding", "expiring_30_days", "expiring_90_days")
LIABILITY_GROUPS = ("store", "region")


# --- top-ups ---------------------------------------------------------------------------------------
async def top_ups(state: GatewayState, p: Principal, first: date | None, last: date | None) -> dict[str, Any]:
    """Top-ups made in the caller's scope over the period (default the last 30 days, chain
    time), per acting store and per day, with totals; money in fen."""
    tz = state.settings.chain_timezone
    span = reports.period(first, last, reports.today(state, datetime.now(UTC)))
    start, end = span.bounds(tz)
    req = wallet_pb.TopUpReportRequest(to=timestamp(end))
    getattr(req, "from").CopyFrom(timestamp(start))
    reply = await state.clients.call(state.clients.wallet.TopUpReport, req, p)

    def figures(row: Any) -> dict[str, int]:
        return {"count": row.count, "principal": row.principal, "bonus": row.bonus}

    stores = [{"store_path": r.key, **figures(r)} for r in reply.stores]
    return {
        "scope": p.scope, "from": span.first.isoformat(), "to": span.last.isoformat(), "timezone": tz,
        "stores": stores, "days": [{"day": r.key, **figures(r)} for r in reply.days],
        "totals": {k: sum(s[k] for s in stores) for k in TOP_UP_FIGURES},
    }  # fmt: skip


def top_ups_workbook(report: dict[str, Any]) -> tempfile.SpooledTemporaryFile:
    book = Workbook(write_only=True)
    for name, key, rows in (("by store", "store_path", report["stores"]), ("by day", "day", report["days"])):
        sheet = book.create_sheet(name)
        sheet.append(["top-ups", report["scope"], report["from"], report["to"], report["timezone"]])
        sheet.append([key, "count", "principal_fen", "bonus_fen"])
        for row in rows:
            sheet.append([row[key], *(row[k] for k in TOP_UP_FIGURES)])
        sheet.append(["total", *(report["totals"][k] for k in TOP_UP_FIGURES)])
    return reports.spooled(book)


async def top_ups_xlsx(
    state: GatewayState, request: Request, p: Principal, first: date | None, last: date | None
) -> StreamingResponse:
    """The top-up report as a streamed XLSX, the export audited."""
    report = await top_ups(state, p, first, last)
    spool = await asyncio.to_thread(top_ups_workbook, report)
    await audit.record_alone(
        state, request, p, "report.top_ups.export", "report", "top-ups.xlsx", report["scope"],
        {"from": report["from"], "to": report["to"], "rows": len(report["stores"])},
    )  # fmt: skip
    return reports.xlsx_response(spool, f"top-ups-{report['from']}-{report['to']}.xlsx")


# --- the points liability ----------------------------------------------------------------------------
def region_of(store_path: str) -> str:
    """``HQ/<region>`` of a store path (HQ itself stays HQ)."""
    parts = store_path.split("/")
    return "/".join(parts[:2])


async def points_liability(state: GatewayState, p: Principal, group_by: str, org_path: str) -> dict[str, Any]:
    """Points held by the members whose home store lies within ``org_path`` (in the caller's
    scope), per store or per region, with what expires within 30 and 90 days."""
    if group_by not in LIABILITY_GROUPS:
        raise InvalidArgument("group_by must be store or region", field="group_by")
    req = loyalty_pb.GetPointsLiabilityRequest(org_path=org_path)
    reply = await state.clients.call(state.clients.loyalty.GetPointsLiability, req, p)
    groups: dict[str, dict[str, int]] = {}
    for s in reply.stores:
        key = s.store_path if group_by == "store" else region_of(s.store_path)
        into = groups.setdefault(key, dict.fromkeys(LIABILITY_FIGURES, 0))
        for figure in LIABILITY_FIGURES:
            into[figure] += getattr(s, figure)
    items = [{"key": key, **groups[key]} for key in sorted(groups)]
    return {
        "org_unit": reply.org_path, "as_of": reply.as_of, "group_by": group_by, "items": items,
        "totals": {k: sum(i[k] for i in items) for k in LIABILITY_FIGURES},
    }  # fmt: skip


def liability_workbook(report: dict[str, Any]) -> tempfile.SpooledTemporaryFile:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("points liability")
    sheet.append([f"points liability by {report['group_by']}", report["org_unit"], "as of", report["as_of"]])
    sheet.append([report["group_by"], *LIABILITY_FIGURES])
    for item in report["items"]:
        sheet.append([item["key"], *(item[k] for k in LIABILITY_FIGURES)])
    sheet.append(["total", *(report["totals"][k] for k in LIABILITY_FIGURES)])
    return reports.spooled(book)


async def points_liability_xlsx(
    state: GatewayState, request: Request, p: Principal, group_by: str, org_path: str
) -> StreamingResponse:
    """The points liability as a streamed XLSX, the export audited."""
    report = await points_liability(state, p, group_by, org_path)
    spool = await asyncio.to_thread(liability_workbook, report)
    await audit.record_alone(
        state, request, p, "report.points_liability.export", "report", "points-liability.xlsx",
        report["org_unit"], {"group_by": group_by, "as_of": report["as_of"], "rows": len(report["items"])},
    )  # fmt: skip
    return reports.xlsx_response(spool, f"points-liability-{report['as_of']}.xlsx")
