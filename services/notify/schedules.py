"""Daily schedules inside the notify process: birthday and join-anniversary greetings at
``notify_greetings_hour`` (chain local time).

Two replicas never double-send: a run is a ``schedule_runs`` row, unique per (job, run
date), inserted in the same transaction as the run's deliveries, after a transaction-level
advisory lock on the job (the other replica skips the tick instead of waiting on the row).
A run that fails (members unreachable, say) rolls back whole and is retried at the next tick.
Each greeting's delivery key is (job, date, member), so even a row lost by hand would not
greet anyone twice on one day."""

from __future__ import annotations

import asyncio
import logging
import zlib
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from kit.runtime import Runtime
from services.notify import domain, service
from services.notify.context import NotifyContext
from services.notify.models import schedule_runs

log = logging.getLogger("notify.schedules")

# job -> the members' date it greets on (ListMemberDates kind)
GREETINGS = {"birthday": "birthday", "anniversary": "anniversary"}


def _lock_key(job: str) -> int:
    return zlib.crc32(f"notify.schedule.{job}".encode())


async def run_greetings(ctx: NotifyContext, job: str, now: datetime) -> int | None:
    """Run ``job`` for today if it is due and has not run: returns the number of deliveries
    it created, or None when there was nothing to do (not yet the hour, done already, or the
    other replica is running it)."""
    day = domain.scheduled_run_date(now, ctx.tz, ctx.settings.notify_greetings_hour)
    if day is None:
        return None
    async with ctx.db.transaction() as session:
        done = await session.execute(
            select(schedule_runs.c.job).where(schedule_runs.c.job == job, schedule_runs.c.run_date == day)
        )
        if done.first() is not None:
            return None
        if not (await session.execute(select(func.pg_try_advisory_xact_lock(_lock_key(job))))).scalar_one():
            return None
        claimed = await session.execute(
            insert(schedule_runs)
            .values(job=job, run_date=day, started_at=now)
            .on_conflict_do_nothing()
            .returning(schedule_runs.c.job)
        )
        if claimed.first() is None:  # the other replica finished it between our two reads
            return None
        created = await _greet(ctx, session, job, day, now)
        await session.execute(
            schedule_runs.update()
            .where(schedule_runs.c.job == job, schedule_runs.c.run_date == day)
            .values(deliveries=created, finished_at=func.now())
        )
    log.info("schedule %s for %s: %d deliveries", job, day, created)
    return created


async def _greet(ctx: NotifyContext, session, job: str, day: date, now: datetime) -> int:  # type: ignore[no-untyped-def]
    created = 0
    for m in await ctx.members.list_member_dates(GREETINGS[job], day.isoformat()):
        variables = {"member_no": m.member_no, "time": day.isoformat()}
        if job == "anniversary":
            variables["years"] = str(m.years)
        created += await service.add_deliveries(
            ctx, session, event_id=domain.greeting_key(job, day, m.member_no), event=job,
            org_path=m.home_store_path, member_no=m.member_no, variables=variables, now=now,
        )  # fmt: skip
    return created


async def run_due(ctx: NotifyContext, now: datetime) -> dict[str, int | None]:
    results: dict[str, int | None] = {}
    for job in GREETINGS:
        try:
            results[job] = await run_greetings(ctx, job, now)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("schedule %s failed; retrying at the next tick", job)
            results[job] = None
    return results


async def run_schedules(rt: Runtime) -> None:
    """Background loop of the notify process (beside the sender)."""
    from services.notify.consumers import context_for

    ctx = context_for(rt)
    while True:
        await asyncio.sleep(rt.settings.notify_jobs_interval_seconds)
        await run_due(ctx, ctx.now())


__all__ = ["run_due", "run_greetings", "run_schedules"]
