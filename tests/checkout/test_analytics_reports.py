"""Analytics (segments) and the sales report through the gateway, after real checkouts:
scoped to the caller, the XLSX parses and is audited."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


async def a_region(w: CheckoutWorld) -> dict:
    """A region of its own with one store, its clerk, its managers and an auditor."""
    region = await w.unit("region", "HQ")
    store = await w.unit("store", region)
    return {
        "region": region, "store": store, "path": f"HQ/{region}/{store}",
        "clerk": await w.staff("clerk", store), "manager": await w.staff("region_manager", region),
        "auditor": await w.staff("auditor", region),
    }  # fmt: skip


async def buy(w: CheckoutWorld, clerk: str, price: int, qty: int = 1, card_no: str | None = None) -> dict:
    sku = await w.product(price)
    body: dict = {"lines": [{"sku": sku, "qty": qty}]}
    if card_no:
        body["card_no"] = card_no
    q = await w.quote(body, clerk)
    r = await w.checkout({**body, "payments": [{"method": "cash", "amount": q["total_due"]}]}, token=clerk)
    assert r.status_code == 201, r.text
    return r.json()


async def test_sales_report_by_store_region_and_day(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    mine = await a_region(w)
    other = await a_region(w)
    first = await buy(w, mine["clerk"], 1_000, qty=2)
    second = await buy(w, mine["clerk"], 3_000)
    await buy(w, other["clerk"], 7_000)
    refund = await w.call(
        "POST", f"/api/v1/checkouts/{first['checkout_id']}/refund", mine["clerk"],
        json={"lines": [{"sku": first["lines"][0]["sku"], "qty": 1}]}, headers={"Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert refund.status_code == 201, refund.text
    refunded = sum(t["amount"] for t in refund.json()["tenders"])
    total = first["total_due"] + second["total_due"]

    r = await w.call("GET", "/api/v1/reports/sales", mine["manager"], params={"group_by": "store"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == f"HQ/{mine['region']}"
    assert [i["key"] for i in body["items"]] == [mine["path"]]
    row = body["items"][0]
    assert (row["checkouts"], row["total_due"], row["refunded"]) == (2, total, refunded)
    assert row["net"] == total - refunded and body["totals"]["net"] == total - refunded

    r = await w.call("GET", "/api/v1/reports/sales", w.admin, params={"group_by": "region"})
    keys = {i["key"]: i for i in r.json()["items"]}
    assert keys[f"HQ/{mine['region']}"]["net"] == total - refunded
    assert keys[f"HQ/{other['region']}"]["total_due"] == 7_000

    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    r = await w.call("GET", "/api/v1/reports/sales", mine["auditor"],
                     params={"group_by": "day", "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [(i["key"], i["checkouts"]) for i in r.json()["items"]] == [(today.isoformat(), 2)]
    r = await w.call("GET", "/api/v1/reports/sales", mine["manager"],
                     params={"group_by": "day", "from": "2020-01-01", "to": "2020-01-31"})  # fmt: skip
    assert r.json()["items"] == []

    # another region's manager sees nothing of them; a clerk may not read reports
    r = await w.call("GET", "/api/v1/reports/sales", other["manager"], params={"group_by": "store"})
    assert [i["key"] for i in r.json()["items"]] == [other["path"]]
    r = await w.call("GET", "/api/v1/reports/sales", other["manager"], params={"store": mine["store"]})
    assert r.status_code == 422
    assert (await w.call("GET", "/api/v1/reports/sales", mine["clerk"])).status_code == 403
    bad = await w.call("GET", "/api/v1/reports/sales", w.admin, params={"group_by": "week"})
    assert bad.status_code == 422
    bad = await w.call(
        "GET", "/api/v1/reports/sales", w.admin, params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert bad.status_code == 422

    x = await w.call("GET", "/api/v1/reports/sales.xlsx", mine["manager"], params={"group_by": "store"})
    assert x.status_code == 200, x.text
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(x.content), read_only=True)["sales"].iter_rows(values_only=True))
    assert rows[1] == ("key", "checkouts", "subtotal", "discounts", "total_due", "refunded", "net")
    assert rows[2][0] == mine["path"] and rows[2][-1] == total - refunded
    assert rows[-1][0] == "total"
    log = await w.call("GET", "/api/v1/audit-log", w.admin, params={"action": "report.sales.export"})
    assert any(e["org_path"] == f"HQ/{mine['region']}" for e in log.json()["items"]), log.text


async def test_segments_after_checkouts(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    mine = await a_region(w)
    other = await a_region(w)
    big, small = await w.register(mine["clerk"]), await w.register(mine["clerk"])
    for _ in range(2):
        await buy(w, mine["clerk"], 20_000, card_no=big["card"]["card_no"])
    await buy(w, mine["clerk"], 500, card_no=small["card"]["card_no"])

    assert (await w.call("POST", "/api/v1/analytics/segments/recompute", mine["manager"])).status_code == 403
    r = await w.call("POST", "/api/v1/analytics/segments/recompute", w.admin)
    assert r.status_code == 200, r.text
    assert r.json()["members"] >= 2

    r = await w.call("GET", "/api/v1/analytics/quadrants", mine["manager"], params={"store": mine["store"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == mine["path"]
    assert body["counts"] == {"ally": 1, "butterfly": 0, "barnacle": 0, "stranger": 1}
    quad = {i["member_no"]: i["quadrant"] for i in body["items"]}
    assert quad == {big["member_no"]: "ally", small["member_no"]: "stranger"}

    r = await w.call("GET", "/api/v1/analytics/rfm", mine["auditor"])
    assert r.status_code == 200, r.text
    rfm = r.json()
    assert rfm["members"] == 2 and rfm["items"][0]["member_no"] == big["member_no"]
    assert rfm["items"][0]["frequency"] == 2 and sum(rfm["distribution"]["r"].values()) == 2

    r = await w.call("GET", "/api/v1/analytics/lifecycle", mine["manager"])
    assert r.json()["counts"]["new"] == 2

    # member search and coupons by segment
    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"segment": "ally"})
    assert r.status_code == 200, r.text
    assert [m["member_no"] for m in r.json()["items"]] == [big["member_no"]]
    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"segment": "churned"})
    assert r.json()["items"] == []
    r = await w.call("GET", "/api/v1/members", mine["manager"], params={"segment": "vip"})
    assert r.status_code == 422

    # scope: another region sees none of them, and not this store
    r = await w.call("GET", "/api/v1/analytics/quadrants", other["manager"])
    assert r.status_code == 200 and r.json()["items"] == [] and sum(r.json()["counts"].values()) == 0
    r = await w.call("GET", "/api/v1/analytics/rfm", other["manager"], params={"store": mine["store"]})
    assert r.status_code == 422
    r = await w.call("GET", "/api/v1/members", other["manager"], params={"segment": "ally"})
    assert big["member_no"] not in [m["member_no"] for m in r.json()["items"]]
    assert (await w.call("GET", "/api/v1/analytics/rfm", mine["clerk"])).status_code == 403
