"""More of the console's members and segments in a real Chromium: the members search finds a
member upgraded by a purchase under the new tier (loyalty's, not the tier at registration); an
import with a bad phone, a bad date and a duplicate row says so in Chinese (and in English);
one over the import limits (a zip bomb) is refused next to its file;
the consumption tab lists the member's purchases after a checkout; follow-ups created for a
segment from the member analysis screen appear on the follow-ups page with their purpose.
Screenshots console-members-tier-*, console-members-import-codes-*, console-members-purchases-*,
console-segments-follow-ups-* and console-follow-ups-segment-* (zh and en)."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled
from tests.browser.test_console_segments import buy, chain_today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BIG = 90_000_000  # fen: one purchase of it reaches the test's tier and no other


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    """A fresh store with a manager and clerk, a tier above all others and two members: one
    bought a ``BIG`` gift box (upgraded), the other a tea bag."""
    region, store = admin.region_and_store()
    clerk = admin.clerk(store["code"])
    tiers = admin.call("GET", "/api/v1/loyalty/tiers").json()["items"]
    tier = {"code": "top" + uuid.uuid4().hex[:6], "name": "黑金" + uuid.uuid4().hex[:4]}
    r = admin.call("POST", "/api/v1/loyalty/tiers", json={
        **tier, "rank": max(t["rank"] for t in tiers) + 1, "min_spend_12m": BIG // 2,  # whatever a promotion takes off
    })  # fmt: skip
    assert r.status_code in (200, 201), r.text
    box = admin.product(name="黄金礼盒", retail_price=BIG)
    tea = admin.product(name="茶包", retail_price=800)
    rich = admin.member(store["code"], name="升级会员")
    plain = admin.member(store["code"], name="普通会员")
    receipt = buy(admin, clerk, rich["card"]["card_no"], box["sku"], 1)
    buy(admin, clerk, plain["card"]["card_no"], tea["sku"], 2)
    return {
        "region": region, "store": store, "clerk": clerk, "tier": tier, "rich": rich, "plain": plain,
        "receipt": receipt, "manager": admin.store_manager(store["code"]),
    }  # fmt: skip


def search_tier(page: Page, tier: dict) -> None:
    page.locator("#member-search").get_by_label(re.compile("^(等级|Tier)")).select_option(tier["code"])
    page.locator("#member-search").get_by_role("button", name=re.compile("^(搜索|Search)$")).click()
    settled(page)


def test_the_tier_search_finds_the_member_a_purchase_upgraded(page: Page, shop: dict, admin: Admin) -> None:
    errors = page_errors(page)
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console/members")
    search_tier(page, shop["tier"])
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(shop["rich"]["member_no"])
    expect(rows.first).to_contain_text(shop["tier"]["code"])
    assert shop["rich"]["tier"] == "standard"  # registered on the entry tier, upgraded since
    shot(page, "console-members-tier-zh")

    search_tier(page, {"code": "standard"})
    expect(page.locator("#results")).to_contain_text(shop["plain"]["member_no"])
    expect(page.locator("#results")).not_to_contain_text(shop["rich"]["member_no"])

    # Found by name, the list shows the tier as it is now too.
    page.locator("#member-search").get_by_label(re.compile("^(等级|Tier)")).select_option("")
    page.locator("#member-search").get_by_label("会员号、姓名或卡号").fill("升级会员")
    page.locator("#member-search").get_by_role("button", name="搜索").click()
    settled(page)
    row = page.locator("#results tbody tr").filter(has_text=shop["rich"]["member_no"])
    expect(row).to_contain_text(shop["tier"]["code"])
    # Found by the card number too.
    page.locator("#member-search").get_by_label("会员号、姓名或卡号").fill(shop["plain"]["card"]["card_no"])
    page.locator("#member-search").get_by_role("button", name="搜索").click()
    settled(page)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr").first).to_contain_text(shop["plain"]["member_no"])
    page.locator("#member-search").get_by_label("会员号、姓名或卡号").fill("")

    page.get_by_role("link", name="English").click()
    page.goto("/console/members")
    search_tier(page, shop["tier"])
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr").first).to_contain_text(shop["rich"]["member_no"])
    shot(page, "console-members-tier-en")
    page.get_by_role("link", name="中文").click()
    assert errors == [], errors


def bad_rows_csv(store: str) -> bytes:
    phone = f"+86136{uuid.uuid4().int % 10**8:08d}"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "手机", "生日", "门店"])
    writer.writerow(["好会员", phone, "1990-05-01", store])
    writer.writerow(["坏电话", "12345", "", store])
    writer.writerow(["坏日期", f"+86135{uuid.uuid4().int % 10**8:08d}", "2020-02-31", store])
    writer.writerow(["重复行", phone, "", store])
    return out.getvalue().encode()


def test_an_import_with_bad_rows_says_what_is_wrong_in_chinese(page: Page, shop: dict) -> None:
    errors = page_errors(page)
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console/members/import")
    page.get_by_label("文件").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad_rows_csv(shop["store"]["code"])}
    )
    page.get_by_role("button", name="上传并导入").click()
    expect(page).to_have_url(re.compile(r"/console/members/import/[^/]+$"))
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "completed", timeout=60_000)
    table = page.get_by_role("table", name="未导入的行")
    expect(table.locator("tr[data-code]")).to_have_count(3)
    expect(table.locator('tr[data-code="phone_invalid"]')).to_contain_text("手机号无效。")
    expect(table.locator('tr[data-code="birthday_invalid"]')).to_contain_text("生日不是有效日期")
    expect(table.locator('tr[data-code="phone_duplicate"]')).to_contain_text(
        "文件中前面的行已有相同的手机号。"
    )
    shot(page, "console-members-import-codes-zh")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误报告（CSV）").click()
    report = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["row"], r["code"]) for r in report] == [
        ("3", "phone_invalid"), ("4", "birthday_invalid"), ("5", "phone_duplicate"),
    ]  # fmt: skip
    assert report[0]["message"] == "手机号无效。"

    job_url = page.url
    page.get_by_role("link", name="English").click()
    page.goto(job_url)
    expect(page.locator('tr[data-code="phone_duplicate"]')).to_contain_text(
        "The same phone number is in an earlier row of the file."
    )
    expect(page.locator('tr[data-code="phone_invalid"]')).to_contain_text(
        "This is not a valid mobile phone number."
    )
    shot(page, "console-members-import-codes-en")
    page.get_by_role("link", name="中文").click()
    assert errors == [], errors


def zip_bomb() -> bytes:
    """An XLSX-looking zip whose one part unpacks to 60 MiB of one letter (about 60 KiB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open("xl/sharedStrings.xml", "w") as part:
        for _ in range(60):
            part.write(b"A" * (1 << 20))
    return out.getvalue()


def test_an_import_over_the_limits_is_refused_next_to_the_file(page: Page, shop: dict) -> None:
    errors = page_errors(page)
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console/members/import")
    page.get_by_label("文件").set_input_files({"name": "bomb.xlsx", "mimeType": XLSX, "buffer": zip_bomb()})
    page.get_by_role("button", name="上传并导入").click()
    expect(page.locator("#f-import-file-error")).to_contain_text("50 MiB (the import limit)")
    expect(page).to_have_url(re.compile(r"/console/members/import$"))
    assert all("413" in e for e in errors), errors  # the refused form's answer, nothing else


def test_the_consumption_tab_lists_the_purchases(page: Page, shop: dict) -> None:
    errors = page_errors(page)
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto(f"/console/members/{shop['rich']['member_no']}")
    page.locator("nav.tabs").get_by_role("link", name="消费", exact=True).click()
    bought = page.get_by_test_id("purchases")
    row = bought.locator(f'tr[data-checkout="{shop["receipt"]["checkout_id"]}"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "completed")
    expect(row).to_contain_text(shop["store"]["code"])
    expect(row).to_contain_text("900,000.00")
    expect(row).to_contain_text(f"{shop['receipt']['points_earned']:,}")
    expect(bought.locator("tbody tr")).to_have_count(1)
    shot(page, "console-members-purchases-zh")
    page.get_by_role("link", name="English").click()
    page.goto(f"/console/members/{shop['rich']['member_no']}?tab=consumption")
    expect(page.get_by_role("table", name="Purchases")).to_be_visible()
    expect(page.get_by_role("table", name="Purchases")).to_contain_text("none")
    shot(page, "console-members-purchases-en")
    page.get_by_role("link", name="中文").click()
    assert errors == [], errors


def test_follow_ups_created_for_a_segment_appear_on_the_follow_ups_page(
    page: Page, shop: dict, admin: Admin
) -> None:
    errors = page_errors(page)
    r = admin.call("POST", "/api/v1/analytics/segments/recompute")
    assert r.status_code == 200, r.text
    store = shop["store"]
    manager: User = admin.user("region_manager", shop["region"]["code"])
    log_in(page, manager, expect_path="/console/dashboard")
    page.goto(f"/console/segments?store={store['code']}")
    new = page.locator("#stages tr[data-segment='new']")
    expect(new.locator("td[data-count]")).to_have_attribute("data-count", "2")
    new.get_by_text("创建回访任务…").click()
    new.get_by_label("回访内容").fill("新客关怀：询问首次购物体验")
    due = new.get_by_label("到期日").input_value()
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    assert due > chain_today().isoformat()
    shot(page, "console-segments-follow-ups-zh")
    messages: list[str] = []

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        messages.append(dialog.message)
        dialog.accept()

    form = {
        "csrf": page.locator('meta[name="csrf-token"]').get_attribute("content"),
        "key": new.locator('input[name="key"]').input_value(),
        "segment": "new", "store": store["code"], "purpose": "新客关怀：询问首次购物体验", "due_on": due,
    }  # fmt: skip
    page.once("dialog", accept)
    new.get_by_role("button", name="为新客创建回访任务").click()
    expect(page.get_by_test_id("done")).to_contain_text("已为新客创建 2 条回访任务")
    assert "2 位会员" in messages[0], messages
    settled(page)

    page.get_by_test_id("done").get_by_role("link", name="查看回访任务").click()
    expect(page.get_by_role("heading", name="回访任务", exact=True)).to_be_visible()
    for m in (shop["rich"], shop["plain"]):
        task = page.locator(f'tbody[data-member="{m["member_no"]}"][data-stage="ask"]')
        expect(task).to_have_count(1)
        expect(task.get_by_test_id("fu-purpose")).to_have_text("新客关怀：询问首次购物体验")
        expect(task).to_contain_text("分群回访")
    shot(page, "console-follow-ups-segment-zh")

    # Sending the same form again (a retry, the same key) creates nothing twice.
    again = page.request.post("/console/segments/follow-ups", form=form)
    assert again.status == 201, again.text()
    assert "已为新客创建 0 条回访任务" in again.text() and "另有 2 条此前已创建" in again.text()
    listed = admin.call(
        "GET", "/api/v1/follow-ups", params={"store": store["code"], "due_before": "2100-01-01", "limit": 200}
    ).json()["items"]
    assert len([f for f in listed if f["stage"] == "ask"]) == 2

    assert errors == [], errors

    # English; a due date in the past is refused next to its field (a 422, nothing created).
    page.get_by_role("link", name="English").click()
    page.goto(f"/console/segments?store={store['code']}")
    new = page.locator("#stages tr[data-segment='new']")
    new.get_by_text("Create follow-ups…").click()
    new.get_by_label("What to call about").fill("")
    new.get_by_label("Due on").fill("2020-01-01")
    new.get_by_label("What to call about").fill("Ask about the first visit")
    page.once("dialog", lambda d: d.accept())
    new.get_by_role("button", name="Create follow-ups for New buyers").click()
    expect(new.locator("#f-follow-due-new-error")).to_have_text("The due date cannot be in the past.")
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    shot(page, "console-segments-follow-ups-en")
    page.goto(f"/console/follow-ups?due={due}&store={store['code']}")
    expect(page.locator('tbody[data-stage="ask"]').first).to_contain_text("For a segment")
    shot(page, "console-follow-ups-segment-en")
    page.get_by_role("link", name="中文").click()
    assert all("422" in e for e in errors), errors  # the refused form's answer, nothing else
