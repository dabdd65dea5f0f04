"""Member import: a CSV or XLSX upload becomes a job that a background task works through
row by row, in batches, with progress and a per-row error report.

The file goes to a temporary file as it arrives and is read one row at a time, so a
100 000-row file never sits in memory. Rows are validated with the rules registration uses
and written with the same use cases (``service.create_member``, ``service.apply_changes``):
a new phone creates a member with its card and events, a known phone updates that member.
Each row has its own savepoint, so a broken row fails alone; re-running a file creates no
duplicates. A job's runner holds a PostgreSQL advisory lock on the job until it ends, which
is how a starting replica tells an interrupted job (no holder) from a live one elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.db import asyncpg_dsn
from kit.errors import ChainclubError, InvalidArgument, NotFound
from services.members import access, service
from services.members.context import MembersContext
from services.members.import_limits import check_limits
from services.members.import_rows import (  # noqa: F401 - re-exported for callers and tests
    COLUMN_ALIASES,
    CONSENT_COLUMNS,
    CUSTOM,
    FALSE,
    FORMATS,
    GENDER_ALIASES,
    LOOSE_DATE,
    MAX_BYTES,
    REFUSED,
    REQUIRED_COLUMNS,
    TAG_SEPARATORS,
    TRUE,
    XLSX_MAGIC,
    Columns,
    FileUnreadable,
    ImportRow,
    RowError,
    RowRules,
    RowSource,
    SeenPhones,
    _check_utf8,
    _iso,
    _store_path,
    cell_text,
    changes_for,
    check_file,
    code_for,
    column_map,
    custom_values,
    date_text,
    header_key,
    open_rows,
    parse_bool,
    parse_gender,
    parse_row,
    registration_for,
    split_tags,
)
from services.members.models import import_errors, import_jobs, members
from services.members.queries import field_defs

log = logging.getLogger("members.imports")

BATCH = 500  # rows per transaction
MAX_STORED_ERRORS = 10_000  # `failed` keeps counting past this
ERRORS_SHOWN = 1000
CONCURRENT_JOBS = 2  # parses per process (a job's run, an upload's check); further jobs wait as "queued"
IMPORTERS = access.MANAGERS
INTERRUPTED = "interrupted; upload the file again (rows already imported are not duplicated)"


class JobLock:
    """A session-level advisory lock on one job, on a connection of its own (outside the
    pool): held while a process owns the job, released when it ends or the process dies."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @staticmethod
    def key(job_id: uuid.UUID) -> int:
        return int.from_bytes(job_id.bytes[:8], "big", signed=True)

    @classmethod
    async def acquire(cls, ctx: MembersContext, job_id: uuid.UUID) -> JobLock:
        conn = await asyncpg.connect(asyncpg_dsn(ctx.db.url), timeout=10)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", cls.key(job_id))
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def release(self) -> None:
        await self.conn.close()  # closing the session releases its advisory locks


def job_pb(row, errors: Sequence = ()) -> pb.ImportJob:  # type: ignore[no-untyped-def]
    return pb.ImportJob(
        job_id=str(row.id), status=row.status, total=row.total, created=row.created, updated=row.updated,
        unchanged=row.unchanged, failed=row.failed, file_name=row.file_name, message=row.message,
        errors=[pb.ImportRowError(row=e.row, field=e.field, message=e.message, code=e.code) for e in errors],
    )  # fmt: skip


def _field_of(err: ChainclubError) -> str:
    return err.extra.get("field") or ("phone" if err.reason == "member_exists" else "")


def _code_of(err: ChainclubError, field: str) -> str:
    """A write-time refusal's code (a phone another member holds has its own)."""
    return "phone_taken" if err.reason == "member_exists" else code_for(field)


class Imports:
    """Uploads, their background runs and reads of jobs, for one service process."""

    def __init__(self, ctx: MembersContext) -> None:
        self.ctx = ctx
        self.tasks: set[asyncio.Task[None]] = set()  # referenced so they are not collected
        self._slots = asyncio.Semaphore(CONCURRENT_JOBS)  # the jobs' runs
        # An upload's own parse (its header) has slots of its own: an upload is answered at once
        # even while imports run; at most twice CONCURRENT_JOBS bounded parses per process.
        self._upload_slots = asyncio.Semaphore(CONCURRENT_JOBS)

    async def upload(self, p: Principal, chunks: AsyncIterator[pb.ImportChunk]) -> pb.ImportJob:
        access.require(p, IMPORTERS, "import members")
        stream = aiter(chunks)
        first = await anext(stream, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument("the first chunk of an upload must be its header", field="header")
        header = first.header
        fmt = header.format.strip().lower()
        if fmt not in FORMATS:
            raise InvalidArgument("format must be csv or xlsx", field="format")
        fd, path = tempfile.mkstemp(prefix="chainclub-import-", suffix=f".{fmt}")
        handed_over = False
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                async for chunk in stream:
                    if chunk.WhichOneof("part") != "data":
                        raise InvalidArgument("only the first chunk may be a header", field="header")
                    size += len(chunk.data)
                    if size > MAX_BYTES:
                        raise InvalidArgument(f"the file is larger than {MAX_BYTES >> 20} MiB", field="file")
                    out.write(chunk.data)
            if size == 0:
                raise InvalidArgument("the file is empty", field="file")
            await asyncio.to_thread(check_limits, path, fmt, self.ctx.settings.members_import_max_rows)
            async with self._upload_slots:  # a parse is bounded once the limits hold, and counted here
                await asyncio.to_thread(check_file, path, fmt)
            job_id = uuid.uuid4()
            lock = await JobLock.acquire(self.ctx, job_id)  # before the row exists: never orphan-looking
            try:
                async with self.ctx.db.transaction() as session:
                    row = (
                        await session.execute(
                            import_jobs.insert()
                            .values(
                                id=job_id, status="queued", file_name=header.file_name.strip()[:255] or f"upload.{fmt}",
                                format=fmt, scope=p.scope, created_by=p.sub,
                            )
                            .returning(*import_jobs.c)
                        )
                    ).one()  # fmt: skip
            except BaseException:
                await lock.release()
                raise
            stores = {code.upper(): store for code, store in header.stores.items()}
            task = asyncio.create_task(
                self._run(job_id, path, fmt, stores, header.default_home_store_path, p, lock),
                name=f"import-{job_id}",
            )
            handed_over = True
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return job_pb(row)
        finally:
            if not handed_over:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    async def get(self, p: Principal, job_id: str) -> pb.ImportJob:
        access.require(p, IMPORTERS, "read imports")
        try:
            jid = uuid.UUID(job_id)
        except ValueError:
            raise NotFound(f"no import job {job_id!r}") from None
        async with self.ctx.db.sessions() as session:
            row = (await session.execute(select(import_jobs).where(import_jobs.c.id == jid))).first()
            if row is None or not p.may_access(row.scope):
                raise NotFound(f"no import job {job_id!r}")
            errors = (
                await session.execute(
                    select(import_errors)
                    .where(import_errors.c.job_id == jid)
                    .order_by(import_errors.c.row, import_errors.c.field)
                    .limit(ERRORS_SHOWN)
                )
            ).all()
        return job_pb(row, errors)

    async def _run(
        self, job_id: uuid.UUID, path: str, fmt: str, stores: dict[str, str], default: str, p: Principal,
        lock: JobLock,
    ) -> None:  # fmt: skip
        try:
            async with self._slots:
                message = await self._process(job_id, path, fmt, stores, default, p)
            await self._finish(job_id, "completed", message)
        except ChainclubError as err:
            await self._finish(job_id, "failed", err.detail)
        except Exception:
            log.exception("import %s stopped", job_id)
            await self._finish(
                job_id, "failed", "the import stopped on an internal error; rows already imported are "
                "kept, upload the file again to finish it",
            )  # fmt: skip
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
            await lock.release()

    async def _finish(self, job_id: uuid.UUID, status: str, message: str) -> None:
        try:
            async with self.ctx.db.transaction() as session:
                await session.execute(
                    update(import_jobs)
                    .where(import_jobs.c.id == job_id)
                    .values(status=status, message=message[:2000], finished_at=datetime.now(UTC))
                )
        except Exception:  # the next start marks it interrupted
            log.exception("cannot record the end of import %s", job_id)

    async def _process(
        self, job_id: uuid.UUID, path: str, fmt: str, stores: dict[str, str], default: str, p: Principal
    ) -> str:
        ctx = self.ctx
        async with ctx.db.transaction() as session:
            await session.execute(
                update(import_jobs).where(import_jobs.c.id == job_id).values(status="running")
            )
        async with ctx.db.sessions() as session:
            custom = await field_defs(session)
        rules = RowRules(ctx.today(), ctx.settings.default_phone_region, stores, custom)
        source = await asyncio.to_thread(RowSource, path, fmt, rules)
        stored = dropped = 0
        try:
            while batch := await asyncio.to_thread(source.next_batch, BATCH):
                kept, lost = await self._apply(job_id, p, batch, default, stored)
                stored, dropped = stored + kept, dropped + lost
        finally:
            await asyncio.to_thread(source.close)
        notes = []
        if dropped:
            notes.append(f"only the first {stored} row errors are kept ({dropped} more not shown)")
        if source.columns.ignored:
            notes.append(f"columns ignored: {', '.join(source.columns.ignored)}")
        return "; ".join(notes)

    async def _apply(
        self, job_id: uuid.UUID, p: Principal, batch: list[ImportRow | list[RowError]], default: str,
        stored: int,
    ) -> tuple[int, int]:  # fmt: skip
        """One batch in one transaction, a savepoint per row; counters move with the rows.
        Returns how many row errors were stored and how many dropped (past the cap)."""
        ctx = self.ctx
        counts: Counter[str] = Counter()
        errors: list[RowError] = []
        async with ctx.db.transaction() as session:
            defs = await field_defs(session)
            bidx = {r.row: ctx.keyring.blind_index(r.phone) for r in batch if isinstance(r, ImportRow)}
            existing = {}
            if bidx:  # locked in one order, so concurrent imports cannot deadlock on them
                found = await session.execute(
                    select(members)
                    .where(members.c.phone_bidx.in_(list(bidx.values())))
                    .order_by(members.c.phone_bidx)
                    .with_for_update()
                )
                existing = {m.phone_bidx: m for m in found}
            for item in batch:
                if not isinstance(item, ImportRow):
                    counts["failed"] += 1
                    errors.extend(item)
                    continue
                try:
                    async with session.begin_nested():
                        outcome = await self._apply_row(
                            session, p, item, existing.get(bidx[item.row]), defs, default
                        )
                except ChainclubError as err:
                    counts["failed"] += 1
                    field = _field_of(err)
                    errors.append(RowError(item.row, field, err.detail, _code_of(err, field)))
                except DBAPIError:
                    log.warning("import %s: row %d refused by the database", job_id, item.row, exc_info=True)
                    counts["failed"] += 1
                    errors.append(
                        RowError(
                            item.row, "", "the database refused this row; check it and upload again", REFUSED
                        )
                    )
                else:
                    counts[outcome] += 1
            keep = errors[: max(0, MAX_STORED_ERRORS - stored)]
            if keep:
                await session.execute(
                    import_errors.insert(),
                    [
                        {
                            "job_id": job_id,
                            "row": e.row,
                            "field": e.field[:64],
                            "message": e.message[:1000],
                            "code": e.code,
                        }
                        for e in keep
                    ],
                )
            c = import_jobs.c
            await session.execute(
                update(import_jobs)
                .where(c.id == job_id)
                .values(
                    total=c.total + len(batch), created=c.created + counts["created"],
                    updated=c.updated + counts["updated"], unchanged=c.unchanged + counts["unchanged"],
                    failed=c.failed + counts["failed"],
                )
            )  # fmt: skip
        return len(keep), len(errors) - len(keep)

    async def _apply_row(self, session, p: Principal, item: ImportRow, found, defs, default: str) -> str:  # type: ignore[no-untyped-def]
        if found is None:
            await service.create_member(self.ctx, session, p, registration_for(item, default), defs)
            return "created"
        if not p.may_access(found.home_store_path):
            raise InvalidArgument("member exists outside your scope", field="phone")
        values, fields = changes_for(item, list(found.tags or []), found.consents or {})
        changed = await service.apply_changes(self.ctx, session, p, found, values, fields, defs)
        return "updated" if changed else "unchanged"


async def recover_interrupted(ctx: MembersContext) -> int:
    """Jobs left queued or running by a process that is gone (nobody holds their lock) are
    marked failed; returns how many."""
    async with ctx.db.sessions() as session:
        ids = (
            await session.execute(
                select(import_jobs.c.id).where(import_jobs.c.status.in_(("queued", "running")))
            )
        ).scalars()
        ids = list(ids)
    if not ids:
        return 0
    done = 0
    conn = await asyncpg.connect(asyncpg_dsn(ctx.db.url), timeout=10)
    try:
        for job_id in ids:
            key = JobLock.key(job_id)
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                continue  # a live process owns it
            try:
                async with ctx.db.transaction() as session:
                    result = await session.execute(
                        update(import_jobs)
                        .where(import_jobs.c.id == job_id, import_jobs.c.status.in_(("queued", "running")))
                        .values(status="failed", message=INTERRUPTED, finished_at=datetime.now(UTC))
                    )
                    done += result.rowcount or 0
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
    finally:
        await conn.close()
    return done
