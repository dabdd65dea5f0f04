"""Rewards catalog through the gateway (docs/api.md "Loyalty"): HQ keeps the rewards, counter
staff redeem points with an Idempotency-Key; a replay returns the same redemption."""

from __future__ import annotations

import uuid

import pytest

from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


async def test_rewards_and_redemption(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    body = {"name": f"mug {uuid.uuid4().hex[:6]}", "points_cost": 10, "stock": 2}
    assert (await w.call("POST", "/api/v1/loyalty/rewards", w.clerk, json=body)).status_code == 403
    r = await w.call("POST", "/api/v1/loyalty/rewards", w.admin, json=body)
    assert r.status_code == 201, r.text
    reward = r.json()
    assert reward["stock"] == 2 and reward["active"] is True
    r = await w.call("GET", "/api/v1/loyalty/rewards", w.clerk)
    assert r.status_code == 200 and reward["id"] in {x["id"] for x in r.json()["items"]}
    bad = await w.call("POST", "/api/v1/loyalty/rewards", w.admin, json={**body, "stock": -1})
    assert bad.status_code == 422

    m = await w.member()
    await w.grant_points(m, 25)
    path = f"/api/v1/members/{m['member_no']}/redemptions"
    key = uuid.uuid4().hex
    r = await w.call("POST", path, w.clerk, json={"reward_id": reward["id"], "qty": 2},
                     headers={"Idempotency-Key": key})  # fmt: skip
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["points"] == 20 and done["points_balance"] == 5 and done["stock_left"] == 0
    again = await w.call("POST", path, w.clerk, json={"reward_id": reward["id"], "qty": 2},
                         headers={"Idempotency-Key": key})  # fmt: skip
    assert again.status_code == 201 and again.json() == done
    assert await w.points(m["member_no"]) == 5
    r = await w.call("POST", path, w.clerk, json={"reward_id": reward["id"]},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] in ("out_of_stock", "insufficient_points")
    r = await w.call("POST", path, w.clerk, json={"reward_id": reward["id"]})
    assert r.status_code == 400
    r = await w.call("POST", path, w.other_clerk, json={"reward_id": reward["id"]},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 404
