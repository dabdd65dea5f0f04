"""GET /api/v1/reports/daily-summary(.xlsx): the three services' figures merged per store,
rolled up per region and in total, scoped to the caller or an org unit inside its scope."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from services.gateway.daily_summary import COLUMNS
from tests.checkout.conftest import CheckoutWorld
from tests.checkout.test_daily_summary import a_day, local_today, pay, top_up

pytestmark = pytest.mark.integration

URL = "/api/v1/reports/daily-summary"


async def get(w: CheckoutWorld, token: str, **params: str) -> dict:
    r = await w.call("GET", URL, token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def problem(w: CheckoutWorld, token: str, status: int, **params: str) -> dict:
    r = await w.call("GET", URL, token, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.json()


async def test_daily_summary_merges_the_services_per_store_region_and_total(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    d = await a_day(w)
    other = await a_day(w)
    m = await w.register(d.clerk1)
    await top_up(w, d.clerk1, m["card"]["card_no"], 10_000)
    sale = await pay(w, d.clerk2, {"lines": [{"sku": await w.product(2_500), "qty": 2}]})
    await w.register(other.clerk1)  # another region: in nobody's report here but HQ's

    body = await get(w, d.manager)
    assert (body["date"], body["org_unit"], body["timezone"]) == (
        local_today(w).isoformat(),
        d.path,
        "Asia/Shanghai",
    )
    stores = {s["path"]: s for s in body["stores"]}
    assert list(stores) == sorted([d.p1, d.p2])  # every store of the scope, by path, the quiet ones too
    assert stores[d.p1]["name"] == d.s1
    s1, s2 = stores[d.p1]["figures"], stores[d.p2]["figures"]
    assert s1["members"] == {"new_members": 1}
    assert s1["wallet"] == {"top_up_count": 1, "top_up_amount": 10_000, "top_up_bonus": 0,
                            "payment_count": 0, "payment_amount": 0, "refund_amount": 0}  # fmt: skip
    assert s1["loyalty"]["sales_count"] == 0
    assert s2["wallet"] == dict.fromkeys(s2["wallet"], 0) and len(s2["wallet"]) == 6
    assert (s2["loyalty"]["sales_count"], s2["loyalty"]["sales_amount"]) == (1, sale["total_due"])
    assert s2["members"] == {"new_members": 0}
    assert body["regions"] == [{"path": d.path, "name": d.region, "figures": body["totals"]}]
    assert body["totals"]["members"]["new_members"] == 1
    assert body["totals"]["wallet"]["top_up_amount"] == 10_000
    assert body["totals"]["loyalty"]["sales_amount"] == sale["total_due"]

    # a store manager: its store only, rolled up into its region
    mine = await get(w, d.sm2)
    assert [s["path"] for s in mine["stores"]] == [d.p2] and mine["org_unit"] == d.p2
    assert mine["regions"] == [{"path": d.path, "name": d.region, "figures": mine["totals"]}]
    assert mine["totals"] == s2
    # an org unit inside the scope, by code or by path
    assert [s["path"] for s in (await get(w, d.manager, org_unit=d.s1))["stores"]] == [d.p1]
    assert [s["path"] for s in (await get(w, d.manager, org_unit=d.p1))["stores"]] == [d.p1]
    by_hq = await get(w, w.admin, org_unit=d.region)
    assert by_hq["stores"] == body["stores"] and by_hq["totals"] == body["totals"]
    # HQ sees both regions
    chain = await get(w, w.admin)
    regions = {r["path"]: r["figures"] for r in chain["regions"]}
    assert regions[d.path] == body["totals"] and regions[other.path]["members"] == {"new_members": 1}
    assert chain["totals"]["members"]["new_members"] >= 2
    # another day: the same stores, all zeros
    before = await get(w, d.manager, date=(local_today(w) - timedelta(days=1)).isoformat())
    assert [s["path"] for s in before["stores"]] == sorted([d.p1, d.p2])
    assert all(v == 0 for figures in before["totals"].values() for v in figures.values())


async def test_daily_summary_refuses_what_it_must(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    d = await a_day(w)
    other = await a_day(w)
    # out of scope or unknown: the same 422 as every report filter (nothing revealed)
    for unit in (other.s1, other.region, "HQ", other.p1, "NO-SUCH-UNIT"):
        body = await problem(w, d.manager, 422, org_unit=unit)
        assert body["code"] == "invalid_argument" and body["errors"][0]["field"] == "org_unit", unit
    assert (await problem(w, d.sm2, 422, org_unit=d.s1))["detail"] == f"unknown org unit {d.s1!r}"
    # bad dates
    for bad in ("2026-13-01", "2026-02-30", "23.11.2026", "today", "1999-12-31", "2026-11-230"):
        assert (await problem(w, d.manager, 422, date=bad))["code"] == "invalid_argument", bad
    # counter roles and distributors read no reports
    for token in (d.clerk1, await w.terminal(d.s1), await w.staff("distributor", d.region, "A")):
        assert (await problem(w, token, 403))["code"] == "forbidden"
        r = await w.call("GET", f"{URL}.xlsx", token)
        assert r.status_code == 403, r.text
    auditor = await w.staff("auditor", d.region)
    assert (await get(w, auditor))["org_unit"] == d.path
    # nothing was audited for the refused exports
    log = await w.call("GET", "/api/v1/audit-log", w.admin, params={"action": "report.daily_summary.export"})
    assert all(e["org_path"] not in (d.path, d.p1) for e in log.json()["items"]), log.text


async def test_daily_summary_xlsx_is_streamed_and_audited(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    d = await a_day(w)
    m = await w.register(d.clerk1)
    await top_up(w, d.clerk1, m["card"]["card_no"], 6_000)
    x = await w.call("GET", f"{URL}.xlsx", d.manager)
    assert x.status_code == 200, x.text
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"daily-summary-{local_today(w).isoformat()}.xlsx" in x.headers["content-disposition"]
    rows = list(
        load_workbook(io.BytesIO(x.content), read_only=True)["daily summary"].iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("daily summary", d.path, local_today(w).isoformat())
    assert rows[1] == ("level", "path", "name", *COLUMNS)
    col = {name: i for i, name in enumerate(rows[1])}
    stores = [("store", p) for p in sorted([d.p1, d.p2])]
    assert [r[:2] for r in rows[2:]] == [("total", d.path), ("region", d.path), *stores]
    by_path = {r[1]: r for r in rows[4:]}
    assert (
        by_path[d.p1][col["members.new_members"]] == 1 and by_path[d.p1][col["wallet.top_up_amount"]] == 6_000
    )
    assert by_path[d.p2][col["wallet.top_up_amount"]] == 0 and by_path[d.p1][2] == d.s1
    assert rows[2][col["wallet.top_up_amount"]] == 6_000 and rows[3][col["members.new_members"]] == 1
    bad = await w.call("GET", f"{URL}.xlsx", d.manager, params={"date": "2026-02-30"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    log = await w.call("GET", "/api/v1/audit-log", w.admin, params={"action": "report.daily_summary.export"})
    mine = [e for e in log.json()["items"] if e["org_path"] == d.path]
    assert len(mine) == 1, log.text
