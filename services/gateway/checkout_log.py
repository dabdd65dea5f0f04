"""The checkout saga's log in the gateway's database: a checkout is written at its start (with
its audit row, one statement) and at its outcome (one statement); a request that finds it
running takes or waits for its lease. The statements on every checkout's path are written
out once, here, rather than built per request."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import func, or_, select, text, update

from kit.auth import Principal
from services.gateway.checkout_requests import ACTIVE, LEASE_SECONDS
from services.gateway.deps import client_ip, request_id
from services.gateway.models import checkouts
from services.gateway.state import GatewayState

# The start: the checkout (leased by the request that writes it, unless it ends at once) and
# its audit row, both or — when the key was used before — neither.
START = text(
    f"""
    WITH started AS (
        INSERT INTO checkouts (checkout_id, body_hash, status, actor, actor_role, store_path, card_no,
            member_no, request, stored_value, quoted, error, lease_until, attempts)
        VALUES (CAST(:checkout_id AS uuid), :body_hash, :status, :actor, :actor_role, :store_path, :card_no,
            :member_no, CAST(:request AS jsonb), :stored_value, :quoted, CAST(:error AS jsonb),
            CASE WHEN CAST(:leased AS boolean) THEN now() + interval '{LEASE_SECONDS} seconds' END, 1)
        ON CONFLICT DO NOTHING
        RETURNING *
    ),
    audited AS (
        INSERT INTO audit_log (actor, actor_role, action, target_type, target_id, org_path, detail, ip, request_id)
        SELECT started.actor, started.actor_role, 'checkout.start', 'checkout', CAST(started.checkout_id AS text),
            started.store_path, CAST(:audit_detail AS jsonb), :ip, :request_id
        FROM started
    )
    SELECT * FROM started
    """
)

# The outcome of a completed checkout: what a retry replays and a refund needs.
COMPLETE = text(
    """
    UPDATE checkouts SET status = 'completed', receipt = CAST(:receipt AS jsonb), error = NULL,
        quote = CAST(:quote AS jsonb), total_due = :total_due, member_no = :member_no,
        payment = CAST(:payment AS jsonb), lease_until = NULL, updated_at = now()
    WHERE checkout_id = CAST(:checkout_id AS uuid)
    """
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


async def start(
    state: GatewayState, request: Request, p: Principal, values: dict[str, Any], audit_detail: dict[str, Any]
):  # type: ignore[no-untyped-def]
    """Insert the checkout with its audit row; None when one with this id exists."""
    params = {
        "checkout_id": values["checkout_id"], "body_hash": values["body_hash"], "status": values["status"],
        "actor": p.sub, "actor_role": p.role, "store_path": p.scope, "card_no": values["card_no"],
        "member_no": values.get("member_no", ""), "request": json.dumps(values["request"]),
        "stored_value": values["stored_value"], "quoted": values.get("quoted"),
        "error": _json(values.get("error")), "leased": values["status"] == "started",
        "audit_detail": json.dumps(audit_detail), "ip": client_ip(request), "request_id": request_id(request),
    }  # fmt: skip
    async with state.db.autocommit() as conn:
        return (await conn.execute(START, params)).first()


async def complete(
    state: GatewayState,
    checkout_id: uuid.UUID,
    receipt: dict,
    quote: dict,
    member_no: str,
    payment: dict | None,
) -> None:
    async with state.db.autocommit() as conn:
        await conn.execute(
            COMPLETE,
            {
                "checkout_id": checkout_id, "receipt": json.dumps(receipt), "quote": json.dumps(quote),
                "total_due": quote["total_due"], "member_no": member_no or "", "payment": _json(payment),
            },
        )  # fmt: skip


async def save(state: GatewayState, checkout_id: uuid.UUID, *, release: bool = False, **values: Any) -> None:
    """Persist an ending other than completion, or give up the lease (``release``) or keep it:
    one statement, committed by itself."""
    lease = None if release else func.now() + text(f"interval '{LEASE_SECONDS} seconds'")
    async with state.db.autocommit() as conn:
        await conn.execute(
            update(checkouts)
            .where(checkouts.c.checkout_id == checkout_id)
            .values(**values, lease_until=lease, updated_at=func.now())
        )


async def claim(state: GatewayState, checkout_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Take the lease on an unfinished checkout; None when it is finished or someone runs it."""
    async with state.db.autocommit() as conn:
        return (
            await conn.execute(
                update(checkouts)
                .where(
                    checkouts.c.checkout_id == checkout_id,
                    checkouts.c.status.in_(ACTIVE),
                    or_(checkouts.c.lease_until.is_(None), checkouts.c.lease_until < func.now()),
                )
                .values(
                    lease_until=func.now() + text(f"interval '{LEASE_SECONDS} seconds'"),
                    attempts=checkouts.c.attempts + 1,
                )
                .returning(*checkouts.c)
            )
        ).first()


async def row(state: GatewayState, checkout_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with state.db.autocommit() as conn:
        return (await conn.execute(select(checkouts).where(checkouts.c.checkout_id == checkout_id))).first()
