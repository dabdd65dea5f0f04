"""Finishing the checkouts nobody is running any more (a crashed gateway's, or a request that
gave up): the resumer runs at start-up and then every few seconds in each gateway; a checkout
with a live lease is never raced (services/gateway/checkout.py holds the saga)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import and_, func, or_, select, text

from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway.checkout import ACTIVE, TRANSIENT, drive
from services.gateway.models import checkouts
from services.gateway.state import GatewayState

log = logging.getLogger("gateway.checkout")


def saga_principal(state: GatewayState, store_path: str) -> Principal:
    """The gateway itself, acting for a checkout's store (a short-lived service token)."""
    claims = {"sub": "gateway-saga", "role": "service", "scope": store_path,
              "org_unit": store_path.rsplit("/", 1)[-1]}  # fmt: skip
    token = state.keys.sign(claims, 300)
    return Principal(sub="gateway-saga", role="service", scope=store_path,
                     org_unit=claims["org_unit"], token=token)  # fmt: skip


async def resume_stuck(state: GatewayState, *, older_than: float = 30.0, limit: int = 100) -> int:
    """Finish checkouts nobody is running (a crashed gateway's, or a failed request's):
    paid ones are completed or refunded, unpaid ones released. Returns how many ended."""
    async with state.db.sessions() as session:
        rows = (
            await session.execute(
                select(checkouts.c.checkout_id, checkouts.c.store_path)
                .where(
                    checkouts.c.status.in_(ACTIVE),
                    or_(checkouts.c.lease_until.is_(None), checkouts.c.lease_until < func.now()),
                    and_(
                        checkouts.c.updated_at < func.now() - text(f"interval '{float(older_than)} seconds'")
                    ),
                )
                .order_by(checkouts.c.updated_at)
                .limit(limit)
            )
        ).all()
    done = 0
    for cid, store_path in rows:
        try:
            await drive(state, saga_principal(state, store_path), cid, recover=True)
            done += 1
        except ChainclubError as exc:
            log.info("checkout %s resumed: %s (%s)", cid, exc.reason, exc.detail)
            done += 1 if exc.reason not in TRANSIENT else 0
        except Exception:
            log.exception("checkout %s: resume failed", cid)
    return done


async def resumer(state: GatewayState, interval: float = 15.0, older_than: float = 30.0) -> None:
    """The lifespan's background task: resume at startup, then every ``interval`` seconds.
    Only checkouts untouched for ``older_than`` seconds and without a live lease are taken,
    so a request that is still running its own checkout is never raced."""
    while True:
        try:
            await resume_stuck(state, older_than=older_than)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("checkout resumer")
        await asyncio.sleep(interval)
