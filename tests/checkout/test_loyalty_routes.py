"""Loyalty through the gateway (docs/api.md "Loyalty"): member reads are scoped, rules need roles."""

from __future__ import annotations

import uuid

import pytest

from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


async def test_points_of_a_member(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member()
    r = await w.call("GET", f"/api/v1/members/{m['member_no']}/points", w.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == 0 and r.json()["expiring"] == []
    await w.grant_points(m, 25)
    body = (await w.call("GET", f"/api/v1/members/{m['member_no']}/points", w.clerk)).json()
    assert body["balance"] == 25
    assert all(set(e) == {"points", "expires_on"} for e in body["expiring"])


async def test_member_reads_are_scoped(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member()
    for path in ("points", "points/history", "coupons"):
        r = await w.call("GET", f"/api/v1/members/{m['member_no']}/{path}", w.other_clerk)
        assert r.status_code == 404, (path, r.text)
        r = await w.call("GET", f"/api/v1/members/{m['member_no']}/{path}")
        assert r.status_code == 401


async def test_rules_need_the_right_role(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    tier = {"code": "T" + uuid.uuid4().hex[:6], "name": "gold", "rank": 5, "discount_bps": 500}
    r = await w.call("POST", "/api/v1/loyalty/tiers", w.clerk, json=tier)
    assert r.status_code == 403
    promo = {"name": "x", "kind": "spend_x_save_y", "spend_threshold": 1000, "save_amount": 100}
    assert (await w.call("POST", "/api/v1/loyalty/promotions", w.clerk, json=promo)).status_code == 403
    for path in ("tiers", "earn-rules", "coupon-templates", "promotions"):
        r = await w.call("GET", f"/api/v1/loyalty/{path}", w.clerk)
        assert r.status_code == 200, (path, r.text)
        assert "items" in r.json()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "amount_off"},
        {"name": "x", "kind": "percent_off", "percent_off_bps": 20000},
        {"name": "x", "kind": "nope"},
    ],
)
async def test_bad_coupon_templates_are_422(checkout_world: CheckoutWorld, body: dict) -> None:
    w = checkout_world
    r = await w.call("POST", "/api/v1/loyalty/coupon-templates", w.admin, json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_argument"


async def test_issue_coupons_to_members(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member()
    code = await w.coupon(m, 500)
    r = await w.call("GET", f"/api/v1/members/{m['member_no']}/coupons", w.clerk)
    assert r.status_code == 200, r.text
    assert code in [c["code"] for c in r.json()["items"]]
    r = await w.call(
        "POST",
        "/api/v1/loyalty/coupon-templates/x/issue",
        w.admin,
        json={"member_nos": [], "segment": "a"},
        headers={"Idempotency-Key": "k"},
    )
    assert r.status_code == 422
