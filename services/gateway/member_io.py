"""Member import and export, the use cases of the REST routes (routes/member_io.py) and the
console pages: a CSV/XLSX upload streamed to the members service as an import job, the job's
progress, and a streamed XLSX export of the caller's scope."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import IO, Any

import grpc
from fastapi import Request, UploadFile
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from pydantic import BaseModel
from sqlalchemy import select
from starlette.background import BackgroundTask

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument, from_rpc_error
from services.gateway import audit, org
from services.gateway.clients import ServiceClients
from services.gateway.members import SearchFilters, search_request
from services.gateway.models import org_units
from services.gateway.state import GatewayState

CHUNK = 256 * 1024
MAX_UPLOAD = 64 * 1024 * 1024  # the members service refuses more, too
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_COLUMNS = (
    "member_no", "name", "phone", "gender", "birthday", "email", "home_store", "tier", "tags", "joined_on",
    "card_no", "card_status",
)  # fmt: skip
EXPORT_BATCH = 500  # members appended to the sheet per hop to a worker thread


class ImportAccepted(BaseModel):
    job_id: str
    status: str


class ImportRowError(BaseModel):
    row: int
    field: str
    message: str  # English
    code: str  # stable per problem (name_required, phone_invalid, phone_duplicate, ...); "" on old jobs


class ImportJobPublic(BaseModel):
    job_id: str
    status: str  # queued, running, completed, failed
    total: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[ImportRowError]
    file_name: str
    message: str


def detect_format(file_name: str, head: bytes) -> str:
    """csv or xlsx, from the first bytes and the file name; anything else is refused here
    (the members service checks the whole file again)."""
    ext = PurePosixPath(file_name).suffix.lower()
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        raise InvalidArgument(
            "Excel 97-2003 (.xls) files are not supported; save the sheet as XLSX or CSV", field="file"
        )
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext in ("", ".csv", ".txt"):
        return "csv"
    raise InvalidArgument(f"only CSV or XLSX files can be imported, not {ext}", field="file")


async def import_header(state: GatewayState, p: Principal, file_name: str, fmt: str) -> pb.ImportHeader:
    """Stores the rows may name (every store in the caller's scope) and the caller's own store
    for rows that name none."""
    async with state.db.sessions() as session:
        stores = (
            await session.execute(
                select(org_units.c.code, org_units.c.path).where(
                    org_units.c.kind == "store", in_scope(org_units.c.path, p.scope)
                )
            )
        ).all()
        own = await org.find(session, p.org_unit) if p.org_unit else None
    return pb.ImportHeader(
        file_name=file_name,
        format=fmt,
        stores={code: path for code, path in stores},
        default_home_store_path=own.path if own is not None and own.kind == "store" else "",
    )


def job_json(job: pb.ImportJob) -> ImportJobPublic:
    return ImportJobPublic(
        job_id=job.job_id, status=job.status, total=job.total, created=job.created, updated=job.updated,
        unchanged=job.unchanged, failed=job.failed, file_name=job.file_name, message=job.message,
        errors=[ImportRowError(row=e.row, field=e.field, message=e.message, code=e.code) for e in job.errors],
    )  # fmt: skip


async def upload_import(
    state: GatewayState, request: Request, p: Principal, file: UploadFile
) -> ImportAccepted:
    """Streams ``file`` to the members service as a new import job, audited; the job runs
    there (``import_job`` tells its progress)."""
    if file.size is not None and file.size > MAX_UPLOAD:
        raise InvalidArgument(f"the file is larger than {MAX_UPLOAD >> 20} MiB", field="file")
    name = (file.filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    head = await file.read(8)
    if not head:
        raise InvalidArgument("the file is empty", field="file")
    await file.seek(0)
    fmt = detect_format(name, head)
    header = await import_header(state, p, name, fmt)

    async def chunks() -> AsyncIterator[pb.ImportChunk]:
        yield pb.ImportChunk(header=header)
        while data := await file.read(CHUNK):
            yield pb.ImportChunk(data=data)

    try:
        job = await state.clients.members.UploadImport(
            chunks(), metadata=ServiceClients.metadata(p), timeout=300
        )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None
    await audit.record_alone(
        state, request, p, "member.import", "import_job", job.job_id, p.scope,
        {"file_name": name, "format": fmt},
    )  # fmt: skip
    return ImportAccepted(job_id=job.job_id, status=job.status)


async def import_job(state: GatewayState, p: Principal, job_id: str) -> ImportJobPublic:
    """An import job's progress and row errors (the caller's own jobs, as members decides)."""
    job = await state.clients.call(
        state.clients.members.GetImportJob, pb.GetImportJobRequest(job_id=job_id), p
    )
    return job_json(job)


def export_row(m: pb.Member) -> list[Any]:
    cards = [c for c in m.cards if c.primary and c.status not in ("replaced", "cancelled")] or list(m.cards)
    card = cards[0] if cards else None
    return [
        m.member_no, m.name, m.phone, m.gender, _day(m.birthday), m.email, m.home_store, m.tier,
        ",".join(m.tags), _day(m.joined_on), card.card_no if card else "", card.status if card else "",
    ]  # fmt: skip


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _new_book():  # type: ignore[no-untyped-def]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    sheet.append(list(EXPORT_COLUMNS))
    return book, sheet


def _append(sheet, rows: list[list[Any]]) -> None:  # type: ignore[no-untyped-def]
    for row in rows:
        sheet.append([_text_cell(sheet, v) for v in row])


def _text_cell(sheet, value: Any) -> Any:  # type: ignore[no-untyped-def]
    """Text that starts with "=" stays text: a member's name must never become a formula."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    while data := spool.read(CHUNK):
        yield data


async def export_xlsx(
    state: GatewayState, request: Request, p: Principal, f: SearchFilters
) -> StreamingResponse:
    """Every member of the caller's scope matching the list's filters, as one XLSX sheet. The
    workbook is written row by row (openpyxl write-only) into a spooled temporary file, so
    neither the members nor the sheet are held in memory."""
    req = await search_request(state, p, f)
    book = sheet = None  # made when the stream answers: a failed call leaves no half-open workbook
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    count = 0
    try:
        batch: list[list[Any]] = []
        if req is not None:  # None: a segment without members, an empty sheet
            call = state.clients.members.ExportMembers(req, metadata=ServiceClients.metadata(p), timeout=900)
            try:
                async for member in call:
                    if book is None:
                        book, sheet = _new_book()
                    batch.append(export_row(member))
                    if len(batch) >= EXPORT_BATCH:
                        await asyncio.to_thread(_append, sheet, batch)
                        count, batch = count + len(batch), []
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc) from None
        if book is None:
            book, sheet = _new_book()
        await asyncio.to_thread(_append, sheet, batch)
        count += len(batch)
        await asyncio.to_thread(book.save, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    await audit.record_alone(
        state, request, p, "member.export", "member", "export.xlsx",
        (req.store_path if req is not None else "") or p.scope, {"filters": f.given(), "rows": count},
    )  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _chunks(spool),
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="members-{stamp}.xlsx"'},
        background=BackgroundTask(spool.close),
    )
