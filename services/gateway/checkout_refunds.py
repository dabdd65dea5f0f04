"""Reading checkouts and refunding them (by lines or whole): stored value back to the buckets
it came from, points restored and earned points clawed back by loyalty.
The routes check the caller's role before calling these use cases (deps.permitted)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as lpb
from chainclub.wallet.v1 import wallet_pb2 as wpb
from kit.auth import Principal
from kit.errors import ChainclubError, Conflict, InvalidArgument, NotFound
from services.gateway import audit
from services.gateway.checkout import (  # noqa: F401 - the saga's helpers
    RefundBody,
    _row,
    body_hash,
    checkout_id_for,
    refund_id_for,
    saga_refund_request_id,
    share,
)
from services.gateway.models import checkout_refunds
from services.gateway.state import GatewayState


# --- reads and refunds ---------------------------------------------------------------------
def _parse_id(checkout_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(checkout_id)
    except ValueError:
        raise NotFound(f"no checkout {checkout_id!r}") from None


async def _in_scope(state: GatewayState, p: Principal, checkout_id: str):  # type: ignore[no-untyped-def]
    row = await _row(state, _parse_id(checkout_id))
    if row is None or not p.may_access(row.store_path):
        raise NotFound(f"no checkout {checkout_id!r}")
    return row


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


async def get(state: GatewayState, p: Principal, checkout_id: str) -> dict[str, Any]:
    row = await _in_scope(state, p, checkout_id)
    async with state.db.sessions() as session:
        refunds = (
            await session.execute(
                select(checkout_refunds)
                .where(
                    checkout_refunds.c.checkout_id == row.checkout_id, checkout_refunds.c.result.is_not(None)
                )
                .order_by(checkout_refunds.c.created_at)
            )
        ).all()
    return {
        "checkout_id": str(row.checkout_id),
        "status": row.status,
        "store_path": row.store_path,
        "card_no": row.card_no or None,
        "member_no": row.member_no or None,
        "total_due": row.total_due,
        "payments": row.request["payments"],
        "receipt": row.receipt,
        "error": {"code": row.error["code"], "detail": row.error["detail"]} if row.error else None,
        "refunds": [r.result for r in refunds],
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


async def refund(
    state: GatewayState, request: Request, p: Principal, key: str, checkout_id: str, body: RefundBody
) -> dict[str, Any]:
    """Return value to where it came from: stored value to the card (in proportion to the
    lines when lines are given), points restored and earned points clawed back (loyalty);
    other tenders are reported for the counter to pay back."""
    row = await _in_scope(state, p, checkout_id)
    rid = refund_id_for(key)
    digest = body_hash(body)
    async with state.db.sessions() as session:
        existing = (
            await session.execute(select(checkout_refunds).where(checkout_refunds.c.refund_id == rid))
        ).first()
        earlier = (
            await session.execute(
                select(checkout_refunds).where(
                    checkout_refunds.c.checkout_id == row.checkout_id,
                    checkout_refunds.c.result.is_not(None),
                    checkout_refunds.c.refund_id != rid,
                )
            )
        ).all()
    if existing is not None:
        if existing.body_hash != digest or existing.checkout_id != row.checkout_id:
            raise ChainclubError(
                "this Idempotency-Key was used for another refund", reason="idempotency_key_reused"
            )
        if existing.result is not None:
            return existing.result
    if row.status != "completed":
        raise Conflict(f"checkout {checkout_id} is {row.status}: only a completed checkout can be refunded")
    bought = {ln["sku"]: ln for ln in row.receipt["lines"]}
    refunded_qty: dict[str, int] = defaultdict(int)
    whole_done = False
    for r in earlier:
        if not r.lines:
            whole_done = True
        for ln in r.lines:
            refunded_qty[ln["sku"]] += ln["qty"]
    if whole_done:
        raise Conflict(f"checkout {checkout_id} is refunded already")
    lines = [ln.model_dump() for ln in body.lines] if body.lines else []
    for i, ln in enumerate(lines):
        if ln["sku"] not in bought:
            raise InvalidArgument(f"{ln['sku']!r} is not in this checkout", field=f"lines.{i}.sku")
        left = bought[ln["sku"]]["qty"] - refunded_qty[ln["sku"]]
        if ln["qty"] > left:
            raise InvalidArgument(
                f"only {left} of {ln['sku']!r} can still be refunded", field=f"lines.{i}.qty"
            )
    total_amount = sum(ln["amount"] for ln in bought.values())
    if lines:
        value = sum(share(bought[ln["sku"]]["amount"], ln["qty"], bought[ln["sku"]]["qty"]) for ln in lines)
    else:
        value = total_amount - sum(
            share(bought[sku]["amount"], q, bought[sku]["qty"]) for sku, q in refunded_qty.items()
        )
    payments = row.request["payments"]
    sv_paid = row.stored_value
    sv_before = sum(r.stored_value for r in earlier)
    tenders = []
    for pay in payments:
        amount = share(pay["amount"], value, total_amount)
        if pay["method"] == "stored_value":
            amount = min(amount, sv_paid - sv_before) if lines else sv_paid - sv_before
        tenders.append({"method": pay["method"], "amount": amount})
    sv_now = sum(t["amount"] for t in tenders if t["method"] == "stored_value")
    async with state.db.transaction() as session:
        await session.execute(
            insert(checkout_refunds)
            .values(
                refund_id=rid, checkout_id=row.checkout_id, body_hash=digest, lines=lines, stored_value=sv_now
            )
            .on_conflict_do_nothing()
        )
    purchase = await state.clients.call(
        state.clients.loyalty.RefundPurchase,
        lpb.RefundPurchaseRequest(request_id=str(rid), checkout_id=str(row.checkout_id),
                                  lines=[lpb.RefundLine(sku=ln["sku"], qty=ln["qty"]) for ln in lines]),
        p,
    )  # fmt: skip
    balance = None
    if sv_now > 0:
        txn = await state.clients.call(
            state.clients.wallet.RefundPayment,
            wpb.RefundPaymentRequest(request_id=str(rid), payment_request_id=str(row.checkout_id), amount=sv_now,
                                     reason=f"refund of checkout {row.checkout_id}"),
            p,
        )  # fmt: skip
        balance = {"principal": txn.balance.principal, "bonus": txn.balance.bonus, "total": txn.balance.total}
    result = {
        "refund_id": str(rid),
        "checkout_id": str(row.checkout_id),
        "lines": lines or [{"sku": s, "qty": ln["qty"] - refunded_qty[s]} for s, ln in bought.items()
                           if ln["qty"] > refunded_qty[s]],
        "amount": value,
        "tenders": tenders,
        "stored_value_refunded": sv_now,
        "balance": balance,
        "purchase_status": purchase.status or None,
        "points_balance": purchase.points_balance if row.member_no else None,
    }  # fmt: skip
    async with state.db.transaction() as session:
        await session.execute(
            update(checkout_refunds).where(checkout_refunds.c.refund_id == rid).values(result=result)
        )
        await audit.record(session, request, p, "checkout.refund", "checkout", str(row.checkout_id), row.store_path,
                           {"refund_id": str(rid), "lines": lines, "amount": value, "stored_value": sv_now})  # fmt: skip
    return result
