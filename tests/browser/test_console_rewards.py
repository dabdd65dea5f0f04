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
from tests.browser.pages import identify, log_in, settled

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


def test_a_clerk_redeems_points_at_the_counter(page: Page, admin: Admin, new_context):  # type: ignore[no-untyped-def]
    _, store = admin.region_and_store()
    clerk = admin.clerk(store["code"])
    member = admin.member(store["code"])
    card = member["card"]["card_no"]
    # The member earns points with a cash purchase at the clerk's store.
    sku = admin.product(retail_price=30_000)["sku"]
    auth = {"Authorization": f"Bearer {admin.login(clerk.username, clerk.password)}"}
    body = {"card_no": card, "lines": [{"sku": sku, "qty": 1}]}
    quote = admin.http.post("/api/v1/checkouts/quote", json=body, headers=auth).json()
    r = admin.http.post("/api/v1/checkouts", json={**body, "payments": [{"method": "cash", "amount": quote["total_due"]}]},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    points = admin.call("GET", f"/api/v1/members/{member['member_no']}/points").json()["balance"]
    assert points >= 2
    name = f"雨伞-{tag()}"
    cost = points // 2
    made = admin.call("POST", "/api/v1/loyalty/rewards", json={"name": name, "points_cost": cost, "stock": 1})
    assert made.status_code == 201, made.text

    log_in(page, clerk)
    identify(page, card)
    page.get_by_role("tab", name="兑换").click()
    row = page.get_by_test_id("redeem-row").filter(has_text=name)
    expect(row).to_contain_text(str(cost))
    # Two when one is left: refused next to the quantity, nothing spent.
    row.get_by_label(f"{name} 的数量").fill("2")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    row.get_by_role("button", name="兑换").click()
    expect(page.get_by_test_id("redeem-row").filter(has_text=name).get_by_role("alert")).to_contain_text(
        "库存不足"
    )
    settled(page)
    assert asked and f"每件用去 {cost} 积分" in asked[0].replace(",", "")
    assert admin.call("GET", f"/api/v1/members/{member['member_no']}/points").json()["balance"] == points
    # One: redeemed, the member panel shows the points left.
    row = page.get_by_test_id("redeem-row").filter(has_text=name)
    row.get_by_label(f"{name} 的数量").fill("1")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="兑换").click()
    expect(page.get_by_test_id("redeemed")).to_contain_text(f"已兑换 {name} × 1")
    settled(page)
    left = points - cost
    expect(page.get_by_test_id("member-points")).to_have_text(f"{left:,}")
    shot(page, "counter-redeem-zh")
    assert admin.call("GET", f"/api/v1/members/{member['member_no']}/points").json()["balance"] == left
    assert reward(admin, name)["stock"] == 0  # type: ignore[index]

    # The same task in English: the reward sold out, nothing to redeem.
    en = new_context(locale="en-US").new_page()
    en.goto("/")
    en.get_by_role("link", name="English").click()
    log_in(en, clerk)
    identify(en, card)
    en.get_by_role("tab", name="Redeem").click()
    row = en.get_by_test_id("redeem-row").filter(has_text=name)
    expect(row).to_contain_text("Sold out")
    expect(row.get_by_role("button", name="Redeem")).to_be_disabled()
    shot(en, "counter-redeem-en")
