"""Keeping the rewards catalog and the referral rule through the gateway (HQ admins; everyone
else reads): edit, restock, deactivate, delete only while never redeemed (409 otherwise), the
referral rule applied to a member registered with a referrer, a tier's birthday points."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


async def new_reward(w: CheckoutWorld, stock: int = 3, cost: int = 10) -> dict:
    body = {"name": f"mug {uuid.uuid4().hex[:6]}", "points_cost": cost, "stock": stock}
    r = await w.call("POST", "/api/v1/loyalty/rewards", w.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def listed(w: CheckoutWorld, reward_id: str) -> dict | None:
    r = await w.call("GET", "/api/v1/loyalty/rewards", w.clerk)
    assert r.status_code == 200, r.text
    return next((x for x in r.json()["items"] if x["id"] == reward_id), None)


async def test_edit_restock_deactivate_and_delete_a_reward(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    reward = await new_reward(w)
    path = f"/api/v1/loyalty/rewards/{reward['id']}"
    r = await w.call("PATCH", path, w.admin, json={"name": "保温杯", "points_cost": 20, "stock_delta": 7})
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("name", "points_cost", "stock", "redeemed")} == {
        "name": "保温杯",
        "points_cost": 20,
        "stock": 10,
        "redeemed": 0,
    }
    r = await w.call("PATCH", path, w.admin, json={"stock_delta": -11})
    assert r.status_code == 409 and "only 10 left" in r.json()["detail"], r.text
    for bad in ({"points_cost": 0}, {"name": ""}, {"stock_delta": "1"}, {"price": 3}):
        r = await w.call("PATCH", path, w.admin, json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert (await w.call("PATCH", path, w.clerk, json={"stock_delta": 1})).status_code == 403
    r = await w.call("PATCH", "/api/v1/loyalty/rewards/not-an-id", w.admin, json={"stock_delta": 1})
    assert r.status_code == 422, r.text
    r = await w.call("PATCH", f"/api/v1/loyalty/rewards/{uuid.uuid4()}", w.admin, json={"stock_delta": 1})
    assert r.status_code == 404, r.text
    assert (await listed(w, reward["id"]))["stock"] == 10  # the refusals changed nothing

    r = await w.call("POST", f"{path}/deactivate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is False
    m = await w.member()
    await w.grant_points(m, 40)
    redeem = f"/api/v1/members/{m['member_no']}/redemptions"
    r = await w.call("POST", redeem, w.clerk, json={"reward_id": reward["id"]},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 404, r.text
    r = await w.call("POST", f"{path}/activate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is True
    r = await w.call("POST", redeem, w.clerk, json={"reward_id": reward["id"]},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    assert (await listed(w, reward["id"]))["redeemed"] == 1

    r = await w.call("DELETE", path, w.admin)
    assert r.status_code == 409 and "deactivate it instead" in r.json()["detail"], r.text
    never = await new_reward(w)
    r = await w.call("DELETE", f"/api/v1/loyalty/rewards/{never['id']}", w.admin)
    assert r.status_code == 204, r.text
    assert await listed(w, never["id"]) is None
    r = await w.call("GET", "/api/v1/audit-log", w.admin, params={"target_id": reward["id"]})
    assert r.status_code == 200, r.text
    assert {"loyalty.reward.update", "loyalty.reward.deactivate", "loyalty.reward.activate"} <= {
        e["action"] for e in r.json()["items"]
    }


async def test_referral_rule_rewards_the_referrer_of_a_registered_member(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    r = await w.call("POST", "/api/v1/loyalty/coupon-templates", w.admin,
                     json={"name": "新人礼", "kind": "amount_off", "amount_off": 500, "valid_days": 30})  # fmt: skip
    assert r.status_code == 201, r.text
    template = r.json()["id"]
    rule = {"active": True, "referrer_points": 120, "referee_coupon_template_id": template}
    assert (await w.call("PUT", "/api/v1/loyalty/referral-rule", w.clerk, json=rule)).status_code == 403
    r = await w.call("PUT", "/api/v1/loyalty/referral-rule", w.admin, json={"active": True})
    assert r.status_code == 422 and r.json()["code"] == "invalid_argument", r.text
    r = await w.call("PUT", "/api/v1/loyalty/referral-rule", w.admin,
                     json={**rule, "referee_coupon_template_id": str(uuid.uuid4())})  # fmt: skip
    assert r.status_code == 422, r.text
    r = await w.call("PUT", "/api/v1/loyalty/referral-rule", w.admin, json={**rule, "referrer_points": -5})
    assert r.status_code == 422, r.text
    r = await w.call("PUT", "/api/v1/loyalty/referral-rule", w.admin, json=rule)
    assert r.status_code == 200, r.text
    try:
        r = await w.call("GET", "/api/v1/loyalty/referral-rule", w.clerk)
        assert r.status_code == 200 and r.json()["referrer_points"] == 120 and r.json()["active"] is True
        referrer = await w.register(w.clerk)
        referee = await w.register(w.clerk, referrer_member_no=referrer["member_no"])
        for _ in range(200):
            if await w.points(referrer["member_no"]) == 120:
                break
            await asyncio.sleep(0.05)
        assert await w.points(referrer["member_no"]) == 120
        r = await w.call("GET", f"/api/v1/members/{referee['member_no']}/coupons", w.clerk)
        assert r.status_code == 200, r.text
        assert template in {c["template_id"] for c in r.json()["items"]}
    finally:
        r = await w.call("PUT", "/api/v1/loyalty/referral-rule", w.admin, json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False


async def test_tier_birthday_points_are_kept(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    code = f"bd{uuid.uuid4().hex[:6]}"
    body = {"code": code, "name": "生日档", "rank": 60 + uuid.uuid4().int % 30, "birthday_points": 66}
    r = await w.call("POST", "/api/v1/loyalty/tiers", w.admin, json=body)
    assert r.status_code == 201, r.text
    r = await w.call("GET", "/api/v1/loyalty/tiers", w.clerk)
    assert next(t for t in r.json()["items"] if t["code"] == code)["birthday_points"] == 66
    r = await w.call("POST", "/api/v1/loyalty/tiers", w.admin, json={**body, "birthday_points": -1})
    assert r.status_code == 422, r.text
    assert (await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", w.admin)).status_code == 204
