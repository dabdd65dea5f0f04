"""Reports (docs/api.md "Analytics and reports"): sales by store, region or day, and the daily
business summary (营业汇报, shape in services/gateway/daily_summary.py), each as JSON and as a
streamed XLSX (audited), within the caller's scope or a unit inside it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from kit.auth import Principal
from services.gateway import daily_summary, money_reports, reports
from services.gateway import wallet as stored_value
from services.gateway.deps import State, permitted

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

GroupBy = Annotated[Literal["store", "region", "day"], Query()]
Day = Annotated[date | None, Query()]
Store = Annotated[str | None, Query(max_length=64)]


@router.get("/sales")
async def sales(
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    group_by: GroupBy = "store",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    store: Store = None,
) -> dict:
    return await reports.sales_for(state, p, group_by, from_, to, store)


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
    return await reports.sales_xlsx(state, request, p, group_by, from_, to, store)


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


@router.get("/daily-summary.xlsx")
async def daily_summary_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("reports.daily_summary"))],
    state: State,
    day: SummaryDay = None,
    org_unit: OrgUnit = None,
) -> StreamingResponse:
    return await daily_summary.daily_summary_xlsx(state, request, p, day, org_unit)


# --- top-ups and the points liability ----------------------------------------------------------------
@router.get("/top-ups")
async def top_ups(
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
) -> dict:
    """Top-ups in the caller's scope per store and per day (fen); default the last 30 days."""
    return await money_reports.top_ups(state, p, from_, to)


@router.get("/top-ups.xlsx")
async def top_ups_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
) -> StreamingResponse:
    return await money_reports.top_ups_xlsx(state, request, p, from_, to)


LiabilityGroup = Annotated[Literal["store", "region"], Query()]


@router.get("/points-liability")
async def points_liability(
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    group_by: LiabilityGroup = "store",
    org_unit: OrgUnit = None,
) -> dict:
    """Points held by the members of the scope (or of org_unit inside it), per home store or
    region, and what expires within 30 and 90 days."""
    path = await stored_value.org_unit_path(state, p, org_unit)
    return await money_reports.points_liability(state, p, group_by, path)


@router.get("/points-liability.xlsx")
async def points_liability_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("reports.read"))],
    state: State,
    group_by: LiabilityGroup = "store",
    org_unit: OrgUnit = None,
) -> StreamingResponse:
    path = await stored_value.org_unit_path(state, p, org_unit)
    return await money_reports.points_liability_xlsx(state, request, p, group_by, path)
