"""The points liability and top-up reports through the gateway, on the real members, wallet and
loyalty services: points earned at checkout in two stores of a region, per store and per region,
for a unit inside the scope, refused outside it; the XLSX exports are audited."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration

LIABILITY = "/api/v1/reports/points-liability"


async def earned(w: CheckoutWorld, clerk: str, yuan: int) -> str:
    """A member of ``clerk``'s store who earned ``yuan`` points (1 per yuan) at a checkout there."""
    m = await w.register(clerk)
    card = m["card"]["card_no"]
    sku = await w.product(yuan * 100)
    lines = [{"sku": sku, "qty": 1}]
    r = await w.call("POST", "/api/v1/checkouts", clerk, json={
        "card_no": card, "lines": lines, "payments": [{"method": "cash", "amount": yuan * 100}],
    }, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    for _ in range(200):  # the purchase's points are booked by loyalty when it confirms
        p = await w.call("GET", f"/api/v1/members/{m['member_no']}/points", clerk)
        if p.json()["balance"] >= yuan:
            return m["member_no"]
        await asyncio.sleep(0.05)
    raise AssertionError("points were not earned")


async def test_points_liability_per_store_and_region_in_the_scope(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    region = await w.unit("region", "HQ")
    s1, s2 = await w.unit("store", region), await w.unit("store", region)
    await earned(w, await w.staff("clerk", s1), 30)
    await earned(w, await w.staff("clerk", s2), 12)
    manager = await w.staff("region_manager", region)

    r = await w.call("GET", LIABILITY, manager)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["org_unit"] == f"HQ/{region}" and body["group_by"] == "store"
    figures = [(i["key"], i["members"], i["outstanding"]) for i in body["items"]]
    assert figures == sorted([(f"HQ/{region}/{s1}", 1, 30), (f"HQ/{region}/{s2}", 1, 12)])  # by path
    assert (body["totals"]["members"], body["totals"]["outstanding"]) == (2, 42)
    assert all(i["expiring_30_days"] <= i["expiring_90_days"] <= i["outstanding"] for i in body["items"])

    by_region = (await w.call("GET", LIABILITY, manager, params={"group_by": "region"})).json()
    assert [(i["key"], i["outstanding"]) for i in by_region["items"]] == [(f"HQ/{region}", 42)]
    one = (await w.call("GET", LIABILITY, manager, params={"org_unit": s2})).json()
    assert [(i["key"], i["outstanding"]) for i in one["items"]] == [(f"HQ/{region}/{s2}", 12)]
    outside = await w.call("GET", LIABILITY, manager, params={"org_unit": w.store})
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "org_unit", outside.text
    assert (await w.call("GET", LIABILITY, w.clerk)).status_code == 403

    xlsx = await w.call("GET", f"{LIABILITY}.xlsx", manager, params={"group_by": "region"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", xlsx.text[:200]
    top_ups = await w.call("GET", "/api/v1/reports/top-ups.xlsx", manager)
    assert top_ups.status_code == 200 and top_ups.content[:2] == b"PK", top_ups.text[:200]
    audit = await w.call("GET", "/api/v1/audit-log", w.admin, params={"action": "report.", "limit": 500})
    assert audit.status_code == 200, audit.text
    mine = {e["action"] for e in audit.json()["items"] if e["org_path"] == f"HQ/{region}"}
    assert mine == {"report.points_liability.export", "report.top_ups.export"}
