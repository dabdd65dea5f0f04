"""The console's members screens in a real Chromium, through the pages only: a region manager
finds, reads, edits, erases, imports and exports the members of its region (and never another
region's), with screenshots of each screen in Chinese and English."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, page_errors, shot
from tests.browser.pages import log_in, settled


@pytest.fixture(scope="module")
def chain(admin: Admin) -> dict:
    """Two regions with a store each; a manager of the first; a member of each store, the first
    topped up (with bonus points by a rule) and holding a coupon."""
    region, store = admin.region_and_store()
    _, other_store = admin.region_and_store()
    r = admin.call("POST", "/api/v1/wallet/bonus-rules", json={
        "name": "充300送100分", "min_amount": 30000, "bonus_amount": 0, "bonus_points": 100, "scope": store["code"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    ours = admin.member(store["code"])
    clerk = admin.clerk(store["code"])  # a top-up at the store, where the rule applies
    r = admin.call("POST", f"/api/v1/cards/{ours['card']['card_no']}/top-ups", json={"amount": 30000, "channel": "cash"},
                   headers={"Idempotency-Key": uuid.uuid4().hex,
                            "Authorization": f"Bearer {admin.login(clerk.username, clerk.password)}"})  # fmt: skip
    assert r.status_code == 201, r.text
    theirs = admin.member(other_store["code"], name="赵外区")
    coupon = f"满100减10-{uuid.uuid4().hex[:4]}"
    r = admin.call("POST", "/api/v1/loyalty/coupon-templates", json={
        "name": coupon, "kind": "amount_off", "amount_off": 1000, "min_spend": 10000, "valid_days": 30,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = admin.call("POST", f"/api/v1/loyalty/coupon-templates/{r.json()['id']}/issue",
                   json={"member_nos": [ours["member_no"]]}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    for _ in range(60):  # the top-up's bonus points reach loyalty by event
        if admin.call("GET", f"/api/v1/members/{ours['member_no']}/points").json().get("balance") == 100:
            break
        time.sleep(0.5)
    return {
        "region": region,
        "store": store,
        "manager": admin.user("region_manager", region["code"]),
        "ours": ours,
        "theirs": theirs,
        "coupon": coupon,
    }


def phone_of(admin: Admin, member_no: str) -> str:
    """The member's phone as HQ sees it (unmasked) over REST."""
    r = admin.call("GET", f"/api/v1/members/{member_no}")
    assert r.status_code == 200, r.text
    return r.json()["phone"]


def enter(page: Page, user) -> None:  # type: ignore[no-untyped-def]
    """Log in as a console user and wait for the console."""
    log_in(page, user)
    expect(page).to_have_url(re.compile(r"/console(/[a-z]+)?$"))


def search(page: Page, **fields: str) -> None:
    form = page.locator("#member-search")
    for name, value in fields.items():
        form.locator(f'[name="{name}"]').fill(value)
    form.get_by_role("button", name=re.compile("^(搜索|Search)$")).click()
    settled(page)


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("table", name=re.compile("查到的会员|Members found")).locator(
        "tbody tr[data-member]"
    )


def test_region_manager_finds_and_exports_its_region_only(page: Page, chain: dict, admin: Admin):
    errors = page_errors(page)
    ours, theirs = chain["ours"]["member_no"], chain["theirs"]["member_no"]
    enter(page, chain["manager"])
    page.get_by_role("link", name="会员", exact=True).click()
    expect(page).to_have_url(re.compile("/console/members$"))
    expect(page.locator(f'tr[data-member="{ours}"]')).to_be_visible()
    expect(page.locator(f'tr[data-member="{theirs}"]')).to_have_count(0)
    shot(page, "console-members-list-zh")

    # The phone is posted, never put in the address.
    search(page, phone=phone_of(admin, ours))
    expect(rows(page)).to_have_count(1)
    expect(page.locator(f'tr[data-member="{ours}"]')).to_be_visible()
    assert "phone" not in page.url and "139" not in page.url
    shot(page, "console-members-search-zh")
    search(page, phone=phone_of(admin, theirs))
    expect(rows(page)).to_have_count(0)
    expect(page.get_by_text("没有符合条件的会员。")).to_be_visible()
    search(page, phone="", q=theirs)
    expect(rows(page)).to_have_count(0)

    # The export of the whole list holds our member and not the other region's.
    search(page, q="")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 XLSX").click()
    data = download.value.path().read_bytes()
    sheet = load_workbook(io.BytesIO(data), read_only=True)["members"]
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert ours in numbers
    assert theirs not in numbers
    assert errors == []


def test_another_regions_member_is_not_found(page: Page, chain: dict):
    enter(page, chain["manager"])
    response = page.goto(f"/console/members/{chain['theirs']['member_no']}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("赵外区")).to_have_count(0)


def test_the_record_shows_top_up_points_and_coupon(page: Page, chain: dict):
    errors = page_errors(page)
    no = chain["ours"]["member_no"]
    enter(page, chain["manager"])
    page.goto(f"/console/members/{no}")
    expect(page.get_by_role("heading", name="资料")).to_be_visible()
    shot(page, "console-members-detail-zh")

    page.locator("nav.tabs").get_by_role("link", name="消费", exact=True).click()
    topup = page.locator('tr[data-kind="topup"]')
    expect(topup).to_have_count(1)
    expect(topup).to_contain_text("¥300.00")
    shot(page, "console-members-consumption-zh")

    page.locator("nav.tabs").get_by_role("link", name="积分", exact=True).click()
    expect(page.get_by_test_id("points-balance")).to_have_text("100")
    expect(page.get_by_role("table", name="积分记录")).to_contain_text("100")
    shot(page, "console-members-points-zh")

    page.locator("nav.tabs").get_by_role("link", name="优惠券", exact=True).click()
    expect(page.get_by_role("table", name="优惠券")).to_contain_text(chain["coupon"])
    shot(page, "console-members-coupons-zh")

    page.locator("nav.tabs").get_by_role("link", name="回访", exact=True).click()
    page.get_by_role("textbox", name="结果").fill("满意")
    page.get_by_role("button", name="添加").click()
    expect(page.get_by_role("table", name="回访")).to_contain_text("满意")
    shot(page, "console-members-visits-zh")

    page.locator("nav.tabs").get_by_role("link", name="反馈", exact=True).click()
    page.get_by_label("内容").fill("希望周末延长营业时间")
    page.get_by_role("button", name="添加").click()
    expect(page.get_by_role("table", name="反馈")).to_contain_text("希望周末延长营业时间")
    shot(page, "console-members-feedback-zh")

    page.locator("nav.tabs").get_by_role("link", name="通知", exact=True).click()
    expect(page.get_by_role("table", name="已发通知")).to_be_visible()
    shot(page, "console-members-notifications-zh")
    assert errors == []


def test_edit_then_erase_a_member(page: Page, chain: dict, admin: Admin):
    member = admin.member(chain["store"]["code"], name="钱改名")
    no = member["member_no"]
    enter(page, chain["manager"])
    page.goto(f"/console/members/{no}")

    # A bad email comes back next to its field (422), the rest of the form kept.
    name = page.get_by_role("textbox", name="姓名")
    name.fill("钱新名")
    page.get_by_role("textbox", name=re.compile("^邮箱")).fill("not-an-email")
    with page.expect_response(re.compile(f"/console/members/{no}/edit$")) as answer:
        page.get_by_role("button", name="保存").click()
    assert answer.value.status == 422
    expect(page.locator("#f-edit-email-error")).to_have_text("请输入有效的电子邮箱，例如 name@example.com。")
    expect(name).to_have_value("钱新名")
    shot(page, "console-members-edit-error-zh")

    page.get_by_role("textbox", name=re.compile("^邮箱")).fill("qian@example.com")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("已保存。")
    expect(page.get_by_test_id("member-name")).to_have_text("钱新名")

    # Erasing asks first, saying what happens, then shows the member masked.
    page.get_by_role("link", name="删除个人资料…").click()
    expect(page.get_by_role("heading", name=re.compile("删除 钱新名"))).to_be_visible()
    expect(page.get_by_text("无法撤销")).to_be_visible()
    shot(page, "console-members-erase-zh")
    page.get_by_role("button", name="永久删除").click()
    expect(page.get_by_role("status")).to_have_text("该会员的个人资料已删除。")
    expect(page.get_by_text("已删除", exact=True)).to_be_visible()
    expect(page.get_by_test_id("member-name")).not_to_have_text("钱新名")
    expect(page.get_by_role("button", name="保存")).to_have_count(0)
    shot(page, "console-members-erased-zh")


def build_csv(store: str, bad: dict[int, tuple[str, str]], n: int = 1000) -> bytes:
    """``n`` member rows of ``store``; the rows in ``bad`` (file row -> (phone, birthday)) invalid."""
    base = uuid.uuid4().int % 10**4
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "phone", "birthday", "home_store", "tags"])
    for i in range(n):
        row = i + 2  # the header is row 1
        phone, birthday = bad.get(row, (f"+86137{base:04d}{i:04d}", "1990-01-15"))
        writer.writerow([f"导入{i}", phone, birthday, store, "import"])
    return out.getvalue().encode()


def test_import_a_thousand_rows_with_progress_and_error_report(page: Page, chain: dict):
    errors = page_errors(page)
    bad = {5: ("12345", "1990-01-15"), 77: ("", "1990-01-15"), 400: ("1234567", "1990-01-15"),
           650: ("+86137" + "9" * 8, "1990-13-45"), 1001: ("abc", "1990-01-15")}  # fmt: skip
    enter(page, chain["manager"])
    page.goto("/console/members")
    page.get_by_role("link", name="导入会员").click()
    shot(page, "console-members-import-zh")
    page.get_by_label("文件").set_input_files(
        {"name": "members.csv", "mimeType": "text/csv", "buffer": build_csv(chain["store"]["code"], bad)}
    )
    page.get_by_role("button", name="上传并导入").click()
    expect(page).to_have_url(re.compile(r"/console/members/import/[^/]+$"))
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "completed", timeout=120_000)
    expect(page.get_by_test_id("import-counts")).to_contain_text("1,000 / 1,000")
    expect(page.get_by_test_id("import-counts")).to_contain_text("失败 5")
    expect(page.locator("#import-bar")).to_have_attribute("value", "1000")
    shot(page, "console-members-import-done-zh")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误报告（CSV）").click()
    report = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert {int(r["row"]) for r in report} == set(bad)
    assert all(r["field"] and r["message"] for r in report)
    assert errors == []


def test_the_members_screens_in_english(new_context, chain: dict):
    page = new_context(locale="en-US").new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    enter(page, chain["manager"])
    page.get_by_role("link", name="Members", exact=True).click()
    expect(page.get_by_role("heading", name="Search members")).to_be_visible()
    shot(page, "console-members-list-en")
    no = chain["ours"]["member_no"]
    page.goto(f"/console/members/{no}")
    shot(page, "console-members-detail-en")
    for tab in ("Consumption", "Points", "Coupons", "Visits", "Feedback", "Notifications"):
        page.locator("nav.tabs").get_by_role("link", name=tab, exact=True).click()
        expect(page.get_by_role("heading", name=tab, exact=True)).to_be_visible()
        shot(page, f"console-members-{tab.lower()}-en")
    page.goto("/console/members/import")
    expect(page.get_by_role("heading", name="Import members")).to_be_visible()
    shot(page, "console-members-import-en")
