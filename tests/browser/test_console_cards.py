"""The console's card screens (卡务管理) in a real Chromium: an HQ admin defines a card type with a
replacement fee (REST lists it too) and a bad fee or discount is refused next to its field; a
region manager opens a card of its region (holders, status), freezes and unfreezes it and gets
the 404 page for another region's card; a store manager registers a terminal whose secret logs
in by the client-credentials grant."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


def card_types(admin: Admin) -> dict[str, dict]:
    r = admin.call("GET", "/api/v1/card-types")
    assert r.status_code == 200, r.text
    return {t["code"]: t for t in r.json()["items"]}


def script_errors(errors: list[str]) -> list[str]:
    """The page's errors but the browser's note on a refused form or a 404 page (a 4xx answer)."""
    return [e for e in errors if not re.search(r"status of 4\d\d", e)]


def to_cards(page: Page, user: User) -> None:
    log_in(page, user)
    expect(page).to_have_url(re.compile(r"/(console(/\w+)?|counter)$"))
    page.goto("/console/dashboard")
    page.locator(".topnav").get_by_role("link", name="卡务管理", exact=True).click()
    expect(page.get_by_role("heading", name="卡务管理", exact=True)).to_be_visible()


def test_hq_defines_a_card_type_and_a_bad_value_is_refused(page: Page, admin: Admin):
    errors = page_errors(page)
    to_cards(page, ADMIN)
    code = f"CT{uuid.uuid4().hex[:6].upper()}"
    form = page.locator("#card-type-form")
    form.get_by_label(re.compile("^代码")).fill(code)
    form.get_by_label(re.compile("^卡类型名称")).fill(f"家庭卡{code}")
    form.get_by_label(re.compile("^类型")).select_option("family")
    form.get_by_label(re.compile("^补卡费")).fill("15")
    form.get_by_label(re.compile("^年费")).fill("-5")
    form.get_by_label(re.compile("^卡折扣")).fill("120")
    form.get_by_label(re.compile("^最多持卡人")).fill("4")
    form.get_by_role("button", name="保存卡类型").click()
    expect(page.locator("#f-ct-annual_fee-error")).to_contain_text("不能为负")
    expect(page.locator("#f-ct-discount_bps-error")).to_contain_text("0 到 99.99")
    expect(page.locator("#f-ct-code")).to_have_value(code)  # what was typed stays
    assert code not in card_types(admin)
    settled(page)
    shot(page, "console-cards-refused-zh")

    form = page.locator("#card-type-form")
    form.get_by_label(re.compile("^年费")).fill("30")
    form.get_by_label(re.compile("^卡折扣")).fill("5")
    form.get_by_role("button", name="保存卡类型").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存卡类型 家庭卡{code}")).to_be_visible()
    settled(page)
    row = page.locator("#card-types-list tr", has_text=code)
    expect(row).to_contain_text("¥15.00")
    expect(row).to_contain_text("¥30.00")
    expect(row).to_contain_text("家庭卡")
    expect(row).to_contain_text("5%")
    made = card_types(admin)[code]
    assert made["replacement_fee"] == 1500 and made["annual_fee"] == 3000
    assert made["discount_bps"] == 500 and made["max_holders"] == 4 and made["kind"] == "family"

    # Redefining by code keeps what is not changed.
    row.get_by_role("link", name="重新定义").click()
    form = page.locator("#card-type-form")
    expect(form.get_by_label(re.compile("^补卡费"))).to_have_value("15")
    form.get_by_label(re.compile("^补卡费")).fill("20")
    form.get_by_role("button", name="保存卡类型").click()
    expect(page.get_by_role("status").filter(has_text="已保存卡类型")).to_be_visible()
    made = card_types(admin)[code]
    assert made["replacement_fee"] == 2000 and made["annual_fee"] == 3000
    settled(page)
    shot(page, "console-cards-zh")
    assert script_errors(errors) == []


def test_region_manager_serves_a_card_of_its_region(page: Page, admin: Admin):
    errors = page_errors(page)
    region, store = admin.region_and_store()
    _other_region, other_store = admin.region_and_store()
    member = admin.member(store["code"])
    card = member["card"]["card_no"]
    foreign = admin.member(other_store["code"])["card"]["card_no"]
    manager = admin.user("region_manager", region["code"])
    to_cards(page, manager)

    box = page.get_by_label(re.compile("^卡号"))
    box.fill(card)
    page.get_by_role("button", name="打开此卡").click()
    expect(page).to_have_url(re.compile(f"/console/cards/{card}$"))
    expect(page.get_by_test_id("card-status")).to_have_text("正常")
    expect(page.locator("#holders")).to_contain_text(member["member_no"])

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="冻结", exact=True).click()
    expect(page.get_by_test_id("card-status")).to_have_text("已冻结")
    assert admin.call("GET", f"/api/v1/cards/{card}").json()["status"] == "frozen"
    settled(page)
    shot(page, "console-card-zh")

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="解冻", exact=True).click()
    expect(page.get_by_test_id("card-status")).to_have_text("正常")
    assert admin.call("GET", f"/api/v1/cards/{card}").json()["status"] == "active"
    settled(page)

    # Another region's card: the same "not found" as a card that does not exist.
    r = page.goto(f"/console/cards/{foreign}")
    assert r is not None and r.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    page.goto("/console/card-types")
    page.get_by_label(re.compile("^卡号")).fill(foreign)
    page.get_by_role("button", name="打开此卡").click()
    expect(page.locator("#f-find-card_no-error")).to_contain_text("您的范围内没有卡")
    assert script_errors(errors) == []


def test_store_manager_registers_a_terminal(page: Page, admin: Admin):
    errors = page_errors(page)
    _region, store = admin.region_and_store()
    manager = admin.store_manager(store["code"])
    log_in(page, manager)
    page.goto("/console/card-types")
    expect(page.locator("#card-types-list")).to_contain_text("STANDARD")
    expect(page.locator("#card-type-form")).to_have_count(0)  # only HQ defines card types
    page.get_by_role("link", name="管理门店终端").click()
    expect(page.get_by_role("heading", name="门店终端", exact=True)).to_be_visible()
    expect(page.locator("#terminal-list")).to_contain_text("还没有终端")

    form = page.locator("#terminal-form")
    form.get_by_role("button", name="注册终端").click()
    expect(page.locator("#f-term-name-error")).to_be_visible()
    settled(page)
    form = page.locator("#terminal-form")
    form.get_by_label(re.compile("^终端名称")).fill("一号收银台")
    form.get_by_role("button", name="注册终端").click()
    expect(page.get_by_text("请立即复制密钥")).to_be_visible()
    client_id = page.get_by_test_id("client-id").inner_text()
    secret = page.get_by_test_id("client-secret").input_value()
    expect(page.locator("#terminal-list")).to_contain_text("一号收银台")
    settled(page)
    shot(page, "console-terminals-zh")

    token = admin.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert token.status_code == 200, token.text

    # Disabled, it can no longer log in; enabled again, it can.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="停用终端 一号收银台").click()
    expect(page.get_by_role("status").filter(has_text="已停用")).to_be_visible()
    expect(page.get_by_test_id("client-secret")).to_have_count(0)  # never shown again
    refused = admin.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert refused.status_code in (400, 401), refused.text
    settled(page)
    page.get_by_role("button", name="启用终端 一号收银台").click()
    expect(page.locator(f'tr[data-client-id="{client_id}"]')).to_contain_text("已启用")
    assert script_errors(errors) == []


def test_in_english(new_context, admin: Admin):  # type: ignore[no-untyped-def]
    _region, store = admin.region_and_store()
    card = admin.member(store["code"])["card"]["card_no"]
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    page.goto("/console/card-types")
    expect(page.get_by_role("heading", name="Card management", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Add or redefine a card type")).to_be_visible()
    shot(page, "console-cards-en")
    page.goto(f"/console/cards/{card}")
    expect(page.get_by_role("heading", name=re.compile(f"Card {card}"))).to_be_visible()
    shot(page, "console-card-en")
    page.goto("/console/terminals")
    expect(page.get_by_role("heading", name="Store terminals", exact=True)).to_be_visible()
    shot(page, "console-terminals-en")
