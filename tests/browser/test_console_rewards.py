"""The console's rewards screen (积分商城) in a real Chromium: an HQ admin adds a reward (a bad
price is refused next to its field and nothing is added), edits and restocks it, is refused
taking out more than is left, deactivates it after a confirmation, and sets the referral rule
(推荐有礼) with its preview sentence; a tier gets birthday points and a birthday coupon on the
rules page; a store manager reads the catalog without forms; the screen in English."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


def tag() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def coupon(admin: Admin) -> dict:
    r = admin.call("POST", "/api/v1/loyalty/coupon-templates",
                   json={"name": f"新人礼-{tag()}", "kind": "amount_off", "amount_off": 1000, "valid_days": 30})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def referral_rule_restored(admin: Admin) -> Iterator[None]:
    """The referral rule is the chain's: put back what it was after the test."""
    before = admin.call("GET", "/api/v1/loyalty/referral-rule").json()
    yield
    keep = ("active", "referrer_points", "referrer_coupon_template_id", "referee_coupon_template_id")
    r = admin.call("PUT", "/api/v1/loyalty/referral-rule", json={k: before[k] for k in keep})
    assert r.status_code == 200, r.text


def reward(admin: Admin, name: str) -> dict | None:
    items = admin.call("GET", "/api/v1/loyalty/rewards").json()["items"]
    return next((x for x in items if x["name"] == name), None)


def to_rewards(page: Page, user: User) -> None:
    log_in(page, user)
    expect(page).to_have_url(re.compile(r"/(console|counter)(/\w+)?$"))
    page.goto("/console/rewards")
    expect(page.get_by_role("heading", name=re.compile("^(积分商城|Rewards catalog)$"))).to_be_visible()


def test_hq_keeps_the_catalog(page: Page, admin: Admin):
    errors = page_errors(page)
    log_in(page, ADMIN)
    page.locator(".topnav").get_by_role("link", name="积分商城", exact=True).click()
    expect(page.get_by_role("heading", name="积分商城", exact=True)).to_be_visible()
    settled(page)

    # A bad price: refused next to its field, nothing added.
    name = f"保温杯-{tag()}"
    form = page.locator("#reward-form")
    form.get_by_label(re.compile("^礼品")).fill(name)
    form.get_by_label(re.compile("^所需积分")).fill("三百")
    form.get_by_label(re.compile("^库存")).fill("5")
    form.get_by_role("button", name="添加礼品").click()
    expect(page.locator("#f-reward-points_cost-error")).to_contain_text("整数")
    settled(page)
    assert reward(admin, name) is None
    page.locator("#f-reward-points_cost").fill("300")
    page.locator("#reward-form").get_by_role("button", name="添加礼品").click()
    expect(page.get_by_role("status").filter(has_text=f"已添加礼品 {name}")).to_be_visible()
    settled(page)
    row = page.get_by_test_id("reward-row").filter(has_text=name)
    expect(row).to_contain_text("300")
    expect(row).to_contain_text("上架中")
    made = reward(admin, name)
    assert made is not None and (made["points_cost"], made["stock"], made["active"]) == (300, 5, True)

    # Edit: a new price and ten more in stock.
    row.get_by_role("link", name=f"编辑或补货 {name}").click()
    expect(page.get_by_role("heading", name=f"编辑 {name}")).to_be_visible()
    form = page.locator("#reward-form")
    form.get_by_label(re.compile("^所需积分")).fill("350")
    form.get_by_label(re.compile("^库存调整")).fill("10")
    form.get_by_role("button", name="保存礼品").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存礼品 {name}：库存 15")).to_be_visible()
    settled(page)
    made = reward(admin, name)
    assert made is not None and (made["points_cost"], made["stock"]) == (350, 15)
    shot(page, "console-rewards-zh")

    # Taking out more than is left is refused next to the field; the stock stays.
    page.get_by_test_id("reward-row").filter(has_text=name).get_by_role(
        "link", name=f"编辑或补货 {name}"
    ).click()
    page.locator("#f-reward-stock_delta").fill("-100")
    page.locator("#reward-form").get_by_role("button", name="保存礼品").click()
    expect(page.locator("#f-reward-stock_delta-error")).to_contain_text("库存不足")
    settled(page)
    assert reward(admin, name)["stock"] == 15  # type: ignore[index]

    # Deactivate, after the confirmation says what happens.
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.get_by_test_id("reward-row").filter(has_text=name).get_by_role("button", name="下架").click()
    expect(page.get_by_role("status").filter(has_text=f"{name} 已下架")).to_be_visible()
    settled(page)
    assert asked and "重新上架前会员无法兑换" in asked[0]
    expect(page.get_by_test_id("reward-row").filter(has_text=name)).to_contain_text("已下架")
    assert reward(admin, name)["active"] is False  # type: ignore[index]
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


def test_hq_sets_the_referral_rule_with_its_preview(
    page: Page, admin: Admin, coupon: dict, referral_rule_restored: None
):
    to_rewards(page, ADMIN)
    settled(page)
    form = page.locator("#referral-form")
    # Active but giving nothing: refused next to the points.
    form.get_by_label("启用").check()
    form.get_by_label(re.compile("^推荐人得积分")).fill("")
    form.get_by_label("推荐人得优惠券").select_option("")
    form.get_by_label("新会员得优惠券").select_option("")
    settled(page)
    form.get_by_role("button", name="保存推荐有礼规则").click()
    expect(page.locator("#f-referral-referrer_points-error")).to_contain_text("须赠送积分或优惠券")
    settled(page)

    form = page.locator("#referral-form")
    form.get_by_label(re.compile("^推荐人得积分")).fill("100")
    form.get_by_label("新会员得优惠券").select_option(label=coupon["name"])
    preview = page.get_by_test_id("referral-preview")
    expect(preview).to_contain_text("推荐一位新会员：推荐人得 100 积分")
    expect(preview).to_contain_text(f"新会员得一张「{coupon['name']}」券")
    settled(page)
    shot(page, "console-rewards-referral-zh")
    form.get_by_role("button", name="保存推荐有礼规则").click()
    expect(page.get_by_role("status").filter(has_text="已保存推荐有礼规则")).to_be_visible()
    settled(page)
    rule = admin.call("GET", "/api/v1/loyalty/referral-rule").json()
    assert (rule["active"], rule["referrer_points"], rule["referee_coupon_template_id"]) == (
        True,
        100,
        coupon["id"],
    )
    expect(page.get_by_test_id("referral-preview")).to_contain_text("推荐人得 100 积分")


def test_a_tier_gets_birthday_points_and_a_coupon(page: Page, admin: Admin, coupon: dict):
    log_in(page, ADMIN)
    page.goto("/console/rules?tab=tiers")
    code = f"B{tag().upper()}"
    form = page.locator("#tier-form")
    form.get_by_label(re.compile("^代码")).fill(code)
    form.get_by_label(re.compile("^等级名称")).fill(f"生日档{code}")
    form.get_by_label(re.compile("^级别")).fill(str(40 + uuid.uuid4().int % 50))
    form.get_by_label(re.compile("^生日积分")).fill("88")
    form.get_by_label(re.compile("^生日优惠券")).select_option(label=coupon["name"])
    expect(form.get_by_test_id("preview")).to_contain_text("每年生日当天得 88 积分")
    settled(page)
    shot(page, "console-rules-tier-birthday-zh")
    form.get_by_role("button", name="保存等级").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存等级 生日档{code}")).to_be_visible()
    settled(page)
    expect(page.locator("#tiers-list tr", has_text=code).get_by_test_id("tier-birthday")).to_contain_text(
        f"88 积分 + {coupon['name']}"
    )
    tiers = {t["code"]: t for t in admin.call("GET", "/api/v1/loyalty/tiers").json()["items"]}
    assert (tiers[code]["birthday_points"], tiers[code]["birthday_gift_template_id"]) == (88, coupon["id"])
    assert admin.call("DELETE", f"/api/v1/loyalty/tiers/{code}").status_code == 204


def test_a_store_manager_reads_the_catalog(page: Page, admin: Admin):
    name = f"帆布袋-{tag()}"
    r = admin.call("POST", "/api/v1/loyalty/rewards", json={"name": name, "points_cost": 120, "stock": 3})
    assert r.status_code == 201, r.text
    _, store = admin.region_and_store()
    to_rewards(page, admin.store_manager(store["code"]))
    expect(page.get_by_test_id("reward-row").filter(has_text=name)).to_contain_text("120")
    expect(page.locator("#reward-form")).to_have_count(0)
    expect(page.locator("#referral-form")).to_have_count(0)
    expect(page.get_by_test_id("delete-reward")).to_have_count(0)


def test_in_english(new_context, admin: Admin, coupon: dict):  # type: ignore[no-untyped-def]
    name = f"Tote-{tag()}"
    assert (
        admin.call(
            "POST", "/api/v1/loyalty/rewards", json={"name": name, "points_cost": 90, "stock": 0}
        ).status_code
        == 201
    )
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    to_rewards(page, ADMIN)
    row = page.get_by_test_id("reward-row").filter(has_text=name)
    expect(row).to_contain_text("Sold out")
    expect(page.get_by_role("heading", name="Referral reward")).to_be_visible()
    form = page.locator("#referral-form")
    form.get_by_label("Active").check()
    form.get_by_label(re.compile("^Points for the referrer")).fill("50")
    form.get_by_label("Coupon for the referrer").select_option(label=coupon["name"])
    expect(page.get_by_test_id("referral-preview")).to_contain_text(
        f"Refer a new member: the referrer gets 50 points and a coupon “{coupon['name']}”."
    )
    settled(page)
    shot(page, "console-rewards-en")
