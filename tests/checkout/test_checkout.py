"""The checkout saga through the gateway (docs/api.md "Checkout", docs/design.md §6 gateway)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kit.errors import ChainclubError
from kit.runtime import Service
from kit.testing import eventually
from services.gateway import checkout as saga
from services.gateway import checkout_resume
from services.gateway.models import checkouts
from services.loyalty.main import spec as loyalty_spec
from tests.checkout.conftest import CheckoutWorld
from tests.members.conftest import principal_for

pytestmark = pytest.mark.integration


async def _row(w: CheckoutWorld, checkout_id: str):  # type: ignore[no-untyped-def]
    async with w.gw.db.sessions() as session:
        from sqlalchemy import select

        return (
            await session.execute(select(checkouts).where(checkouts.c.checkout_id == uuid.UUID(checkout_id)))
        ).first()


async def _resumed(w: CheckoutWorld, cid, status: str):  # type: ignore[no-untyped-def]
    """Resume stuck checkouts until ``cid`` reaches ``status`` (the gateway's own background
    resumer may get there first: either way it must happen exactly once)."""

    async def reached():  # type: ignore[no-untyped-def]
        await checkout_resume.resume_stuck(w.gw, older_than=0)
        row = await _row(w, str(cid))
        return row if row.status == status else None

    return await eventually(reached, timeout=20, what=f"checkout {cid} {status}")


async def _drive_to_paid(w: CheckoutWorld, body: dict, key: str, q: dict):  # type: ignore[no-untyped-def]
    """Run the saga's steps as a request would, up to the payment, persisting state before
    each step, then stop (as if the gateway died): returns the checkout id."""
    from sqlalchemy.dialects.postgresql import insert

    from chainclub.loyalty.v1 import loyalty_pb2 as lpb
    from chainclub.wallet.v1 import wallet_pb2 as wpb

    m_card = body["card_no"]
    state, p = w.gw, principal_for(w, w.clerk)
    parsed = saga.CheckoutBody.model_validate(body)
    cid = saga.checkout_id_for(w.key_hash(w.clerk, key))
    lines = await saga.price_lines(state, p, parsed.lines)
    request = {"card_no": m_card, "lines": lines, "coupon_code": None, "points_to_use": 0,
               "payments": body["payments"]}  # fmt: skip
    async with state.db.transaction() as session:
        await session.execute(insert(checkouts).values(
            checkout_id=cid, body_hash=saga.body_hash(parsed), status="started", actor=p.sub, actor_role=p.role,
            store_path=p.scope, card_no=m_card, request=request, stored_value=q["total_due"],
        ))  # fmt: skip
    card = await saga.identify_card(state, p, m_card)
    qreq = saga.quote_request(p.scope, lines, card, None, 0)
    res = await state.clients.call(
        state.clients.loyalty.Reserve, lpb.ReserveRequest(checkout_id=str(cid), quote=qreq), p
    )
    await saga._save(state, cid, release=True, status="reserved", quote=saga.quote_json(res.quote),
                     total_due=res.quote.total_due, member_no=card["member_no"])  # fmt: skip
    txn = await state.clients.call(state.clients.wallet.CapturePayment, wpb.CapturePaymentRequest(
        request_id=str(cid), card_no=m_card, amount=q["total_due"], acting_store_path=p.scope,
        reference=str(cid)), p)  # fmt: skip
    payment = {"transaction_id": txn.transaction_id, "amount": txn.amount,
               "balance": {"principal": txn.balance.principal, "bonus": txn.balance.bonus, "total": txn.balance.total}}  # fmt: skip
    await saga._save(state, cid, release=True, status="paid", payment=payment)
    return cid


async def test_quote_prices_lines_from_the_catalog(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    a, b = await w.product(1999), await w.product(500)
    m = await w.member()
    q = await w.quote({"card_no": m["card_no"], "lines": [{"sku": a, "qty": 2}, {"sku": b, "qty": 1}]})
    assert q["subtotal"] == 2 * 1999 + 500
    assert [(ln["sku"], ln["qty"], ln["unit_price"]) for ln in q["lines"]] == [(a, 2, 1999), (b, 1, 500)]
    for ln in q["lines"]:
        assert ln["amount"] == ln["unit_price"] * ln["qty"] - ln["discount"]
    assert q["total_due"] == q["subtotal"] - sum(d["amount"] for d in q["discounts"])
    assert set(q) >= {
        "lines",
        "subtotal",
        "discounts",
        "points_used",
        "points_value",
        "total_due",
        "points_to_earn",
    }
    # without a card: retail
    anon = await w.quote({"lines": [{"sku": a, "qty": 1}]})
    assert anon["subtotal"] == 1999 and anon["points_to_earn"] == 0


async def test_quote_uses_the_acting_stores_region_price(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(1000)
    region = w.store_path.split("/")[1]
    r = await w.call("PATCH", f"/api/v1/products/{sku}", w.admin, json={"region_prices": {region: 800}})
    assert r.status_code == 200, r.text
    assert (await w.quote({"lines": [{"sku": sku, "qty": 1}]}))["subtotal"] == 800
    assert (await w.quote({"lines": [{"sku": sku, "qty": 1}]}, token=w.other_clerk))["subtotal"] == 1000


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "NOPE", "qty": 1}], "lines.0.sku"),
        ([{"sku": "KNOWN", "qty": 1}, {"sku": "NOPE", "qty": 1}], "lines.1.sku"),
        ([{"sku": "KNOWN", "qty": 0}], "lines.0.qty"),
        ([{"sku": "KNOWN", "qty": 10000}], "lines.0.qty"),
        ([{"sku": "KNOWN", "qty": -1}], "lines.0.qty"),
        ([], "lines"),
    ],
)
async def test_bad_lines_are_422(checkout_world: CheckoutWorld, lines: list, field: str) -> None:
    w = checkout_world
    known = await w.product(100)
    lines = [{**ln, "sku": known if ln["sku"] == "KNOWN" else ln["sku"]} for ln in lines]
    for path in ("/api/v1/checkouts/quote", "/api/v1/checkouts"):
        r = await w.call("POST", path, w.clerk, json={"lines": lines, "payments": []} if path.endswith("s") else
                         {"lines": lines}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_argument"
        assert field in [e["field"] for e in r.json()["errors"]], r.json()


async def test_a_lost_or_frozen_card_cannot_check_out(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(100)
    for action, code in (("report-loss", "card_lost"), ("freeze", "card_frozen")):
        m = await w.member(balance=1000)
        r = await w.call("POST", f"/api/v1/cards/{m['card_no']}/{action}", w.clerk)
        assert r.status_code == 200, r.text
        body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
        r = await w.call("POST", "/api/v1/checkouts/quote", w.clerk, json=body)
        assert r.status_code == 409 and r.json()["code"] == code, r.text
        r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": 100}]})
        assert r.status_code == 409 and r.json()["code"] == code, r.text
        assert await w.balance(m["card_no"]) == 1000


async def test_checkout_paid_by_stored_value(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(2550)
    m = await w.member(balance=10_000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 2}]}
    q = await w.quote(body)
    r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": q["total_due"]}]})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["status"] == "completed"
    assert receipt["subtotal"] == 5100 and receipt["total_due"] == q["total_due"]
    assert receipt["points_earned"] == q["points_to_earn"]
    assert receipt["balance"]["total"] == 10_000 - q["total_due"] == await w.balance(m["card_no"])
    assert set(receipt) >= {"checkout_id", "status", "subtotal", "total_due", "discounts", "points_used",
                            "points_earned", "balance", "tier"}  # fmt: skip
    got = await w.call("GET", f"/api/v1/checkouts/{receipt['checkout_id']}", w.clerk)
    assert got.status_code == 200 and got.json()["status"] == "completed"
    assert got.json()["receipt"] == receipt
    # another store's clerk does not see it
    other = await w.call("GET", f"/api/v1/checkouts/{receipt['checkout_id']}", w.other_clerk)
    assert other.status_code == 404


async def test_checkout_paid_by_cash_and_stored_value(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(3000)
    m = await w.member(balance=1000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    payments = [
        {"method": "stored_value", "amount": 1000},
        {"method": "cash", "amount": q["total_due"] - 1000},
    ]
    r = await w.checkout({**body, "payments": payments})
    assert r.status_code == 201, r.text
    assert r.json()["balance"]["total"] == 0 == await w.balance(m["card_no"])
    assert r.json()["payments"] == payments


async def test_checkout_without_a_card_in_cash(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(700)
    r = await w.checkout(
        {"lines": [{"sku": sku, "qty": 3}], "payments": [{"method": "alipay", "amount": 2100}]}
    )
    assert r.status_code == 201, r.text
    assert r.json()["total_due"] == 2100 and r.json()["balance"] is None
    r = await w.checkout(
        {"lines": [{"sku": sku, "qty": 1}], "payments": [{"method": "stored_value", "amount": 700}]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "payments"


async def test_payment_mismatch_reserves_and_charges_nothing(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(5000)
    m = await w.member(balance=10_000)
    await w.grant_points(m, 300)
    points_before = await w.points(m["member_no"])
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}], "points_to_use": 100}
    q = await w.quote(body)
    r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": q["total_due"] - 1}]})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "payment_mismatch"
    assert await w.balance(m["card_no"]) == 10_000
    assert await w.points(m["member_no"]) == points_before  # the points are free again
    # and they can be used at once
    r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": q["total_due"]}]})
    assert r.status_code == 201, r.text
    assert r.json()["points_used"] == q["points_used"] > 0


async def test_insufficient_balance_is_402_and_releases_the_reservation(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    sku = await w.product(5000)
    m = await w.member(balance=1000)
    await w.grant_points(m, 200)
    points_before = await w.points(m["member_no"])
    code = await w.coupon(m, 300)
    body = {
        "card_no": m["card_no"],
        "lines": [{"sku": sku, "qty": 1}],
        "points_to_use": 100,
        "coupon_code": code,
    }
    q = await w.quote(body)
    r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": q["total_due"]}]})
    assert r.status_code == 402, r.text
    assert r.json()["code"] == "insufficient_balance"
    assert await w.balance(m["card_no"]) == 1000
    assert await w.points(m["member_no"]) == points_before
    # the coupon and the points are usable again: pay the rest in cash
    payments = [
        {"method": "stored_value", "amount": 1000},
        {"method": "cash", "amount": q["total_due"] - 1000},
    ]
    r = await w.checkout({**body, "payments": payments})
    assert r.status_code == 201, r.text
    assert any(d["kind"] == "coupon" for d in r.json()["discounts"])


async def test_replay_returns_the_same_receipt_and_charges_once(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(1200)
    m = await w.member(balance=5000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    key = uuid.uuid4().hex
    first = await w.checkout(body, key=key)
    assert first.status_code == 201, first.text
    again = await asyncio.gather(*(w.checkout(body, key=key) for _ in range(3)))
    assert [r.status_code for r in again] == [201] * 3
    assert all(r.json() == first.json() for r in again)
    assert await w.balance(m["card_no"]) == 5000 - q["total_due"]
    other = await w.checkout({**body, "lines": [{"sku": sku, "qty": 2}]}, key=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    missing = await w.call("POST", "/api/v1/checkouts", w.clerk, json=body)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    # an error is replayed too
    poor = await w.member(balance=100)
    pbody = {**body, "card_no": poor["card_no"]}
    key = uuid.uuid4().hex
    r1, r2 = await w.checkout(pbody, key=key), await w.checkout(pbody, key=key)
    assert r1.status_code == r2.status_code == 402 and r1.json() == r2.json()


async def test_concurrent_first_attempts_with_one_key_run_once(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(1000)
    m = await w.member(balance=5000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    key = uuid.uuid4().hex
    results = await asyncio.gather(*(w.checkout(body, key=key) for _ in range(5)))
    assert [r.status_code for r in results] == [201] * 5
    assert len({r.json()["checkout_id"] for r in results}) == 1
    assert await w.balance(m["card_no"]) == 5000 - q["total_due"]


async def test_twenty_concurrent_checkouts_on_one_card(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    sku = await w.product(1000)
    m = await w.member()
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    due = (await w.quote(body))["total_due"]
    r = await w.call("POST", f"/api/v1/cards/{m['card_no']}/top-ups", w.clerk,
                     json={"amount": due * 5 + due // 2, "channel": "cash"},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    start = await w.balance(m["card_no"])
    body["payments"] = [{"method": "stored_value", "amount": due}]
    results = await asyncio.gather(*(w.checkout(body) for _ in range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 5 + [402] * 15, [r.text for r in results if r.status_code not in (201, 402)]
    assert all(r.json()["code"] == "insufficient_balance" for r in results if r.status_code == 402)
    assert await w.balance(m["card_no"]) == start - 5 * due


async def test_refund_returns_stored_value(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    a, b = await w.product(1000), await w.product(3000)
    m = await w.member(balance=10_000)
    body = {"card_no": m["card_no"], "lines": [{"sku": a, "qty": 2}, {"sku": b, "qty": 1}]}
    q = await w.quote(body)
    r = await w.checkout({**body, "payments": [{"method": "stored_value", "amount": q["total_due"]}]})
    assert r.status_code == 201, r.text
    cid = r.json()["checkout_id"]
    after_pay = await w.balance(m["card_no"])
    key = uuid.uuid4().hex
    part = await w.call("POST", f"/api/v1/checkouts/{cid}/refund", w.clerk, json={"lines": [{"sku": a, "qty": 1}]},
                        headers={"Idempotency-Key": key})  # fmt: skip
    assert part.status_code == 201, part.text
    line_a = next(ln for ln in q["lines"] if ln["sku"] == a)
    expected = saga.share(q["total_due"], line_a["amount"] // 2, sum(ln["amount"] for ln in q["lines"]))
    assert part.json()["stored_value_refunded"] == expected
    assert await w.balance(m["card_no"]) == after_pay + expected
    replay = await w.call("POST", f"/api/v1/checkouts/{cid}/refund", w.clerk, json={"lines": [{"sku": a, "qty": 1}]},
                          headers={"Idempotency-Key": key})  # fmt: skip
    assert replay.status_code == 201 and replay.json() == part.json()
    too_many = await w.call("POST", f"/api/v1/checkouts/{cid}/refund", w.clerk,
                            json={"lines": [{"sku": a, "qty": 2}]}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert too_many.status_code == 422, too_many.text
    rest = await w.call(
        "POST", f"/api/v1/checkouts/{cid}/refund", w.clerk, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert rest.status_code == 201, rest.text
    assert await w.balance(m["card_no"]) == 10_000
    other = await w.call("POST", f"/api/v1/checkouts/{cid}/refund", w.other_clerk,
                         headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert other.status_code == 404
    got = (await w.call("GET", f"/api/v1/checkouts/{cid}", w.clerk)).json()
    assert len(got["refunds"]) == 2


async def test_a_checkout_interrupted_after_payment_completes_exactly_once(
    checkout_world: CheckoutWorld,
) -> None:
    """The gateway "dies" between CapturePayment and Confirm: the saga state says paid. The
    resumer confirms it once; a retry of the request replays the receipt."""
    w = checkout_world
    sku = await w.product(1500)
    m = await w.member(balance=5000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    key = uuid.uuid4().hex
    state = w.gw
    cid = await _drive_to_paid(w, body, key, q)
    # ... and here the gateway died. The resumer finishes it:
    row = await _resumed(w, cid, "completed")
    assert row.receipt["points_earned"] == q["points_to_earn"]
    await checkout_resume.resume_stuck(state, older_than=0)  # a second pass finds nothing more to do
    assert (await _row(w, str(cid))).status == "completed"
    r = await w.checkout(body, key=key)
    assert r.status_code == 201, r.text
    assert r.json() == row.receipt
    assert await w.balance(m["card_no"]) == 5000 - q["total_due"]
    got = await w.call("GET", f"/api/v1/checkouts/{cid}", w.clerk)
    assert got.json()["status"] == "completed"


async def test_loyalty_down_between_payment_and_confirm_completes_once_it_is_back(
    checkout_world: CheckoutWorld,
) -> None:
    """Loyalty stops after the payment was taken: the checkout stays paid (503, no refund while
    loyalty cannot say whether it confirmed), and completes exactly once when loyalty is back."""
    w = checkout_world
    sku = await w.product(1200)
    m = await w.member(balance=3000)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    key = uuid.uuid4().hex
    state, p = w.gw, principal_for(w, w.clerk)
    cid = await _drive_to_paid(w, body, key, q)
    await w.loyalty_service.stop()
    try:
        with pytest.raises(ChainclubError) as failed:
            await saga.drive(state, p, cid)
        assert failed.value.reason == "unavailable"
        assert (await _row(w, str(cid))).status == "paid"
        assert await w.balance(m["card_no"]) == 3000 - q["total_due"]  # taken once, not refunded
    finally:
        w.loyalty_service = Service(loyalty_spec(), w.settings)
        await w.loyalty_service.start(w.settings.loyalty_addr)
    row = await _resumed(w, cid, "completed")
    r = await w.checkout(body, key=key)  # the cashier's retry replays the receipt
    assert r.status_code == 201 and r.json() == row.receipt
    assert await w.balance(m["card_no"]) == 3000 - q["total_due"]
    assert await w.points(m["member_no"]) == q["points_to_earn"]


async def test_the_resumer_releases_a_checkout_that_never_paid(checkout_world: CheckoutWorld) -> None:
    """Interrupted after Reserve, before CapturePayment: nothing is taken in the background;
    the reservation is released and the points are free again."""
    w = checkout_world
    sku = await w.product(4000)
    m = await w.member(balance=10_000)
    await w.grant_points(m, 150)
    points_before = await w.points(m["member_no"])
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}], "points_to_use": 100}
    q = await w.quote(body)
    body["payments"] = [{"method": "stored_value", "amount": q["total_due"]}]
    state, p = w.gw, principal_for(w, w.clerk)
    parsed = saga.CheckoutBody.model_validate(body)
    key = uuid.uuid4().hex
    cid = saga.checkout_id_for(w.key_hash(w.clerk, key))
    from sqlalchemy.dialects.postgresql import insert

    from chainclub.loyalty.v1 import loyalty_pb2 as lpb

    lines = await saga.price_lines(state, p, parsed.lines)
    request = {"card_no": m["card_no"], "lines": lines, "coupon_code": None, "points_to_use": 100,
               "payments": body["payments"]}  # fmt: skip
    async with state.db.transaction() as session:
        await session.execute(insert(checkouts).values(
            checkout_id=cid, body_hash=saga.body_hash(parsed), status="started", actor=p.sub, actor_role=p.role,
            store_path=p.scope, card_no=m["card_no"], request=request, stored_value=q["total_due"],
        ))  # fmt: skip
    card = await saga.identify_card(state, p, m["card_no"])
    qreq = saga.quote_request(p.scope, lines, card, None, 100)
    res = await state.clients.call(
        state.clients.loyalty.Reserve, lpb.ReserveRequest(checkout_id=str(cid), quote=qreq), p
    )
    await saga._save(state, cid, release=True, status="reserved", quote=saga.quote_json(res.quote),
                     total_due=res.quote.total_due, member_no=m["member_no"])  # fmt: skip
    assert await w.points(m["member_no"]) == points_before - 100  # held
    await _resumed(w, cid, "released")
    assert await w.points(m["member_no"]) == points_before
    assert await w.balance(m["card_no"]) == 10_000
    r = await w.checkout(body, key=key)  # the cashier's retry learns it did not go through
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    assert await w.balance(m["card_no"]) == 10_000
