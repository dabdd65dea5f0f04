"""Issuing a coupon template to every member of a segment as a job the console can leave and
come back to (发放进度).

The members are fixed when the job starts (the segment as loyalty last computed it, in the
caller's scope or an org unit inside it) and issued in batches of ``BATCH``, batch ``n`` under
the idempotency key ``<key>:<n>``: a job resumed after the gateway stopped, or run twice at
once, issues nothing twice. The job runs in the gateway process that started it; a running job
whose progress has not moved for ``STALE_SECONDS`` is taken up again by whoever reads it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError, NotFound
from services.gateway import audit
from services.gateway.analytics import segment_members
from services.gateway.checkout_requests import TRANSIENT
from services.gateway.models import issue_jobs
from services.gateway.state import GatewayState

log = logging.getLogger("chainclub.gateway.issue_jobs")

BATCH = 500
STALE_SECONDS = 30.0
TOKEN_SECONDS = 300
ATTEMPTS = 5  # a batch's tries while loyalty does not answer; then the job waits to be taken up again
NAMESPACE = uuid.UUID("0f6d5a3c-2f3e-4b39-9a52-8d1f3c7e1b44")

_running: dict[uuid.UUID, asyncio.Task] = {}  # this process's jobs


def job_json(row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "job_id": str(row.job_id), "template_id": row.template_id, "segment": row.segment, "scope": row.scope,
        "total": row.total, "done": min(row.total, row.batches_done * BATCH), "issued": row.issued,
        "skipped": row.skipped, "status": row.status, "message": row.message, "actor": row.actor,
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
    }  # fmt: skip


async def start(
    state: GatewayState, request: Request, p: Principal, key: str, template_id: str, segment: str, scope: str
) -> dict[str, Any]:
    """The job of ``key`` (the scoped Idempotency-Key): made and started the first time, the
    same job after (a conflict if the key was used for another template, segment or scope)."""
    job_id = uuid.uuid5(NAMESPACE, key)
    async with state.db.sessions() as session:
        row = (await session.execute(select(issue_jobs).where(issue_jobs.c.job_id == job_id))).first()
    if row is None:
        member_nos = await segment_members(state, p, segment, scope if scope != p.scope else "")
        values = dict(
            job_id=job_id, request_key=key, template_id=template_id, segment=segment, scope=scope, actor=p.sub,
            actor_role=p.role, actor_scope=p.scope, member_nos=member_nos, total=len(member_nos),
            status="running" if member_nos else "completed",
        )  # fmt: skip
        async with state.db.transaction() as session:
            await session.execute(insert(issue_jobs).values(**values).on_conflict_do_nothing())
            row = (await session.execute(select(issue_jobs).where(issue_jobs.c.job_id == job_id))).one()
        if row.actor == p.sub and row.template_id == template_id:
            await audit.record_alone(state, request, p, "loyalty.coupons.issue_job", "coupon_template", template_id,
                                     scope, {"job_id": str(job_id), "segment": segment, "members": row.total})  # fmt: skip
    if (row.template_id, row.segment, row.scope) != (template_id, segment, scope):
        raise ChainclubError(
            "this key already started issuing another template or segment", reason="idempotency_key_reused"
        )
    _spawn(state, row)
    return job_json(row)


async def get(state: GatewayState, p: Principal, job_id: str) -> dict[str, Any]:
    """A job of the caller's scope (not_found otherwise), taken up again when it is stuck."""
    try:
        jid = uuid.UUID(job_id)
    except ValueError:
        raise NotFound("no such job") from None
    async with state.db.sessions() as session:
        row = (await session.execute(select(issue_jobs).where(issue_jobs.c.job_id == jid))).first()
    if row is None or not p.may_access(row.scope):
        raise NotFound("no such job")
    stale = datetime.now(UTC) - row.updated_at > timedelta(seconds=STALE_SECONDS)
    if row.status == "running" and stale:
        _spawn(state, row)
    return job_json(row)


def _spawn(state: GatewayState, row) -> None:  # type: ignore[no-untyped-def]
    if row.status != "running" or (row.job_id in _running and not _running[row.job_id].done()):
        return
    task = asyncio.create_task(_run(state, row.job_id), name=f"issue-job-{row.job_id}")
    _running[row.job_id] = task
    task.add_done_callback(lambda _t, jid=row.job_id: _running.pop(jid, None))


def _acting(state: GatewayState, row) -> Principal:  # type: ignore[no-untyped-def]
    """The person who started the job, as a fresh short-lived token says (the job outlives the
    request's token); the services check their role and scope as for the request."""
    org_unit = row.actor_scope.rsplit("/", 1)[-1]
    claims = {"sub": row.actor, "role": row.actor_role, "scope": row.actor_scope, "org_unit": org_unit}
    return Principal(sub=row.actor, role=row.actor_role, scope=row.actor_scope, org_unit=org_unit,
                     token=state.keys.sign(claims, TOKEN_SECONDS))  # fmt: skip


async def _run(state: GatewayState, job_id: uuid.UUID) -> None:
    """Issue the remaining batches, recording the progress after each one."""
    async with state.db.sessions() as session:
        row = (await session.execute(select(issue_jobs).where(issue_jobs.c.job_id == job_id))).one()
    members: list[str] = list(row.member_nos)
    n = row.batches_done
    while n * BATCH < len(members):
        batch = members[n * BATCH : (n + 1) * BATCH]
        req = pb.IssueCouponsRequest(request_id=f"{row.request_key}:{n}", template_id=row.template_id,
                                     member_nos=batch)  # fmt: skip
        try:
            reply = await _issue(state, row, req)
        except ChainclubError as exc:
            if exc.reason in TRANSIENT:  # left running: the next reader takes it up again
                log.warning("issue job %s: batch %d waits (%s)", job_id, n, exc.detail)
                return
            await _record(state, job_id, status="failed", message=f"{exc.reason}: {exc.detail}"[:500])
            return
        moved = await _record(state, job_id, after=n, batches_done=n + 1, issued=issue_jobs.c.issued + reply.issued,
                              skipped=issue_jobs.c.skipped + reply.skipped,
                              status="completed" if (n + 1) * BATCH >= len(members) else "running")  # fmt: skip
        if not moved:  # another runner of the job got there first: it goes on
            return
        n += 1


async def _issue(state: GatewayState, row, req: pb.IssueCouponsRequest) -> pb.IssueCouponsResponse:  # type: ignore[no-untyped-def]
    for attempt in range(ATTEMPTS):
        try:
            return await state.clients.call(
                state.clients.loyalty.IssueCoupons, req, _acting(state, row), timeout=60
            )
        except ChainclubError as exc:
            if exc.reason not in TRANSIENT or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def _record(state: GatewayState, job_id: uuid.UUID, after: int | None = None, **values: Any) -> bool:
    """Move a running job on; ``after``: only from that many batches done (False otherwise)."""
    where = [issue_jobs.c.job_id == job_id, issue_jobs.c.status == "running"]
    if after is not None:
        where.append(issue_jobs.c.batches_done == after)
    async with state.db.transaction() as session:
        result = await session.execute(
            update(issue_jobs).where(*where).values(updated_at=datetime.now(UTC), **values)
        )
    return bool(result.rowcount)
