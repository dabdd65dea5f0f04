"""The checkout saga (docs/design.md §6 gateway, docs/api.md "Checkout").

identify the card (members) -> reserve (loyalty) -> pay the stored-value part (wallet,
request id = checkout id) -> confirm (loyalty). The gateway writes a checkout twice: its
start (with the audit row) and its outcome. Every downstream step is idempotent per checkout
id, and a checkout that ran before (a retry with the same Idempotency-Key after a failure, or
the resumer after a restart) first asks loyalty for its purchase and wallet for its payment,
so it continues where it stopped and never charges twice. A failure before payment releases
the reservation; a failure after payment completes the purchase or refunds the payment.
Rows a previous version left ``reserved`` or ``paid`` are carried on from there.

One saga runs a checkout at a time: whoever runs it holds a lease on the row
(``lease_until``); a concurrent retry waits for the outcome and replays it.
The routes check the caller's role before calling these use cases (deps.permitted).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from fastapi import Request

from chainclub.loyalty.v1 import loyalty_pb2 as lpb
from chainclub.wallet.v1 import wallet_pb2 as wpb
from kit.auth import Principal
from kit.errors import ChainclubError, Conflict, InvalidArgument, NotFound, Unavailable
from services.gateway import checkout_log
from services.gateway.checkout_requests import (  # noqa: F401 - re-exported: the saga API
    ACTIVE,
    CARD_STATES,
    CONFIRM_ATTEMPTS,
    LEASE_SECONDS,
    MAX_FEN,
    NAMESPACE,
    TRANSIENT,
    CheckoutBody,
    LineBody,
    PaymentBody,
    QuoteBody,
    RefundBody,
    RefundLineBody,
    _merge,
    body_hash,
    checkout_id_for,
    identify_card,
    price_lines,
    quick_quote,
    quote,
    quote_json,
    quote_request,
    refund_id_for,
    saga_refund_request_id,
    share,
)
from services.gateway.state import GatewayState

log = logging.getLogger("gateway.checkout")


# --- the saga log (services/gateway/checkout_log.py) ----------------------------------------
_save, _claim, _row = checkout_log.save, checkout_log.claim, checkout_log.row


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


async def _complete(
    state: GatewayState, p: Principal, row, purchase: lpb.Purchase, payment, q: dict | None = None
) -> dict:  # type: ignore[no-untyped-def]
    """The checkout's one write after its start: the outcome with what the steps returned (the
    quote, the member, the payment) and the receipt a retry replays."""
    q = q or row.quote or quote_json(purchase.quote)
    member_no = row.member_no or purchase.member_no
    receipt = {
        "checkout_id": str(row.checkout_id),
        "status": "completed",
        "store_path": row.store_path,
        "card_no": row.card_no or None,
        "member_no": member_no or None,
        "lines": q["lines"],
        "subtotal": q["subtotal"],
        "total_due": q["total_due"],
        "discounts": q["discounts"],
        "points_used": q["points_used"],
        "points_value": q["points_value"],
        "points_earned": purchase.points_earned,
        "points_balance": purchase.points_balance if member_no else None,
        "payments": row.request["payments"],
        "balance": await _balance(state, p, row, payment),
        "tier": purchase.tier or q.get("tier"),
    }
    await checkout_log.complete(state, row.checkout_id, receipt, q, member_no, payment)
    return receipt


def _payment_json(txn: wpb.Transaction) -> dict[str, Any]:
    return {
        "transaction_id": txn.transaction_id,
        "amount": txn.amount,
        "balance": {
            "principal": txn.balance.principal,
            "bonus": txn.balance.bonus,
            "total": txn.balance.total,
        },
    }


async def _how_far(state: GatewayState, p: Principal, row) -> tuple[lpb.Purchase | None, dict | None]:  # type: ignore[no-untyped-def]
    """What loyalty and wallet hold of a checkout that ran before (a request that died or gave
    up, or the resumer's turn): its purchase if confirmed, its stored-value payment if taken.
    The gateway writes no step between the start and the outcome: the services are asked."""
    cid = str(row.checkout_id)
    purchase = None
    try:
        got = await state.clients.call(
            state.clients.loyalty.GetPurchase, lpb.GetPurchaseRequest(checkout_id=cid), p
        )
        purchase = got if got.checkout_id else None
    except ChainclubError as exc:
        if exc.reason != "not_found":
            raise
    payment = None
    if row.stored_value > 0:
        found = await state.clients.call(
            state.clients.wallet.GetPayment, wpb.GetPaymentRequest(request_id=cid), p
        )
        payment = _payment_json(found.transaction) if found.found else None
    return purchase, payment


async def _run(state: GatewayState, p: Principal, row, *, recover: bool) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Drive one claimed checkout from its persisted state to an end.

    ``recover`` (the resumer, nobody waiting at the counter) never starts anything new: a
    checkout that had not paid is released, one that had paid is completed or refunded.
    """
    cid = row.checkout_id
    req = row.request
    status = row.status
    payment = row.payment
    q: dict[str, Any] | None = row.quote

    if status == "started" and (recover or row.attempts > 1):
        try:
            purchase, payment = await _how_far(state, p, row)
        except ChainclubError as exc:
            if exc.reason in TRANSIENT:
                await _save(state, cid, release=True)
            raise
        if purchase is not None:
            return await _complete(state, p, row, purchase, payment)
        if payment is not None:
            status = "paid"  # the money is taken: record the purchase (or refund it)
        elif recover:  # nothing taken, and the resumer never starts anything new
            await _cancel(state, p, cid, "abandoned")
            await _fail(
                state, cid, "released", Unavailable("the checkout was interrupted; nothing was charged")
            )

    quoted = lpb.QuotedCheckout.FromString(row.quoted) if row.quoted is not None else None
    if status == "started" and quoted is not None:
        q = quote_json(quoted.quote)  # priced at the start, nothing to hold: on to the payment
        status = "reserved"

    if status == "started":
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
        status = "reserved"  # kept in memory: the outcome's write records the quote

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
                            recorded_by_payer=quoted is not None,
                        ),
                        p,
                    )
            except ChainclubError as exc:
                if exc.reason in TRANSIENT:
                    await _save(state, cid, release=True)
                    raise
                await _cancel(state, p, cid, exc.reason)
                await _fail(state, cid, "released", exc)
            payment = _payment_json(txn)
        elif recover:
            await _cancel(state, p, cid, "abandoned")
            await _fail(
                state, cid, "released", Unavailable("the checkout was interrupted; nothing was charged")
            )
        status = "paid"

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
                state.clients.loyalty.Confirm,
                lpb.ConfirmRequest(checkout_id=str(cid), tenders=tenders, quoted=quoted),
                p,
            )
            return await _complete(state, p, row, purchase, payment, q)
        except ChainclubError as exc:
            failure = exc
            log.warning("checkout %s: confirm failed (%s: %s)", cid, exc.reason, exc.detail)
            if exc.reason not in TRANSIENT:
                break
            await asyncio.sleep(0.2 * 2**attempt)
    assert failure is not None
    if failure.reason in ("unavailable", "rate_limited"):
        # Loyalty does not answer (or is just coming back): the purchase stands and is recorded
        # when it does — by a retry with the same key, the resumer or the wallet.payment.captured
        # event. Refunding now would turn a paid sale into a refund because of an outage.
        await _save(state, cid, release=True)
        raise Unavailable(
            "the payment is taken and the purchase will be recorded as soon as loyalty answers; "
            "retry with the same Idempotency-Key"
        )
    # Confirm is refused. Release the reservation so that nothing confirms it later (the
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
                return await _complete(state, p, row, purchase, payment, q)
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
    cid = checkout_id_for(key)
    digest = body_hash(body)
    try:  # validation stores nothing; the checkout is inserted, or found, right after it
        if body.card_no is None and (body.coupon_code or body.points_to_use):
            raise InvalidArgument("coupons and points need a member card", field="card_no")
        stored_value = sum(pay.amount for pay in body.payments if pay.method == "stored_value")
        if stored_value and body.card_no is None:
            raise InvalidArgument("a stored-value payment needs a member card", field="payments")
        lines = await price_lines(state, p, body.lines)
    except ChainclubError:
        # A retry of a checkout made before (its product since withdrawn, say) replays it.
        if await _row(state, cid) is None:
            raise
        return await _existing(state, p, cid, digest)
    payments = [pay.model_dump() for pay in body.payments]
    values = {"card_no": body.card_no, "lines": lines, "coupon_code": body.coupon_code,
              "points_to_use": body.points_to_use, "payments": payments}  # fmt: skip
    start: dict[str, Any] = {
        "checkout_id": cid, "body_hash": digest, "status": "started", "card_no": body.card_no or "",
        "request": values, "stored_value": stored_value,
    }  # fmt: skip
    audit_detail = {"card_no": body.card_no, "payments": payments}
    failure: ChainclubError | None = None
    if not body.coupon_code and not body.points_to_use:
        # Nothing to hold: priced now (identify, Quote), and the price is kept with the start.
        try:
            quoted = await quick_quote(state, p, lines, body.card_no)
        except ChainclubError as exc:
            if exc.reason in TRANSIENT:
                raise
            failure, start["status"] = exc, "failed"
        else:
            start.update(quoted=quoted.SerializeToString(), member_no=quoted.request.member_no)
            due, paid = quoted.quote.total_due, sum(pay["amount"] for pay in payments)
            if paid != due:
                failure, start["status"] = ChainclubError(
                    f"payments add up to {paid} fen but total_due is {due} fen",
                    reason="payment_mismatch", field="payments", total_due=due,
                ), "released"  # fmt: skip
        if failure is not None:  # kept: a retry with the same key replays the refusal
            start["error"] = _error_json(failure)
    inserted = await checkout_log.start(state, request, p, start, audit_detail)
    if inserted is None:  # a request with the same key came first: its outcome
        return await _existing(state, p, cid, digest)
    if failure is not None:
        raise failure
    return await _run(state, p, inserted, recover=False)


async def _existing(state: GatewayState, p: Principal, cid: uuid.UUID, digest: str) -> dict[str, Any]:
    """The checkout a request with this key made before: its outcome, or a wait for it."""
    existing = await _row(state, cid)
    if existing is None:
        raise NotFound(f"no checkout {cid}")
    if existing.body_hash != digest:
        raise ChainclubError(
            "this Idempotency-Key was used for another checkout", reason="idempotency_key_reused"
        )
    return await drive(state, p, cid)
