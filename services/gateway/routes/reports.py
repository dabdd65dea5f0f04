"""Reports (docs/api.md "Analytics and reports"): sales by store, region or day, and the daily
business summary (营业汇报, shape in services/gateway/daily_summary.py), each as JSON and as a
streamed XLSX (audited), within the caller's scope or a unit inside it."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from starlette.background import BackgroundTask

from kit.auth import Principal
from services.gateway import audit, daily_summary, reports
from services.gateway.deps import State, permitted
from services.gateway.org import unit_path
from services.gateway.routes.member_io import XLSX_MEDIA, _chunks

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

GroupBy = Annotated[Literal["store", "region", "day"], Query()]
Day = Annotated[date | None, Query()]
Store = Annotated[str | None, Query(max_length=64)]


async def _sales(state, p, group_by: str, first: date | None, last: date | None, store: str | None) -> dict:  # type: ignore[no-untyped-def]
    scope = await unit_path(state, p, store, field="store") if store else p.scope
    period = reports.period(first, last, reports.today(state, datetime.now(UTC)))
    return await reports.sales(state, scope, group_by, period)


@router.get("/sales")
async def sales(
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    group_by: GroupBy = "store",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    store: Store = None,
) -> dict:
    return await _sales(state, p, group_by, from_, to, store)


def _workbook(report: dict) -> tempfile.SpooledTemporaryFile:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("sales")
    sheet.append(
        [f"sales by {report['group_by']}", report["scope"], report["from"], report["to"], report["timezone"]]
    )
    sheet.append(list(reports.COLUMNS))
    for item in report["items"]:
        sheet.append([item[c] for c in reports.COLUMNS])
    sheet.append(["total", *(report["totals"][c] for c in reports.COLUMNS[1:])])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        book.save(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


@router.get("/sales.xlsx")
async def sales_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    group_by: GroupBy = "store",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    store: Store = None,
) -> StreamingResponse:
    report = await _sales(state, p, group_by, from_, to, store)
    spool = await asyncio.to_thread(_workbook, report)
    await audit.record_alone(
        state, request, p, "report.sales.export", "report", "sales.xlsx", report["scope"],
        {"group_by": group_by, "from": report["from"], "to": report["to"], "rows": len(report["items"])},
    )  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _chunks(spool),
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="sales-{group_by}-{stamp}.xlsx"'},
        background=BackgroundTask(spool.close),
    )


# --- the daily business summary (营业汇报) -------------------------------------------------------
SummaryDay = Annotated[
    str | None, Query(alias="date", max_length=10, description="YYYY-MM-DD, chain local; default today")
]
OrgUnit = Annotated[
    str | None, Query(max_length=300, description="org unit code or path; default the caller's scope")
]


@router.get("/daily-summary")
async def daily_summary_report(
    p: Annotated[Principal, Depends(permitted("reports.daily_summary"))],
    state: State,
    day: SummaryDay = None,
    org_unit: OrgUnit = None,
) -> dict:
    return await daily_summary.daily_summary(state, p, day, org_unit)


def _summary_workbook(report: dict) -> tempfile.SpooledTemporaryFile:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("daily summary")
    sheet.append(["daily summary", report["org_unit"], report["date"], report["timezone"]])
    sheet.append(["level", "path", "name", *daily_summary.COLUMNS])
    for row in daily_summary.rows(report):
        sheet.append(row)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        book.save(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


@router.get("/daily-summary.xlsx")
async def daily_summary_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("reports.daily_summary"))],
    state: State,
    day: SummaryDay = None,
    org_unit: OrgUnit = None,
) -> StreamingResponse:
    report = await daily_summary.daily_summary(state, p, day, org_unit)
    spool = await asyncio.to_thread(_summary_workbook, report)
    await audit.record_alone(
        state, request, p, "report.daily_summary.export", "report", "daily-summary.xlsx", report["org_unit"],
        {"date": report["date"], "stores": len(report["stores"])},
    )  # fmt: skip
    return StreamingResponse(
        _chunks(spool),
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="daily-summary-{report["date"]}.xlsx"'},
        background=BackgroundTask(spool.close),
    )
