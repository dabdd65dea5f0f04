"""What the counter sees of a member (identify, the profile) comes from the services that own
it: the wallet's balance, loyalty's points, tier and usable coupons; identify keeps answering
while loyalty is down. And the REST answers are the shared use cases' dicts, byte for byte."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kit.runtime import Service
from services.gateway import cards, loyalty, members, wallet
from services.loyalty.main import spec as loyalty_spec
from tests.checkout.conftest import CheckoutWorld
from tests.members.conftest import principal_for

pytestmark = pytest.mark.integration

COUPON_KEYS = {"code", "name", "kind", "amount_off", "percent_off_bps", "min_spend", "valid_until"}


async def identify(w: CheckoutWorld, m: dict, token: str | None = None) -> dict:
    r = await w.call("POST", "/api/v1/members/identify", token or w.clerk, json={"card_no": m["card_no"]})
    assert r.status_code == 200, r.text
    return r.json()


async def profile(w: CheckoutWorld, m: dict) -> dict:
    r = await w.call("GET", f"/api/v1/members/{m['member_no']}", w.clerk)
    assert r.status_code == 200, r.text
    return r.json()


async def eventually(probe: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], what: str) -> Any:
    """Poll ``probe`` until ``ok`` holds (effects that arrive by events), within 20 s."""
    deadline = time.monotonic() + 20
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r}")
        await asyncio.sleep(0.05)


async def buy(w: CheckoutWorld, m: dict, price: int, **extra: Any) -> dict:
    sku = await w.product(price)
    body = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}], **extra}
    q = await w.quote(body)
    r = await w.checkout({**body, "payments": [{"method": "cash", "amount": q["total_due"]}]})
    assert r.status_code == 201, r.text
    return r.json()


async def test_identify_and_profile_show_the_points_earned(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member(balance=2_000)
    before = await identify(w, m)
    assert before["points"] == 0 and before["coupons"] == []
    assert before["balance"] == {"principal": 2_000, "bonus": 0, "total": 2_000}
    assert (await profile(w, m))["points"] == 0
    await w.grant_points(m, 25)
    assert (await identify(w, m))["points"] == 25
    body = await profile(w, m)
    assert body["points"] == 25
    assert body["balance"] == {"principal": 2_000, "bonus": 0, "total": 2_000}
    # a counter of another store identifies the member too (the card works chain-wide)
    assert (await identify(w, m, w.other_clerk))["points"] == 25


async def test_identify_lists_the_coupons_the_member_can_use(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member()
    code = await w.coupon(m, 300)
    [coupon] = (await identify(w, m))["coupons"]
    assert set(coupon) == COUPON_KEYS
    assert coupon["code"] == code
    assert (coupon["kind"], coupon["amount_off"], coupon["percent_off_bps"], coupon["min_spend"]) == (
        "amount_off", 300, 0, 0)  # fmt: skip
    assert coupon["valid_until"] is not None
    listed = await w.call("GET", f"/api/v1/members/{m['member_no']}/coupons", w.clerk)
    [full] = listed.json()["items"]
    assert (full["name"], full["valid_until"]) == (coupon["name"], coupon["valid_until"])
    # once used at a checkout it is no longer offered
    await buy(w, m, 1_000, coupon_code=code)
    assert (await identify(w, m))["coupons"] == []


async def test_a_purchase_over_a_tier_threshold_shows_the_new_tier(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    tier = {
        "code": "T" + uuid.uuid4().hex[:8],
        "name": "counter gold",
        "rank": 40,
        "min_spend_12m": 5_000_000,
    }
    r = await w.call("POST", "/api/v1/loyalty/tiers", w.admin, json=tier)
    assert r.status_code == 201, r.text
    m = await w.member()
    assert (await identify(w, m))["tier"] == "standard"
    await buy(w, m, 5_000_000)
    found = await eventually(lambda: identify(w, m), lambda b: b["tier"] == tier["code"], "identify's tier")
    assert found["points"] == 50_000
    body = await profile(w, m)
    assert (body["tier"], body["points"]) == (tier["code"], 50_000)


async def test_identify_answers_without_points_while_loyalty_is_down(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member(balance=1_500)
    await w.coupon(m, 100)
    await w.grant_points(m, 25)
    assert w.loyalty_service is not None
    await w.loyalty_service.stop()
    try:
        body = await identify(w, m)
        assert (body["member_no"], body["points"], body["coupons"], body["tier"]) == (
            m["member_no"], None, [], "standard")  # fmt: skip
        assert body["balance"] == {"principal": 1_500, "bonus": 0, "total": 1_500}
        got = await profile(w, m)
        assert (got["points"], got["balance"]["total"]) == (None, 1_500)
    finally:
        w.loyalty_service = Service(loyalty_spec(), w.settings)
        await w.loyalty_service.start(w.settings.loyalty_addr)
    # back: the gateway reaches loyalty again (and the tests after this one find it)
    await eventually(
        lambda: identify(w, m), lambda b: b["points"] == 25, "identify's points after the restart"
    )


def rendered(value: Any) -> bytes:
    """As the gateway renders JSON (Starlette's JSONResponse)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


async def test_the_rest_answers_are_the_use_cases_byte_for_byte(checkout_world: CheckoutWorld) -> None:
    """The routes' response models describe the JSON (/openapi.json) without changing it."""
    w = checkout_world
    m = await w.member(balance=3_000)
    await w.grant_points(m, 25)
    await w.coupon(m, 200)
    state, p = w.gw, principal_for(w, w.clerk)
    no, card = m["member_no"], m["card_no"]
    assert state is not None
    pairs = [
        (("POST", "/api/v1/members/identify", {"json": {"card_no": card}}),
         members.identify(state, p, card_no=card)),
        (("GET", f"/api/v1/members/{no}", {}), members.profile(state, p, no)),
        (("GET", f"/api/v1/cards/{card}", {}), cards.get_card(state, p, card)),
        (("GET", f"/api/v1/cards/{card}/balance", {}), wallet.balance(state, p, card)),
        (("GET", f"/api/v1/cards/{card}/transactions", {"params": {"limit": 5}}),
         wallet.transactions(state, p, card, limit=5)),
        (("GET", f"/api/v1/members/{no}/points", {}), loyalty.points(state, p, no)),
        (("GET", f"/api/v1/members/{no}/points/history", {}), loyalty.points_history(state, p, no)),
        (("GET", f"/api/v1/members/{no}/coupons", {}), loyalty.member_coupons(state, p, no)),
    ]  # fmt: skip
    for (method, path, kw), use_case in pairs:
        r = await w.call(method, path, w.clerk, **kw)
        assert r.status_code == 200, (path, r.text)
        assert r.content == rendered(await use_case), path
