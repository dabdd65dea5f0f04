"""The checkout saga (DESIGN §6 gateway, API.md "Checkout").

identify the card (members) -> reserve (loyalty) -> pay the stored-value part (wallet,
request id = checkout id) -> confirm (loyalty). The state is persisted in ``checkouts``
before each step and every downstream step is idempotent per checkout id, so a retry with
the same Idempotency-Key, or the resumer after a restart, continues from the persisted
state and never charges twice. A failure before payment releases the reservation; a
failure after payment completes the purchase or refunds the payment.

One saga runs a checkout at a time: whoever runs it holds a lease on the row
(``lease_until``); a concurrent retry waits for the outcome and replays it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from fastapi import Request
from pydantic import Field, StrictInt
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as lpb
from chainclub.members.v1 import members_pb2 as mpb
from chainclub.wallet.v1 import wallet_pb2 as wpb
from kit.auth import Principal
from kit.errors import ChainclubError, Conflict, InvalidArgument, NotFound, Unavailable
from services.gateway import audit
from services.gateway.domain import entitled_price
from services.gateway.models import checkouts, product_region_prices, products
from services.gateway.permissions import require
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

log = logging.getLogger("gateway.checkout")

NAMESPACE = uuid.UUID("6c1b9f0e-3d0a-5c55-9d55-8a3f6b0c4a11")
LEASE_SECONDS = 60
CONFIRM_ATTEMPTS = 3
MAX_FEN = 10**11
ACTIVE = ("started", "reserved", "paid")
# A downstream error that says nothing about whether the step happened: retry, never compensate.
TRANSIENT = frozenset({"unavailable", "internal", "rate_limited"})
CARD_STATES = {
    "lost": "card_lost",
    "frozen": "card_frozen",
    "replaced": "card_replaced",
    "expired": "card_expired",
    "cancelled": "card_cancelled",
}

Method = Literal["stored_value", "cash", "bank_card", "wechat_pay", "alipay"]


# --- request bodies ------------------------------------------------------------------------
class LineBody(Strict):
    sku: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(ge=1, le=9999)


class QuoteBody(Strict):
    card_no: str | None = Field(default=None, min_length=1, max_length=32)
    lines: list[LineBody] = Field(min_length=1, max_length=200)
    coupon_code: str | None = Field(default=None, min_length=1, max_length=64)
    points_to_use: StrictInt = Field(default=0, ge=0, le=10**9)


class PaymentBody(Strict):
    method: Method
    amount: StrictInt = Field(gt=0, le=MAX_FEN, description="fen")


class CheckoutBody(QuoteBody):
    payments: list[PaymentBody] = Field(default_factory=list, max_length=10)


class RefundLineBody(Strict):
    sku: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(ge=1, le=9999)


class RefundBody(Strict):
    lines: list[RefundLineBody] | None = Field(default=None, min_length=1, max_length=200)


# --- helpers -------------------------------------------------------------------------------
def checkout_id_for(key: str) -> uuid.UUID:
    """The checkout id of a (caller-unique) idempotency key: the same key is the same checkout."""
    return uuid.uuid5(NAMESPACE, f"checkout\n{key}")


def refund_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"refund\n{key}")


def saga_refund_request_id(checkout_id: uuid.UUID) -> str:
    """The wallet request id of the compensating refund of a checkout's payment."""
    return str(uuid.uuid5(NAMESPACE, f"saga-refund\n{checkout_id}"))


def body_hash(body: Strict) -> str:
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole`` rounded half-up to the fen (0 when ``whole`` is 0)."""
    if whole <= 0:
        return 0
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _merge(lines: list[LineBody]) -> list[tuple[int, str, int]]:
    """(first index, sku, qty) with repeated skus added up."""
    seen: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if line.sku in seen:
            seen[line.sku][1] += line.qty
        else:
            seen[line.sku] = [i, line.qty]
    out = []
    for sku, (i, qty) in seen.items():
        if qty > 9999:
            raise InvalidArgument(f"at most 9999 of {sku!r} in one checkout", field=f"lines.{i}.qty")
        out.append((i, sku, qty))
    return out


async def price_lines(state: GatewayState, p: Principal, lines: list[LineBody]) -> list[dict[str, Any]]:
    """The lines at the retail price the acting store's staff sees (region overrides on
    their path); an unknown or inactive sku is a 422 on ``lines.N.sku``."""
    merged = _merge(lines)
    skus = [sku for _, sku, _ in merged]
    async with state.db.sessions() as session:
        rows = {
            r.sku: r
            for r in (
                await session.execute(select(products).where(products.c.sku.in_(skus), products.c.active))
            ).all()
        }
        regions: dict[str, dict[str, int]] = defaultdict(dict)
        for r in (
            await session.execute(select(product_region_prices).where(product_region_prices.c.sku.in_(skus)))
        ).all():
            regions[r.sku][r.org_path] = r.price
    out = []
    for i, sku, qty in merged:
        row = rows.get(sku)
        if row is None:
            raise InvalidArgument(f"unknown sku {sku!r}", field=f"lines.{i}.sku")
        price = entitled_price(
            role=p.role, scope=p.scope, price_level=None, retail=row.retail_price, levels={},
            region_prices=regions[sku],
        )  # fmt: skip
        out.append(
            {"sku": sku, "name": row.name, "category": row.category, "qty": qty, "unit_price": price.price}
        )
    return out


async def identify_card(state: GatewayState, p: Principal, card_no: str) -> dict[str, Any]:
    """The card as checkout needs it; a card that cannot pay is a 409 with its state."""
    card = await state.clients.call(state.clients.members.GetCard, mpb.GetCardRequest(card_no=card_no), p)
    if card.status != "active":
        reason = CARD_STATES.get(card.status, "invalid_card_state")
        raise ChainclubError(f"card {card_no} is {card.status}", reason=reason)
    return {
        "card_no": card.card_no,
        "member_no": card.member_no,
        "card_type": card.card_type,
        "discount_bps": card.discount_bps,
    }


def quote_request(store_path: str, lines: list[dict], card: dict | None, coupon_code: str | None,
                  points_to_use: int) -> lpb.QuoteRequest:  # fmt: skip
    return lpb.QuoteRequest(
        card_no=card["card_no"] if card else "",
        member_no=card["member_no"] if card else "",
        card_type=card["card_type"] if card else "",
        card_discount_bps=card["discount_bps"] if card else 0,
        store_path=store_path,
        lines=[
            lpb.Line(
                sku=ln["sku"],
                name=ln["name"],
                category=ln["category"],
                qty=ln["qty"],
                unit_price=ln["unit_price"],
            )
            for ln in lines
        ],
        coupon_code=coupon_code or "",
        points_to_use=points_to_use,
    )


def quote_json(q: lpb.PriceQuote) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": ln.sku,
                "qty": ln.qty,
                "unit_price": ln.unit_price,
                "discount": ln.discount,
                "amount": ln.amount,
            }
            for ln in q.lines
        ],
        "subtotal": q.subtotal,
        "discounts": [
            {"kind": d.kind, "rule": d.rule, "amount": d.amount, **({"sku": d.sku} if d.sku else {})}
            for d in q.discounts
        ],
        "points_used": q.points_used,
        "points_value": q.points_value,
        "total_due": q.total_due,
        "points_to_earn": q.points_to_earn,
        "tier": q.tier or None,
    }


async def quote(state: GatewayState, p: Principal, body: QuoteBody) -> dict[str, Any]:
    require(p, "checkouts.quote")
    lines = await price_lines(state, p, body.lines)
    if body.card_no is None and (body.coupon_code or body.points_to_use):
        raise InvalidArgument("coupons and points need a member card", field="card_no")
    card = await identify_card(state, p, body.card_no) if body.card_no else None
    req = quote_request(p.scope, lines, card, body.coupon_code, body.points_to_use)
    return quote_json(await state.clients.call(state.clients.loyalty.Quote, req, p))


# --- the saga log --------------------------------------------------------------------------
async def _save(state: GatewayState, checkout_id: uuid.UUID, *, release: bool = False, **values: Any) -> None:
    """Persist a step (and keep or give up the lease) in its own committed transaction."""
    lease = None if release else func.now() + text(f"interval '{LEASE_SECONDS} seconds'")
    async with state.db.transaction() as session:
        await session.execute(
            update(checkouts)
            .where(checkouts.c.checkout_id == checkout_id)
            .values(**values, lease_until=lease, updated_at=func.now())
        )


async def _claim(state: GatewayState, checkout_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Take the lease on an unfinished checkout; None when it is finished or someone runs it."""
    async with state.db.transaction() as session:
        return (
            await session.execute(
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


async def _row(state: GatewayState, checkout_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with state.db.sessions() as session:
        return (
            await session.execute(select(checkouts).where(checkouts.c.checkout_id == checkout_id))
        ).first()


def _error_json(err: ChainclubError) -> dict[str, Any]:
    return {"code": err.reason, "detail": err.detail, "extra": err.extra}


def _replay(row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The outcome of a finished checkout: its receipt, or its error raised again."""
    if row.status == "completed":
        return row.receipt
    err = row.error or {
        "code": "conflict",
        "detail": f"checkout {row.checkout_id} is {row.status}",
        "extra": {},
    }
    raise ChainclubError(err["detail"], reason=err["code"], **err.get("extra", {}))


async def _cancel(state: GatewayState, p: Principal, checkout_id: uuid.UUID, reason: str) -> None:
    """Release the reservation; best effort (an unreleased reservation expires, and loyalty
    asks wallet before it lets one expire)."""
    try:
        await state.clients.call(
            state.clients.loyalty.Cancel, lpb.CancelRequest(checkout_id=str(checkout_id), reason=reason), p
        )
    except ChainclubError as exc:
        log.warning("checkout %s: cancel failed (%s: %s)", checkout_id, exc.reason, exc.detail)


async def _fail(state: GatewayState, checkout_id: uuid.UUID, status: str, err: ChainclubError) -> None:
    await _save(state, checkout_id, release=True, status=status, error=_error_json(err))
    raise err


async def _balance(state: GatewayState, p: Principal, row, payment: dict | None) -> dict | None:  # type: ignore[no-untyped-def]
    if payment is not None:
        return payment["balance"]
    if not row.card_no:
        return None
    try:
        b = await state.clients.call(
            state.clients.wallet.GetBalance, wpb.GetBalanceRequest(card_no=row.card_no), p, timeout=3
        )
    except ChainclubError:
        return None
    return {"principal": b.principal, "bonus": b.bonus, "total": b.total}


async def _complete(state: GatewayState, p: Principal, row, purchase: lpb.Purchase, payment) -> dict:  # type: ignore[no-untyped-def]
    q = row.quote or quote_json(purchase.quote)
    receipt = {
        "checkout_id": str(row.checkout_id),
        "status": "completed",
        "store_path": row.store_path,
        "card_no": row.card_no or None,
        "member_no": row.member_no or None,
        "lines": q["lines"],
        "subtotal": q["subtotal"],
        "total_due": q["total_due"],
        "discounts": q["discounts"],
        "points_used": q["points_used"],
        "points_value": q["points_value"],
        "points_earned": purchase.points_earned,
        "points_balance": purchase.points_balance if row.member_no else None,
        "payments": row.request["payments"],
        "balance": await _balance(state, p, row, payment),
        "tier": purchase.tier or q.get("tier"),
    }
    await _save(state, row.checkout_id, release=True, status="completed", receipt=receipt, error=None)
    return receipt


async def _run(state: GatewayState, p: Principal, row, *, recover: bool) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Drive one claimed checkout from its persisted state to an end.

    ``recover`` (the resumer, nobody waiting at the counter) never starts anything new: a
    checkout that had not paid is released, one that had paid is completed or refunded.
    """
    cid = row.checkout_id
    req = row.request
    status = row.status

    if status == "started":
        if recover:
            await _cancel(state, p, cid, "abandoned")
            await _fail(
                state, cid, "failed", Unavailable("the checkout was interrupted; nothing was charged")
            )
        card = None
        try:
            if req["card_no"]:
                card = await identify_card(state, p, req["card_no"])
        except ChainclubError as exc:
            if exc.reason in TRANSIENT:
                await _save(state, cid, release=True)
                raise
            await _fail(state, cid, "failed", exc)
        try:
            qreq = quote_request(row.store_path, req["lines"], card, req["coupon_code"], req["points_to_use"])
            reservation = await state.clients.call(
                state.clients.loyalty.Reserve, lpb.ReserveRequest(checkout_id=str(cid), quote=qreq), p
            )
        except ChainclubError as exc:
            if exc.reason in TRANSIENT:
                await _save(state, cid, release=True)
                raise
            await _cancel(state, p, cid, exc.reason)
            await _fail(state, cid, "failed", exc)
        if reservation.status in ("cancelled", "expired"):
            await _fail(
                state, cid, "failed", Conflict(f"the reservation of checkout {cid} is {reservation.status}")
            )
        q = quote_json(reservation.quote)
        paid = sum(pay["amount"] for pay in req["payments"])
        if paid != q["total_due"]:
            await _cancel(state, p, cid, "payment_mismatch")
            await _fail(state, cid, "released", ChainclubError(
                f"payments add up to {paid} fen but total_due is {q['total_due']} fen",
                reason="payment_mismatch", field="payments", total_due=q["total_due"],
            ))  # fmt: skip
        await _save(state, cid, status="reserved", quote=q, total_due=q["total_due"],
                    member_no=card["member_no"] if card else "")  # fmt: skip
        row = await _row(state, cid)
        status = "reserved"

    payment = row.payment
    if status == "reserved":
        if row.stored_value > 0:
            try:
                if recover:  # only find out whether the payment happened; never take one now
                    found = await state.clients.call(
                        state.clients.wallet.GetPayment, wpb.GetPaymentRequest(request_id=str(cid)), p
                    )
                    if not found.found:
                        await _cancel(state, p, cid, "abandoned")
                        await _fail(state, cid, "released",
                                    Unavailable("the checkout was interrupted; nothing was charged"))  # fmt: skip
                    txn = found.transaction
                else:
                    txn = await state.clients.call(
                        state.clients.wallet.CapturePayment,
                        wpb.CapturePaymentRequest(
                            request_id=str(cid),
                            card_no=row.card_no,
                            amount=row.stored_value,
                            acting_store_path=row.store_path,
                            reference=str(cid),
                        ),
                        p,
                    )
            except ChainclubError as exc:
                if exc.reason in TRANSIENT:
                    await _save(state, cid, release=True)
                    raise
                await _cancel(state, p, cid, exc.reason)
                await _fail(state, cid, "released", exc)
            payment = {
                "transaction_id": txn.transaction_id,
                "amount": txn.amount,
                "balance": {"principal": txn.balance.principal, "bonus": txn.balance.bonus,
                            "total": txn.balance.total},
            }  # fmt: skip
        elif recover:
            await _cancel(state, p, cid, "abandoned")
            await _fail(
                state, cid, "released", Unavailable("the checkout was interrupted; nothing was charged")
            )
        await _save(state, cid, status="paid", payment=payment)
        row = await _row(state, cid)

    # status == "paid": the money (if any) is taken; the purchase must be recorded or refunded.
    tenders = [
        lpb.Tender(method=pay["method"], amount=pay["amount"],
                   reference=payment["transaction_id"] if payment and pay["method"] == "stored_value" else "")
        for pay in req["payments"]
    ]  # fmt: skip
    failure: ChainclubError | None = None
    for attempt in range(CONFIRM_ATTEMPTS):
        try:
            purchase = await state.clients.call(
                state.clients.loyalty.Confirm, lpb.ConfirmRequest(checkout_id=str(cid), tenders=tenders), p
            )
            return await _complete(state, p, row, purchase, payment)
        except ChainclubError as exc:
            failure = exc
            log.warning("checkout %s: confirm failed (%s: %s)", cid, exc.reason, exc.detail)
            if exc.reason not in TRANSIENT:
                break
            await asyncio.sleep(0.2 * 2**attempt)
    assert failure is not None
    # Confirm keeps failing. Release the reservation so that nothing confirms it later (the
    # wallet.payment.captured event would); if it turns out confirmed, the purchase exists.
    try:
        await state.clients.call(
            state.clients.loyalty.Cancel, lpb.CancelRequest(checkout_id=str(cid), reason="confirm failed"), p
        )
    except ChainclubError as exc:
        if exc.reason in TRANSIENT:
            # Loyalty does not answer at all: the captured payment event or the resumer will
            # record the purchase; refunding now could leave a purchase without its money.
            await _save(state, cid, release=True)
            raise Unavailable(
                "the payment is taken and the purchase will be recorded as soon as loyalty answers; "
                "retry with the same Idempotency-Key"
            ) from None
        try:  # cancel refused: most likely confirmed meanwhile
            purchase = await state.clients.call(
                state.clients.loyalty.GetPurchase, lpb.GetPurchaseRequest(checkout_id=str(cid)), p
            )
            if purchase.checkout_id:
                return await _complete(state, p, row, purchase, payment)
        except ChainclubError:
            pass
    if payment is not None:
        try:
            await state.clients.call(
                state.clients.wallet.RefundPayment,
                wpb.RefundPaymentRequest(request_id=saga_refund_request_id(cid), payment_request_id=str(cid),
                                         amount=row.stored_value, reason=f"checkout {cid} could not be recorded"),
                p,
            )  # fmt: skip
        except ChainclubError:
            await _save(state, cid, release=True)
            raise Unavailable("the purchase could not be recorded and the refund is pending; retry") from None
    detail = f"the purchase could not be recorded ({failure.reason}: {failure.detail})"
    if payment is not None:
        detail += "; the stored-value payment was refunded"
    await _fail(state, cid, "refunded", Unavailable(detail))
    raise AssertionError("unreachable")


async def drive(state: GatewayState, p: Principal, checkout_id: uuid.UUID, *, recover: bool = False) -> dict:
    """Run the checkout to its end, or wait for whoever runs it and replay the outcome."""
    deadline = asyncio.get_running_loop().time() + LEASE_SECONDS + 5
    while True:
        row = await _claim(state, checkout_id)
        if row is not None:
            return await _run(state, p, row, recover=recover)
        row = await _row(state, checkout_id)
        if row is None:
            raise NotFound(f"no checkout {checkout_id}")
        if row.status not in ACTIVE:
            return _replay(row)
        if asyncio.get_running_loop().time() > deadline:
            raise Unavailable("the checkout is still being processed; retry with the same Idempotency-Key")
        await asyncio.sleep(0.05)


async def create(
    state: GatewayState, request: Request, p: Principal, key: str, body: CheckoutBody
) -> dict[str, Any]:
    require(p, "checkouts.create")
    cid = checkout_id_for(key)
    digest = body_hash(body)
    existing = await _row(state, cid)
    if existing is not None:
        if existing.body_hash != digest:
            raise ChainclubError(
                "this Idempotency-Key was used for another checkout", reason="idempotency_key_reused"
            )
        return await drive(state, p, cid)
    # Validation stores nothing.
    if body.card_no is None and (body.coupon_code or body.points_to_use):
        raise InvalidArgument("coupons and points need a member card", field="card_no")
    stored_value = sum(pay.amount for pay in body.payments if pay.method == "stored_value")
    if stored_value and body.card_no is None:
        raise InvalidArgument("a stored-value payment needs a member card", field="payments")
    lines = await price_lines(state, p, body.lines)
    values = {
        "card_no": body.card_no,
        "lines": lines,
        "coupon_code": body.coupon_code,
        "points_to_use": body.points_to_use,
        "payments": [pay.model_dump() for pay in body.payments],
    }
    async with state.db.transaction() as session:
        inserted = (
            await session.execute(
                insert(checkouts)
                .values(
                    checkout_id=cid,
                    body_hash=digest,
                    status="started",
                    actor=p.sub,
                    actor_role=p.role,
                    store_path=p.scope,
                    card_no=body.card_no or "",
                    request=values,
                    stored_value=stored_value,
                )
                .on_conflict_do_nothing()
                .returning(checkouts.c.checkout_id)
            )
        ).first()
        if inserted is not None:
            await audit.record(session, request, p, "checkout.start", "checkout", str(cid), p.scope,
                               {"card_no": body.card_no, "payments": values["payments"]})  # fmt: skip
    if inserted is None:  # a concurrent request with the same key won the insert
        existing = await _row(state, cid)
        if existing.body_hash != digest:
            raise ChainclubError(
                "this Idempotency-Key was used for another checkout", reason="idempotency_key_reused"
            )
    return await drive(state, p, cid)


# --- resuming after a restart --------------------------------------------------------------
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
