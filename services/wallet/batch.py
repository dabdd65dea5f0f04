"""Batch top-ups (批量充值): a job of rows, each row its own idempotent top-up (request id =
the job's key + the row number), so a retried or resumed job never tops up a row twice."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import select, update

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument, NotFound
from kit.idempotency import request_hash
from services.wallet import access, domain
from services.wallet.context import WalletContext
from services.wallet.models import batch_jobs, batch_rows
from services.wallet.service import acting_path, top_up

log = logging.getLogger("wallet.batch")
MAX_ROWS = 100_000
_running: set[asyncio.Task] = set()


def job_pb(job, rows) -> pb.BatchJob:  # type: ignore[no-untyped-def]
    return pb.BatchJob(
        job_id=str(job.id), status=job.status, total=job.total, done=job.done, failed=job.failed,
        rows=[
            pb.BatchRowResult(
                row=r.row, card_no=r.card_no, amount=r.amount, status=r.status,
                transaction_id=str(r.transaction_id) if r.transaction_id else "", error_code=r.error_code or "",
                message=r.message or "",
            )
            for r in rows
        ],
    )  # fmt: skip


async def start(ctx: WalletContext, p: Principal, req: pb.StartBatchTopUpRequest) -> pb.BatchJob:
    access.require(p, access.MANAGERS, "run batch top-ups")
    if not req.request_id:
        raise domain.WalletError(
            "an idempotency key (request_id) is required", reason="idempotency_key_required"
        )
    if not req.rows:
        raise InvalidArgument("a batch needs at least one row", field="rows")
    if len(req.rows) > MAX_ROWS:
        raise InvalidArgument(f"at most {MAX_ROWS} rows per batch", field="rows")
    acting = acting_path(p, req.acting_store_path)
    digest = request_hash(req)
    for i, row in enumerate(req.rows, start=1):
        if not row.card_no.strip():
            raise InvalidArgument(f"row {i}: card_no is required", field=f"rows.{i}.card_no")
        domain.check_amount(row.amount, f"rows.{i}.amount")
    async with ctx.db.transaction() as session:
        job = (
            await session.execute(select(batch_jobs).where(batch_jobs.c.request_id == req.request_id))
        ).first()
        if job is None:
            job_id = uuid.uuid4()
            await session.execute(
                batch_jobs.insert().values(
                    id=job_id, request_id=req.request_id, request_hash=digest, status="running", total=len(req.rows),
                    acting_store_path=acting, created_by=p.sub,
                )
            )  # fmt: skip
            await session.execute(
                batch_rows.insert(),
                [{"job_id": job_id, "row": i, "card_no": r.card_no.strip(), "amount": r.amount}
                 for i, r in enumerate(req.rows, start=1)],
            )  # fmt: skip
            job = (await session.execute(select(batch_jobs).where(batch_jobs.c.id == job_id))).one()
        elif job.created_by != p.sub or job.request_hash != digest:
            raise domain.IdempotencyKeyReused("this idempotency key was used for a different batch")
        elif job.status == "interrupted":
            await session.execute(
                update(batch_jobs).where(batch_jobs.c.id == job.id).values(status="running")
            )
        else:
            return await get(ctx, p, pb.GetBatchJobRequest(job_id=str(job.id)))
    task = asyncio.create_task(_run(ctx, p, job.id, req.request_id, acting))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return await get(ctx, p, pb.GetBatchJobRequest(job_id=str(job.id)))


async def _run(ctx: WalletContext, p: Principal, job_id: uuid.UUID, key: str, acting: str) -> None:
    try:
        async with ctx.db.sessions() as session:
            pending = (
                await session.execute(
                    select(batch_rows).where(batch_rows.c.job_id == job_id, batch_rows.c.status == "pending")
                    .order_by(batch_rows.c.row)
                )
            ).all()  # fmt: skip
        for row in pending:
            values: dict[str, object]
            try:
                txn = await top_up(
                    ctx, p,
                    pb.TopUpRequest(request_id=f"{key}:{row.row}", card_no=row.card_no, amount=row.amount,
                                    channel="batch", acting_store_path=acting),
                )  # fmt: skip
                values = {"status": "done", "transaction_id": uuid.UUID(txn.transaction_id)}
            except ChainclubError as err:
                values = {"status": "failed", "error_code": err.reason, "message": err.detail[:500]}
            async with ctx.db.transaction() as session:
                await session.execute(
                    update(batch_rows)
                    .where(batch_rows.c.job_id == job_id, batch_rows.c.row == row.row)
                    .values(**values)
                )
                counter = batch_jobs.c.done if values["status"] == "done" else batch_jobs.c.failed
                await session.execute(
                    update(batch_jobs).where(batch_jobs.c.id == job_id).values({counter: counter + 1})
                )
        async with ctx.db.transaction() as session:
            await session.execute(
                update(batch_jobs).where(batch_jobs.c.id == job_id).values(status="completed")
            )
    except Exception:
        log.exception("batch top-up job %s stopped; re-send it with the same key to resume", job_id)
        async with ctx.db.transaction() as session:
            await session.execute(
                update(batch_jobs).where(batch_jobs.c.id == job_id).values(status="interrupted")
            )


async def mark_interrupted(ctx: WalletContext) -> None:
    """At start: jobs left running by a stopped process can be resumed by re-sending them."""
    async with ctx.db.transaction() as session:
        await session.execute(
            update(batch_jobs).where(batch_jobs.c.status == "running").values(status="interrupted")
        )


async def get(ctx: WalletContext, p: Principal, req: pb.GetBatchJobRequest) -> pb.BatchJob:
    access.require(p, access.MANAGERS | {"auditor"}, "read batch jobs")
    try:
        job_id = uuid.UUID(req.job_id)
    except ValueError:
        raise NotFound(f"no batch job {req.job_id!r}") from None
    async with ctx.db.sessions() as session:
        job = (await session.execute(select(batch_jobs).where(batch_jobs.c.id == job_id))).first()
        if job is None or not p.may_access(job.acting_store_path):
            raise NotFound(f"no batch job {req.job_id!r}")
        rows = (
            await session.execute(
                select(batch_rows).where(batch_rows.c.job_id == job_id).order_by(batch_rows.c.row).limit(1000)
            )
        ).all()
    return job_pb(job, rows)
