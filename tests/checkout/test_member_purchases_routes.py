"""Through the real gateway with members, wallet, loyalty (and notify for follow-ups): members
searched by loyalty's current tier, a member's purchases, follow-ups for a segment."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kit.runtime import Service
from services.notify.main import spec as notify_spec
from tests.checkout.conftest import CheckoutWorld
from tests.checkout.test_analytics_reports import a_region, buy

pytestmark = pytest.mark.integration

BIG = 90_000_000  # fen: a purchase that reaches the test's tier and no other


async def a_top_tier(w: CheckoutWorld) -> str:
    """A tier above every other, reached by spending ``BIG`` in 12 months."""
    r = await w.call("GET", "/api/v1/loyalty/tiers", w.admin)
    assert r.status_code == 200, r.text
    tiers = r.json()["items"]
    code = "t" + uuid.uuid4().hex[:8]
    body = {
        "code": code,
        "name": "Top " + code,
        "rank": max(t["rank"] for t in tiers) + 1,
        "min_spend_12m": BIG,
    }
    r = await w.call("POST", "/api/v1/loyalty/tiers", w.admin, json=body)
    assert r.status_code in (200, 201), r.text
    return code


async def test_a_member_upgraded_by_a_purchase_is_found_under_the_new_tier(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    mine = await a_region(w)
    tier = await a_top_tier(w)
    big = await w.register(mine["clerk"])
    small = await w.register(mine["clerk"])
    assert big["tier"] == "standard"
    await buy(w, mine["clerk"], BIG, card_no=big["card"]["card_no"])
    await buy(w, mine["clerk"], 1_000, card_no=small["card"]["card_no"])

    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"tier": tier})
    assert r.status_code == 200, r.text
    assert [(m["member_no"], m["tier"]) for m in r.json()["items"]] == [(big["member_no"], tier)]
    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"tier": "standard"})
    assert [m["member_no"] for m in r.json()["items"]] == [small["member_no"]]
    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"store": mine["store"]})
    assert sorted((m["member_no"], m["tier"]) for m in r.json()["items"]) == sorted(
        [(big["member_no"], tier), (small["member_no"], "standard")]
    )
    r = await w.call(
        "GET", "/api/v1/members", mine["manager"], params={"tier": tier, "q": "nobody-like-this"}
    )
    assert r.json()["items"] == []
    other = await a_region(w)
    r = await w.call("GET", "/api/v1/members", other["manager"], params={"tier": tier})
    assert big["member_no"] not in [m["member_no"] for m in r.json()["items"]]


async def test_a_members_purchases_are_listed_newest_first_and_scoped(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    mine = await a_region(w)
    m = await w.register(mine["clerk"])
    card = m["card"]["card_no"]
    first = await buy(w, mine["clerk"], 2_000, qty=2, card_no=card)
    second = await buy(w, mine["clerk"], 3_000, card_no=card)
    refund = await w.call(
        "POST", f"/api/v1/checkouts/{first['checkout_id']}/refund", mine["clerk"], json={},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert refund.status_code == 201, refund.text

    path = f"/api/v1/members/{m['member_no']}/purchases"
    r = await w.call("GET", path, mine["auditor"])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["checkout_id"] for i in items] == [second["checkout_id"], first["checkout_id"]]
    assert items[0]["store_path"] == mine["path"] and items[0]["total_due"] == second["total_due"]
    assert items[0]["points_earned"] == second["points_earned"] and items[0]["status"] == "completed"
    assert items[1]["status"] == "refunded" and items[1]["refunded_amount"] == first["total_due"]
    assert items[1]["subtotal"] == 4_000 and items[1]["discount"] == 4_000 - first["total_due"]
    assert items[0]["created_at"].endswith("Z")

    r = await w.call("GET", path, mine["manager"], params={"limit": 1})
    assert [i["checkout_id"] for i in r.json()["items"]] == [second["checkout_id"]]
    assert r.json()["next_cursor"]
    r = await w.call("GET", path, mine["manager"], params={"limit": 1, "cursor": r.json()["next_cursor"]})
    assert [i["checkout_id"] for i in r.json()["items"]] == [first["checkout_id"]]

    other = await a_region(w)
    r = await w.call("GET", path, other["manager"])
    assert r.status_code == 404, r.text
    r = await w.call("GET", path, mine["manager"], params={"limit": 0})
    assert r.status_code == 422, r.text


@pytest.fixture(scope="module")
async def with_notify(checkout_world: CheckoutWorld) -> AsyncIterator[CheckoutWorld]:
    """The notify service beside the checkout world's (same settings: same keys and address)."""
    notify = Service(notify_spec(), checkout_world.settings)
    await notify.start(checkout_world.settings.notify_addr)
    try:
        yield checkout_world
    finally:
        await notify.stop()


async def test_follow_ups_for_a_segment_are_created_once_at_the_home_stores(
    with_notify: CheckoutWorld,
) -> None:
    w = with_notify
    mine = await a_region(w)
    members = [await w.register(mine["clerk"]) for _ in range(2)]
    for m in members:
        await buy(w, mine["clerk"], 1_500, card_no=m["card"]["card_no"])
    r = await w.call("POST", "/api/v1/analytics/segments/recompute", w.admin)
    assert r.status_code == 200, r.text
    due = (datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)).isoformat()
    body = {"purpose": "新客关怀回访", "due_on": due}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    url = "/api/v1/analytics/segments/new/follow-ups"

    r = await w.call("POST", url, mine["manager"], json=body, headers=key)
    assert r.status_code == 201, r.text
    assert (r.json()["members"], r.json()["created"], r.json()["existing"]) == (2, 2, 0)
    again = await w.call("POST", url, mine["manager"], json=body, headers=key)
    assert (again.json()["created"], again.json()["existing"]) == (0, 2)

    r = await w.call("GET", "/api/v1/follow-ups", mine["clerk"], params={"due_before": "2100-01-01"})
    assert r.status_code == 200, r.text
    asks = [f for f in r.json()["items"] if f["stage"] == "ask"]
    assert sorted(f["member_no"] for f in asks) == sorted(m["member_no"] for m in members)
    assert {(f["store_path"], f["due_on"], f["purpose"]) for f in asks} == {
        (mine["path"], due, "新客关怀回访")
    }

    r = await w.call("POST", url, mine["clerk"], json=body, headers=key)
    assert r.status_code == 403, r.text
    r = await w.call("POST", url, mine["manager"], json=body)
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_required", r.text
    r = await w.call("POST", url, mine["manager"], json={**body, "due_on": "2020-01-01"},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "due_on", r.text
    r = await w.call("POST", "/api/v1/analytics/segments/whales/follow-ups", mine["manager"], json=body,
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 422, r.text
