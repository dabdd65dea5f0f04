"""Member import and export (docs/api.md "Members"): a CSV/XLSX upload streamed to the members
service as an import job, the job's progress, and a streamed XLSX export of the caller's
scope (use cases in services/gateway/member_io.py). Included before the members router so
``/imports`` and ``/export.xlsx`` are not taken for a member_no."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from kit.auth import Principal
from services.gateway import member_io
from services.gateway.deps import State, permitted
from services.gateway.member_io import XLSX_MEDIA as XLSX_MEDIA
from services.gateway.member_io import ImportAccepted, ImportJobPublic
from services.gateway.member_io import _chunks as _chunks
from services.gateway.members import SearchFilters

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.post("/imports", status_code=202, response_model=ImportAccepted)
async def upload_import(
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX with a header row")],
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.import"))],
    state: State,
) -> ImportAccepted:
    return await member_io.upload_import(state, request, p, file)


@router.get("/imports/{job_id}", response_model=ImportJobPublic)
async def get_import(
    job_id: str, p: Annotated[Principal, Depends(permitted("members.import"))], state: State
) -> ImportJobPublic:
    return await member_io.import_job(state, p, job_id)


@router.get("/export.xlsx")
async def export_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.export"))],
    state: State,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    store: Annotated[str | None, Query(max_length=64)] = None,
    birthday_month: Annotated[int | None, Query(ge=1, le=12)] = None,
) -> StreamingResponse:
    """Every member of the caller's scope matching the list's filters, as one XLSX sheet."""
    filters = SearchFilters(phone=phone, q=q, tag=tag, tier=tier, store=store, birthday_month=birthday_month)
    return await member_io.export_xlsx(state, request, p, filters)
