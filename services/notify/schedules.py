"""Daily schedules inside the notify process: birthday and join-anniversary greetings at
``notify_greetings_hour`` and the business summary (营业汇报) of the previous day to the
managers at ``notify_summary_hour`` (chain local time).

Two replicas never double-send: a run is a ``schedule_runs`` row, unique per (job, run
date), inserted in the same transaction as the run's deliveries, after a transaction-level
advisory lock on the job (the other replica skips the tick instead of waiting on the row).
A run that fails (members unreachable, say) rolls back whole and is retried at the next tick.
Each delivery's key is (job, date, member or contact path), so even a row lost by hand would
not send anyone the same thing twice on one day."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import domain, report, service
from services.notify.context import NotifyContext
from services.notify.models import schedule_runs

log = logging.getLogger("notify.schedules")

# job -> the members' date it greets on (ListMemberDates kind)
GREETINGS = {"birthday": "birthday", "anniversary": "anniversary"}


def _lock_key(job: str) -> int:
    return zlib.crc32(f"notify.schedule.{job}".encode())


Work = Callable[[AsyncSession, date], Awaitable[int]]


async def _run_once(ctx: NotifyContext, job: str, day: date, now: datetime, work: Work) -> int | None:
    """Run ``work`` for ``job`` on ``day`` unless it ran (or runs on the other replica): the
    claim row and the work's deliveries commit together or not at all."""
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
        created = await work(session, day)
        await session.execute(
            schedule_runs.update()
            .where(schedule_runs.c.job == job, schedule_runs.c.run_date == day)
            .values(deliveries=created, finished_at=func.now())
        )
    log.info("schedule %s for %s: %d deliveries", job, day, created)
    return created


async def run_greetings(ctx: NotifyContext, job: str, now: datetime) -> int | None:
    """Run ``job`` for today if it is due and has not run: returns the number of deliveries
    it created, or None when there was nothing to do (not yet the hour, done already, or the
    other replica is running it)."""
    day = domain.scheduled_run_date(now, ctx.tz, ctx.settings.notify_greetings_hour)
    if day is None:
        return None
    return await _run_once(ctx, job, day, now, lambda session, day: _greet(ctx, session, job, day, now))


async def run_daily_summary(ctx: NotifyContext, now: datetime) -> int | None:
    """From ``notify_summary_hour`` on, mail the previous local day's business summary
    (营业汇报) once to each configured manager contact: the figures of the stores in its
    subtree from members, wallet and loyalty, per store and per region."""
    contacts = ctx.settings.notify_summary_contacts
    day = domain.scheduled_run_date(now, ctx.tz, ctx.settings.notify_summary_hour)
    if not contacts or day is None or ctx.reports is None:
        return None
    reports = ctx.reports

    async def work(session: AsyncSession, day: date) -> int:
        reported = (day - timedelta(days=1)).isoformat()
        replies = {
            svc: await reports.daily_summary(svc, reported) for svc in ("members", "wallet", "loyalty")
        }
        stores = report.merge(replies)
        created = 0
        for scope, emails in sorted(contacts.items()):
            if not emails:
                continue
            created += await service.add_deliveries(
                ctx, session, event_id=domain.greeting_key("daily_summary", day, scope), event="daily_summary",
                org_path=scope, recipient=",".join(emails), channels=("email",), now=now,
                variables=report.variables_for(scope, reported, stores),
            )  # fmt: skip
        return created

    return await _run_once(ctx, "daily_summary", day, now, work)


async def _greet(ctx: NotifyContext, session: AsyncSession, job: str, day: date, now: datetime) -> int:
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
    jobs: dict[str, Callable[[], Awaitable[int | None]]] = {
        **{job: partial(run_greetings, ctx, job, now) for job in GREETINGS},
        "daily_summary": partial(run_daily_summary, ctx, now),
    }
    results: dict[str, int | None] = {}
    for job, run in jobs.items():
        try:
            results[job] = await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("schedule %s failed; retrying at the next tick", job)
            results[job] = None
    return results


async def run_schedules(ctx: NotifyContext) -> None:
    """Background loop of the notify process (beside the sender)."""
    while True:
        await asyncio.sleep(ctx.settings.notify_jobs_interval_seconds)
        await run_due(ctx, ctx.now())


__all__ = ["run_daily_summary", "run_due", "run_greetings", "run_schedules"]
