"""The console's reports (报表) and risk (风险) in a real Chromium: a top-up of the test shows in
the top-ups report, whose chart is drawn and whose table equals the REST figures (and its XLSX);
the points liability equals REST; an alert lists the exact transaction behind it, linked to the
card, and its acknowledgement note is still there after a reload; HQ edits (inline validation),
deactivates and fails to delete a risk rule an alert names."""

from __future__ import annotations

import io
import json
import re
import time
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    region, store = admin.region_and_store()
    return {"region": region, "store": store, "manager": admin.store_manager(store["code"]),
            "clerk": admin.clerk(store["code"])}  # fmt: skip


def as_user(admin: Admin, user: User) -> Admin:
    """A REST client logged in as ``user`` (use it in a ``with``)."""
    return Admin(admin.http.base_url, user.username, user.password)


def rest(client: Admin, path: str, **params: str) -> dict:
    r = client.call("GET", path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def top_up(admin: Admin, clerk: User, card: str, amount: int) -> dict:
    """A top-up taken by the store's clerk (so it happens at the store)."""
    with as_user(admin, clerk) as at_store:
        r = at_store.call("POST", f"/api/v1/cards/{card}/top-ups", json={"amount": amount, "channel": "cash"},
                          headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def cells(page: Page, table: str, path: str) -> list[str]:
    """The data-* figures of a report table's row (fen or counts, as the page rendered them)."""
    row = page.locator(f'{table} tr[data-path="{path}"]')
    expect(row).to_have_count(1)
    return row.locator("td.num").evaluate_all("tds => tds.map(td => td.dataset.fen ?? td.dataset.count)")


def test_top_ups_and_points_liability_reports_equal_rest_with_charts(page: Page, shop: dict, admin: Admin):
    errors = page_errors(page)
    store = shop["store"]
    r = admin.call("POST", "/api/v1/wallet/bonus-rules", json={
        "name": f"积分赠送-{uuid.uuid4().hex[:4]}", "min_amount": 100, "bonus_points": 88, "scope": store["code"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    member = admin.member(store["code"])
    top_up(admin, shop["clerk"], member["card"]["card_no"], 12_345)
    with as_user(admin, shop["manager"]) as manager:
        top_ups = rest(manager, "/api/v1/reports/top-ups")
        [mine] = [s for s in top_ups["stores"] if s["store_path"] == store["path"]]
        assert (mine["count"], mine["principal"]) == (1, 12_345), top_ups
        # the bonus points reach loyalty through the top-up's event: wait for them
        deadline = time.monotonic() + 30
        while True:
            liability = rest(manager, "/api/v1/reports/points-liability")
            held = [i for i in liability["items"] if i["key"] == store["path"]]
            if held or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert held and held[0]["outstanding"] == 88, liability

    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console")
    page.locator(".topnav").get_by_role("link", name="报表", exact=True).click()
    expect(page.get_by_role("heading", name="充值", exact=True)).to_be_visible()
    assert cells(page, "#top-ups-stores", store["path"]) == [
        str(mine[k]) for k in ("count", "principal", "bonus")
    ]
    assert page.locator("#top-ups-stores tbody tr").count() == len(top_ups["stores"]) == 1
    days = page.locator("#top-ups-days tbody tr[data-day]").evaluate_all(
        "rows => rows.map(r => r.dataset.day)"
    )
    assert days == [d["day"] for d in top_ups["days"]]
    item = held[0]
    keys = ("members", "outstanding", "expiring_30_days", "expiring_90_days")
    assert cells(page, "#liability", store["path"]) == [str(item[k]) for k in keys]
    chart = json.loads(page.locator("#report-data").text_content() or "{}")
    assert sum(chart["top_ups"]["series"][0]["values"]) == top_ups["totals"]["principal"]
    assert chart["liability"]["series"][0]["values"] == [i["outstanding"] for i in liability["items"]]
    for key in ("top_ups", "liability"):  # each chart drawn by ECharts from the JSON block
        expect(page.locator(f'.chart[data-chart-key="{key}"][data-chart-drawn="true"] svg')).to_have_count(1)
    settled(page)
    shot(page, "console-reports-money-zh")
    page.locator("#h-top-ups").scroll_into_view_if_needed()
    shot(page, "console-reports-top-ups-zh")

    with page.expect_download() as download:
        page.get_by_test_id("top-ups-xlsx").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [r[:4] for r in book["by store"].iter_rows(values_only=True) if r[0] == store["path"]] == [
        (store["path"], 1, 12_345, 0)
    ]
    with page.expect_download() as download:
        page.get_by_test_id("liability-xlsx").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [r[:3] for r in book.active.iter_rows(values_only=True) if r[0] == store["path"]] == [
        (store["path"], 1, 88)
    ]
    assert member["card"]["card_no"]
    assert [e for e in errors if "Failed to load resource" not in e] == []


def test_an_alert_shows_its_transaction_and_keeps_its_note_and_hq_changes_the_rule(
    page: Page, shop: dict, admin: Admin
):
    errors = page_errors(page)
    region = shop["region"]
    name = f"区域大额-{uuid.uuid4().hex[:4]}"
    r = admin.call("POST", "/api/v1/risk/rules", json={
        "name": name, "kind": "single_amount", "threshold": 100, "action": "alert", "applies_to": "topup",
        "scope": region["path"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    rule = r.json()
    member = admin.member(shop["store"]["code"])
    card = member["card"]["card_no"]
    made = top_up(admin, shop["clerk"], card, 5_000)
    assert made["alerts"] == [name], made
    transaction_id = made["transaction_id"]

    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console/risk")
    group = page.locator("tbody.alert-group", has_text=card)
    expect(group).to_contain_text(name)
    group.get_by_role("button", name=re.compile("^查看卡 .* 的交易$")).click()
    raised = group.locator("tr.raised")
    expect(raised).to_have_attribute("data-transaction", transaction_id)
    expect(raised).to_contain_text("触发预警")
    expect(group.locator("tr[data-transaction]")).to_have_count(1)
    settled(page)
    shot(page, "console-risk-transactions-zh")

    note = f"已电话核实-{uuid.uuid4().hex[:4]}"
    group.get_by_label("备注").fill(note)
    group.get_by_role("button", name="确认处理").click()
    expect(page.get_by_role("status").filter(has_text="已确认处理")).to_be_visible()
    settled(page)
    page.goto("/console/risk?show=acknowledged")
    page.reload()
    done = page.locator("tbody.alert-group", has_text=card)
    expect(done.locator(".ack-note")).to_have_text(note)
    expect(done).to_contain_text(shop["manager"].username)
    shot(page, "console-risk-acknowledged-zh")
    group = done
    group.get_by_role("link", name=card).click()
    expect(page).to_have_url(re.compile(f"/console/cards/{card}$"))

    # HQ: the rule on the rules page's risk tab — edit with inline validation, deactivate, no delete
    page.context.clear_cookies()
    log_in(page, ADMIN)
    page.goto("/console/rules?tab=risk")
    row = page.locator(f'#risk-list tr[data-rule="{rule["id"]}"]')
    expect(row).to_contain_text(region["path"])
    row.get_by_role("link", name="编辑").click()
    form = page.locator("#risk-form")
    expect(form.locator("#f-risk-name")).to_have_value(name)
    expect(form.locator("#f-risk-scope")).to_have_value(region["path"])
    form.locator("#f-risk-threshold").fill("0")
    form.get_by_role("button", name="保存风险规则").click()
    expect(page.locator("#f-risk-threshold-error")).to_be_visible()
    settled(page)
    shot(page, "console-risk-rule-edit-zh")
    page.locator("#f-risk-threshold").fill("20")
    page.locator("#risk-form").get_by_role("button", name="保存风险规则").click()
    expect(page.get_by_role("status").filter(has_text=name)).to_be_visible()
    settled(page)
    saved = [x for x in admin.call("GET", "/api/v1/risk/rules").json()["items"] if x["id"] == rule["id"]]
    assert saved[0]["threshold"] == 2_000 and saved[0]["scope"] == region["path"], saved

    row = page.locator(f'#risk-list tr[data-rule="{rule["id"]}"]')
    page.once("dialog", lambda d: d.accept())
    row.get_by_test_id("delete-risk-rule").click()
    expect(page.get_by_test_id("rule-problem")).to_contain_text("停用")
    settled(page)
    row = page.locator(f'#risk-list tr[data-rule="{rule["id"]}"]')
    page.once("dialog", lambda d: d.accept())
    row.get_by_test_id("deactivate-risk-rule").click()
    expect(page.get_by_role("status").filter(has_text="已停用")).to_be_visible()
    settled(page)
    expect(
        page.locator(f'#risk-list tr[data-rule="{rule["id"]}"]').get_by_test_id("activate-risk-rule")
    ).to_be_visible()
    shot(page, "console-risk-rules-zh")
    saved = [x for x in admin.call("GET", "/api/v1/risk/rules").json()["items"] if x["id"] == rule["id"]]
    assert saved[0]["active"] is False
    assert [e for e in errors if "Failed to load resource" not in e] == []


@pytest.mark.parametrize(
    "path", ["/console/reports", "/console/risk?show=acknowledged", "/console/rules?tab=risk"]
)
def test_in_english(new_context, path: str):  # type: ignore[no-untyped-def]
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    page.goto(path)
    heading = {"/console/reports": "Top-ups", "/console/risk?show=acknowledged": "Risk alerts",
               "/console/rules?tab=risk": "Risk rules of stored value"}  # fmt: skip
    expect(page.get_by_role("heading", name=heading[path], exact=True)).to_be_visible()
    if path == "/console/reports":
        expect(page.get_by_role("heading", name="Points liability", exact=True)).to_be_visible()
        drawn = page.locator("[data-chart]")
        expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(drawn.count())
    settled(page)
    shot(page, "console-" + re.sub(r"\W+", "-", path.strip("/")) + "-en")
