"""A checkout the gateway stopped running part-way (it died, or the request gave up) is written
only at its start: the resumer and a retry with the same key ask loyalty and wallet how far it
got. Interrupted after the payment it is completed once; after the confirm it is completed
without confirming again; before the payment it is released and the held points come back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as lpb
from chainclub.wallet.v1 import wallet_pb2 as wpb
from kit.errors import ChainclubError
from services.gateway import checkout as saga
from services.gateway.models import checkouts
from tests.checkout.conftest import CheckoutWorld
from tests.checkout.test_checkout import _resumed, _row
from tests.members.conftest import principal_for

pytestmark = pytest.mark.integration


async def interrupted(w: CheckoutWorld, body: dict, key: str, *, upto: str) -> uuid.UUID:
    """What a request does (its start written as ``create`` writes it), up to and including
    ``upto`` (reserve, pay or confirm), and then nothing: the gateway died."""
    state, p = w.gw, principal_for(w, w.clerk)
    parsed = saga.CheckoutBody.model_validate(body)
    cid = saga.checkout_id_for(w.key_hash(w.clerk, key))
    lines = await saga.price_lines(state, p, parsed.lines)
    stored = sum(x["amount"] for x in body["payments"] if x["method"] == "stored_value")
    request = {"card_no": body["card_no"], "lines": lines, "coupon_code": None,
               "points_to_use": body.get("points_to_use", 0), "payments": body["payments"]}  # fmt: skip
    async with state.db.transaction() as session:
        await session.execute(insert(checkouts).values(
            checkout_id=cid, body_hash=saga.body_hash(parsed), status="started", actor=p.sub, actor_role=p.role,
            store_path=p.scope, card_no=body["card_no"], request=request, stored_value=stored, attempts=1,
        ))  # fmt: skip
    card = await saga.identify_card(state, p, body["card_no"])
    qreq = saga.quote_request(p.scope, lines, card, None, body.get("points_to_use", 0))
    await state.clients.call(
        state.clients.loyalty.Reserve, lpb.ReserveRequest(checkout_id=str(cid), quote=qreq), p
    )
    if upto == "reserve":
        return cid
    txn = await state.clients.call(state.clients.wallet.CapturePayment, wpb.CapturePaymentRequest(
        request_id=str(cid), card_no=body["card_no"], amount=stored, acting_store_path=p.scope,
        reference=str(cid)), p)  # fmt: skip
    if upto == "pay":
        return cid
    tenders = [lpb.Tender(method="stored_value", amount=stored, reference=txn.transaction_id)]
    await state.clients.call(
        state.clients.loyalty.Confirm, lpb.ConfirmRequest(checkout_id=str(cid), tenders=tenders), p
    )
    return cid


async def sale(w: CheckoutWorld, price: int, balance: int) -> tuple[dict, dict, dict]:
    sku = await w.product(price)
    m = await w.member(balance=balance)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    return m, body, q


@pytest.mark.parametrize("upto", ["pay", "confirm"])
async def test_a_checkout_paid_before_the_gateway_died_is_completed_once(
    checkout_world: CheckoutWorld, upto: str
) -> None:
    w = checkout_world
    m, body, q = await sale(w, 2_300, 10_000)
    key = uuid.uuid4().hex
    cid = await interrupted(w, body, key, upto=upto)
    assert (await _row(w, str(cid))).status == "started"
    assert await w.balance(m["card_no"]) == 10_000 - q["total_due"]

    row = await _resumed(w, cid, "completed")
    assert row.receipt["total_due"] == q["total_due"] and row.receipt["member_no"] == m["member_no"]
    assert row.member_no == m["member_no"] and row.total_due == q["total_due"]
    assert row.payment["amount"] == q["total_due"]
    r = await w.checkout(body, key=key)  # the cashier's retry replays the receipt
    assert r.status_code == 201 and r.json() == row.receipt
    assert await w.balance(m["card_no"]) == 10_000 - q["total_due"]  # charged once
    assert await w.points(m["member_no"]) == q["points_to_earn"]  # earned once
    refund = await w.call("POST", f"/api/v1/checkouts/{cid}/refund", w.clerk, json={},
                          headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert refund.status_code in (200, 201), refund.text  # the outcome's write keeps what a refund needs
    assert await w.balance(m["card_no"]) == 10_000


async def test_a_retry_of_a_checkout_paid_before_the_gateway_died_completes_it(
    checkout_world: CheckoutWorld,
) -> None:
    """Not the resumer: the cashier retries with the same key at once."""
    w = checkout_world
    m, body, q = await sale(w, 1_700, 5_000)
    key = uuid.uuid4().hex
    cid = await interrupted(w, body, key, upto="pay")
    async with w.gw.db.transaction() as session:  # the dead request's lease has run out
        from sqlalchemy import update

        await session.execute(
            update(checkouts).where(checkouts.c.checkout_id == cid).values(lease_until=None)
        )
    r = await w.checkout(body, key=key)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed" and r.json()["total_due"] == q["total_due"]
    assert await w.balance(m["card_no"]) == 5_000 - q["total_due"]
    assert await w.points(m["member_no"]) == q["points_to_earn"]


async def test_a_checkout_that_never_paid_is_released_and_its_points_come_back(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    sku = await w.product(4_000)
    m = await w.member(balance=10_000)
    await w.grant_points(m, 150)
    before = await w.points(m["member_no"])
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}], "points_to_use": 100}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    key = uuid.uuid4().hex
    cid = await interrupted(w, body, key, upto="reserve")
    assert await w.points(m["member_no"]) == before - 100  # held by the reservation
    await _resumed(w, cid, "released")
    assert await w.points(m["member_no"]) == before
    assert await w.balance(m["card_no"]) == 10_000
    r = await w.checkout(body, key=key)
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    assert await w.balance(m["card_no"]) == 10_000


async def interrupted_quick(w: CheckoutWorld, body: dict, key: str, *, upto: str) -> uuid.UUID:
    """A checkout that holds nothing, as ``create`` runs it (priced, then its start written
    with the quote), up to and including ``upto`` (start, pay or confirm); then the gateway died."""
    state, p = w.gw, principal_for(w, w.clerk)
    parsed = saga.CheckoutBody.model_validate(body)
    cid = saga.checkout_id_for(w.key_hash(w.clerk, key))
    lines = await saga.price_lines(state, p, parsed.lines)
    quoted = await saga.quick_quote(state, p, lines, body["card_no"])
    stored = sum(x["amount"] for x in body["payments"] if x["method"] == "stored_value")
    request = {"card_no": body["card_no"], "lines": lines, "coupon_code": None, "points_to_use": 0,
               "payments": body["payments"]}  # fmt: skip
    async with state.db.transaction() as session:
        await session.execute(insert(checkouts).values(
            checkout_id=cid, body_hash=saga.body_hash(parsed), status="started", actor=p.sub, actor_role=p.role,
            store_path=p.scope, card_no=body["card_no"], request=request, stored_value=stored, attempts=1,
            quoted=quoted.SerializeToString(), member_no=quoted.request.member_no,
        ))  # fmt: skip
    if upto == "start":
        return cid
    txn = await state.clients.call(state.clients.wallet.CapturePayment, wpb.CapturePaymentRequest(
        request_id=str(cid), card_no=body["card_no"], amount=stored, acting_store_path=p.scope,
        reference=str(cid)), p)  # fmt: skip
    if upto == "pay":
        return cid
    tenders = [lpb.Tender(method="stored_value", amount=stored, reference=txn.transaction_id)]
    await state.clients.call(
        state.clients.loyalty.Confirm,
        lpb.ConfirmRequest(checkout_id=str(cid), tenders=tenders, quoted=quoted),
        p,
    )
    return cid


@pytest.mark.parametrize("upto", ["pay", "confirm"])
async def test_a_quick_checkout_paid_before_the_gateway_died_is_completed_once(
    checkout_world: CheckoutWorld, upto: str
) -> None:
    """No reservation: the resumer confirms from the quote kept with the start."""
    w = checkout_world
    m, body, q = await sale(w, 2_900, 10_000)
    key = uuid.uuid4().hex
    cid = await interrupted_quick(w, body, key, upto=upto)
    row = await _resumed(w, cid, "completed")
    assert row.receipt["total_due"] == q["total_due"] and row.receipt["points_earned"] == q["points_to_earn"]
    r = await w.checkout(body, key=key)
    assert r.status_code == 201 and r.json() == row.receipt
    assert await w.balance(m["card_no"]) == 10_000 - q["total_due"]  # charged once
    assert await w.points(m["member_no"]) == q["points_to_earn"]  # earned once


async def test_a_quick_checkout_that_never_paid_is_released_and_cannot_be_recorded_later(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    m, body, _ = await sale(w, 1_100, 10_000)
    key = uuid.uuid4().hex
    cid = await interrupted_quick(w, body, key, upto="start")
    await _resumed(w, cid, "released")
    r = await w.checkout(body, key=key)
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    # The release left loyalty a tombstone: a confirm that comes late records nothing.
    state, p = w.gw, principal_for(w, w.clerk)
    row = await _row(w, str(cid))
    late = lpb.ConfirmRequest(checkout_id=str(cid), quoted=lpb.QuotedCheckout.FromString(row.quoted))
    with pytest.raises(ChainclubError) as exc:
        await state.clients.call(state.clients.loyalty.Confirm, late, p)
    assert exc.value.reason == "conflict"
    assert await w.balance(m["card_no"]) == 10_000 and await w.points(m["member_no"]) == 0
