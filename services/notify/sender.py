"""The sender job: claims due pending deliveries (``FOR UPDATE SKIP LOCKED``, so replicas
never send one twice), reads the member's contact and consents from members, renders and
sends. Marketing needs consent (else ``skipped``) and waits out quiet hours (deferred, not
dropped), as do the non-urgent transactional reminders; failures retry with backoff and end
``dead`` after ``notify_max_attempts``; a provider's 429 defers the delivery to its
Retry-After without using up an attempt."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from kit.errors import NotFound
from services.notify import domain, templates
from services.notify.channels import Message, ProviderBusy
from services.notify.context import NotifyContext
from services.notify.models import deliveries
from services.notify.service import _template

log = logging.getLogger("notify.sender")


async def send_due(ctx: NotifyContext, now: datetime, *, batch: int = 100) -> dict[str, int]:
    counts = {"sent": 0, "deferred": 0, "skipped": 0, "retry": 0, "dead": 0}
    quiet = domain.parse_quiet_hours(ctx.settings.notify_quiet_hours)
    for _ in range(batch):
        async with ctx.db.transaction() as session:
            row = (
                await session.execute(
                    select(deliveries)
                    .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
                    # Transactional notices first (false sorts before true): a top-up or a
                    # purchase receipt never waits behind a campaign or a bulk import's welcomes.
                    .order_by(deliveries.c.marketing, deliveries.c.next_attempt_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                break
            values = await _attempt(ctx, session, row, now, quiet)
            outcome = values.pop("_outcome")
            await session.execute(update(deliveries).where(deliveries.c.id == row.id).values(**values))
            counts[outcome] += 1
    return counts


async def _attempt(ctx: NotifyContext, session, row: Any, now: datetime, quiet) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    kind = domain.EVENT_KINDS.get(row.event)
    quiet_applies = row.marketing or (kind is not None and kind.respects_quiet_hours)
    if quiet_applies and (until := domain.quiet_until(now, quiet, ctx.tz)) is not None:
        return {"next_attempt_at": until, "_outcome": "deferred"}
    try:
        variables = dict(row.variables)
        to = row.recipient
        if row.member_no:
            try:
                member = await ctx.members.get_member(row.member_no)
            except NotFound:
                return _skip("member not found")
            if member.status != "active":
                return _skip(f"member is {member.status}")
            if row.marketing and row.channel in domain.CONSENT_CHANNELS:
                if not getattr(member.consents, row.channel):
                    return _skip(f"no {row.channel} consent")
            variables.setdefault("member_name", member.name)
            to = {"sms": member.phone, "email": member.email}.get(row.channel, member.member_no)
        if not to:
            return _skip(f"no {row.channel} contact")
        template = await _template(session, row.event, row.channel, row.locale)
        if template is None:
            return _skip(f"no {row.locale} template for {row.event}/{row.channel}")
        message = Message(
            delivery_id=str(row.id), event=row.event, channel=row.channel, to=to,
            subject=await templates.render(template.subject, variables),
            body=await templates.render(template.body, variables),
            member_no=row.member_no, org_path=row.org_path,
        )  # fmt: skip
        await ctx.channels[row.channel].send(message)
    except ProviderBusy as busy:  # the provider's rate limit: not the delivery's fault
        return {
            "last_error": str(busy)[:2000],
            "next_attempt_at": now + timedelta(seconds=max(busy.retry_after, 1.0)),
            "_outcome": "deferred",
        }
    except Exception as exc:  # a provider, members or template failure: retry, then dead
        attempts = row.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= ctx.settings.notify_max_attempts:
            log.error("delivery %s dead after %d attempts: %s", row.id, attempts, error)
            return {"attempts": attempts, "last_error": error, "status": "dead", "_outcome": "dead"}
        delay = domain.retry_delay(attempts, ctx.settings.notify_retry_base_seconds)
        return {
            "attempts": attempts,
            "last_error": error,
            "next_attempt_at": now + delay,
            "_outcome": "retry",
        }
    return {
        "attempts": row.attempts + 1,
        "status": "sent",
        "sent_at": now,
        "last_error": "",
        "_outcome": "sent",
    }


def _skip(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "last_error": reason, "_outcome": "skipped"}


async def run_sender(ctx: NotifyContext) -> None:
    """Background loop of the notify process."""
    while True:
        await asyncio.sleep(ctx.settings.notify_jobs_interval_seconds)
        try:
            await send_due(ctx, ctx.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notify sender failed; retrying at the next interval")
