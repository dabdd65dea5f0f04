"""The console's marketing rules (营销规则) in a real Chromium: an HQ admin adds a tier, an earn rule
(its preview checked), a 满减 coupon template issued to a member, a 满减 promotion and a risk
rule; a bad value is refused next to its field and nothing is created; a store manager reads
the rules but cannot add a tier (no form, and a crafted post gets the 403 page) nor switch a
rule off; HQ deactivates a promotion and deletes a tier nobody is on (one with members stays,
the refusal shown as a message)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    region, store = admin.region_and_store()
    return {"region": region, "store": store, "manager": admin.store_manager(store["code"])}


def tag() -> str:
    return uuid.uuid4().hex[:6]


def names(admin: Admin, path: str) -> list[str]:
    r = admin.call("GET", path)
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()["items"]]


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="规则类别").get_by_role("link", name=name, exact=True).click()
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text(name)
    settled(page)


def to_rules(page: Page) -> None:
    log_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/console(/\w+)?$"))
    page.locator(".topnav").get_by_role("link", name="营销规则", exact=True).click()
    expect(page.get_by_role("heading", name="营销规则", exact=True)).to_be_visible()


def test_hq_adds_every_kind_of_rule(page: Page, shop: dict, admin: Admin):
    errors = page_errors(page)
    to_rules(page)

    # A tier; its preview says what spend reaches it.
    code = f"G{tag().upper()}"
    form = page.locator("#tier-form")
    form.get_by_label(re.compile("^代码")).fill(code)
    form.get_by_label(re.compile("^等级名称")).fill(f"金卡{code}")
    form.get_by_label(re.compile("^级别")).fill("7")
    form.get_by_label(re.compile("^12 个月消费")).fill("5000")
    form.get_by_label(re.compile("^折扣")).fill("5")
    form.get_by_label(re.compile("^积分倍数")).fill("1.5")
    expect(form.get_by_test_id("preview")).to_contain_text("会员 12 个月内消费满 ¥5,000.00 即升至此等级")
    settled(page)
    form.get_by_role("button", name="保存等级").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存等级 金卡{code}")).to_be_visible()
    settled(page)
    row = page.locator("#tiers-list tr", has_text=code)
    expect(row).to_contain_text("¥5,000.00")
    expect(row).to_contain_text("×1.5")
    tiers = {t["code"]: t for t in admin.call("GET", "/api/v1/loyalty/tiers").json()["items"]}
    assert tiers[code]["min_spend_12m"] == 500_000 and tiers[code]["discount_bps"] == 500
    assert tiers[code]["points_multiplier_bps"] == 15_000

    # An earn rule: 2 points per yuan, double on member day -> ¥100 earns 200 (400 on the day).
    open_tab(page, "积分规则")
    name = f"双倍积分-{tag()}"
    form = page.locator("#earn-form")
    form.get_by_label(re.compile("^规则")).fill(name)
    form.get_by_label(re.compile("^适用范围")).select_option(shop["region"]["code"])
    form.get_by_label(re.compile("^每元积分")).fill("2")
    form.get_by_label(re.compile("^会员日 ")).fill("8")
    form.get_by_label(re.compile("^会员日倍数")).fill("2")
    preview = form.get_by_test_id("preview")
    expect(preview).to_contain_text("消费 ¥100.00 可得 200 积分")
    expect(preview).to_contain_text("会员日（每月 8 日）可得 400 积分")
    settled(page)
    form.get_by_role("button", name="添加积分规则").click()
    expect(page.get_by_role("status").filter(has_text=name)).to_be_visible()
    settled(page)
    expect(page.locator("#earn-list tr", has_text=name)).to_contain_text(shop["region"]["path"])
    rules = {r["name"]: r for r in admin.call("GET", "/api/v1/loyalty/earn-rules").json()["items"]}
    assert rules[name]["points_per_yuan_bps"] == 20_000 and rules[name]["member_day"] == 8

    # A 满减 coupon template (spend ¥100, save ¥20), issued to a member made over REST.
    open_tab(page, "优惠券")
    coupon = f"满100减20-{tag()}"
    form = page.locator("#coupon-form")
    page.locator("#f-coupon-name").fill(coupon)
    form.get_by_label(re.compile("^类型")).select_option("amount_off")
    form.get_by_label(re.compile("^减免金额")).fill("20")
    form.get_by_label(re.compile("^最低消费")).fill("100")
    form.get_by_label(re.compile("^有效天数")).fill("30")
    form.get_by_label(re.compile("^每人限领")).fill("1")
    expect(form.get_by_test_id("preview")).to_contain_text("满 ¥100.00 减 ¥20.00")
    settled(page)
    form.get_by_role("button", name="添加优惠券模板").click()
    expect(page.get_by_role("status").filter(has_text=coupon)).to_be_visible()
    settled(page)
    expect(page.locator("#coupons-list tr", has_text=coupon)).to_contain_text("¥20.00")
    member = admin.member(shop["store"]["code"])["member_no"]
    issue = page.locator("#issue-form")
    issue.get_by_label("优惠券模板").select_option(label=coupon)
    issue.get_by_label(re.compile("^会员号")).fill(member)
    issue.get_by_role("button", name="发放").click()
    expect(page.get_by_role("status").filter(has_text="已发放 1 张优惠券")).to_be_visible()
    settled(page)
    mine = admin.call("GET", f"/api/v1/members/{member}/coupons").json()["items"]
    assert [(c["name"], c["amount_off"], c["min_spend"]) for c in mine] == [(coupon, 2000, 10_000)]
    shot(page, "console-rules-coupons-zh")

    # A 满减 promotion.
    open_tab(page, "促销活动")
    promo = f"满200减30-{tag()}"
    form = page.locator("#promotion-form")
    page.locator("#f-promotion-name").fill(promo)
    # The test's region only: an HQ-wide 满减 would discount the other tests' checkouts.
    form.get_by_label(re.compile("^适用范围")).select_option(shop["region"]["code"])
    form.get_by_label(re.compile("^满（元）")).fill("200")
    form.get_by_label(re.compile("^减（元）")).fill("30")
    expect(form.get_by_test_id("preview")).to_contain_text("满 ¥200.00 减 ¥30.00")
    settled(page)
    form.get_by_role("button", name="添加促销活动").click()
    expect(page.get_by_role("status").filter(has_text=promo)).to_be_visible()
    settled(page)
    expect(page.locator("#promotions-list tr", has_text=promo)).to_contain_text("满 ¥200.00 减 ¥30.00")
    promos = {x["name"]: x for x in admin.call("GET", "/api/v1/loyalty/promotions").json()["items"]}
    assert (promos[promo]["spend_threshold"], promos[promo]["save_amount"]) == (20_000, 3000)
    assert promos[promo]["scope"] == shop["region"]["path"]

    # A risk rule: more than ¥8,000 topped up within an hour raises an alert.
    open_tab(page, "风控规则")
    risk = f"1小时充值超8000-{tag()}"
    form = page.locator("#risk-form")
    form.get_by_label(re.compile("^规则")).fill(risk)
    form.locator("#f-risk-scope").select_option(shop["region"]["path"])  # not the other tests' top-ups
    form.get_by_label(re.compile("^类型")).select_option("sum_in_window")
    form.get_by_label(re.compile("^适用交易")).select_option("topup")
    form.get_by_label(re.compile("^阈值")).fill("8000")
    form.get_by_label(re.compile("^时间窗口")).fill("60")
    form.get_by_role("button", name="添加风控规则").click()
    expect(page.get_by_role("status").filter(has_text=risk)).to_be_visible()
    settled(page)
    expect(page.locator("#risk-list tr", has_text=risk)).to_contain_text("60 分钟")
    made = {r["name"]: r for r in admin.call("GET", "/api/v1/risk/rules").json()["items"]}
    assert (made[risk]["threshold"], made[risk]["window_seconds"], made[risk]["action"]) == (
        800_000,
        3600,
        "alert",
    )
    shot(page, "console-rules-zh")
    assert [e for e in errors if "Failed to load resource" not in e] == []


def test_a_bad_value_is_refused_next_to_its_field_and_nothing_is_created(page: Page, admin: Admin):
    to_rules(page)
    open_tab(page, "优惠券")
    coupon = f"九折券-{tag()}"
    form = page.locator("#coupon-form")
    page.locator("#f-coupon-name").fill(coupon)
    form.get_by_label(re.compile("^类型")).select_option("percent_off")
    form.get_by_label(re.compile("^折扣比例")).fill("120")
    settled(page)
    form.get_by_role("button", name="添加优惠券模板").click()
    expect(page.locator("#f-coupon-percent_off_bps-error")).to_contain_text("请输入 0 到 100 之间的百分比")
    expect(page.locator("#coupon-form .banner-error")).to_contain_text("未保存")
    expect(page.locator("#f-coupon-name")).to_have_value(coupon)  # what was typed stays
    assert coupon not in names(admin, "/api/v1/loyalty/coupon-templates")

    open_tab(page, "促销活动")
    promo = f"满减错-{tag()}"
    form = page.locator("#promotion-form")
    page.locator("#f-promotion-name").fill(promo)
    form.get_by_label(re.compile("^满（元）")).fill("50")
    form.get_by_label(re.compile("^减（元）")).fill("80")
    settled(page)
    form.get_by_role("button", name="添加促销活动").click()
    expect(page.locator("#f-promotion-save_amount-error")).to_contain_text(
        "减免金额必须大于零且不超过消费门槛"
    )
    assert promo not in names(admin, "/api/v1/loyalty/promotions")
    shot(page, "console-rules-refused-zh")

    # A member number outside the chain is refused next to the numbers; nothing is issued.
    open_tab(page, "优惠券")
    issue = page.locator("#issue-form")
    issue.get_by_label(re.compile("^会员号")).fill("NOSUCH0000")
    issue.get_by_role("button", name="发放").click()
    expect(page.locator("#f-issue-member_nos-error")).to_contain_text("您的管辖范围内没有会员 NOSUCH0000")


def test_a_store_manager_reads_the_rules_but_cannot_add_a_tier(page: Page, shop: dict):
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console")
    page.locator(".topnav").get_by_role("link", name="营销规则", exact=True).click()
    expect(page.locator("#tiers-list")).to_be_visible()
    expect(page.locator("#tier-form")).to_have_count(0)
    open_tab(page, "风控规则")
    expect(page.locator("#risk-list")).to_be_visible()
    expect(page.locator("#risk-form")).to_have_count(0)
    open_tab(page, "积分规则")
    expect(page.locator("#earn-form")).to_be_visible()  # managers add rules of their own scope
    expect(page.locator("#f-earn-scope option")).to_have_count(1)
    expect(page.locator("#earn-list").get_by_role("button")).to_have_count(0)  # only HQ switches rules

    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    r = page.request.post(
        "/console/rules/tiers", form={"csrf": csrf or "", "code": "HACK", "name": "x", "rank": "9"}
    )
    assert r.status == 403
    assert "不允许" in r.text() or "无权" in r.text()
    page.goto("/console/rules?tab=tiers")
    expect(page.locator("#tiers-list")).not_to_contain_text("HACK")


def test_hq_deactivates_a_promotion_and_deletes_an_unused_tier(page: Page, admin: Admin):
    errors = page_errors(page)
    promo = admin.call("POST", "/api/v1/loyalty/promotions", json={
        "name": f"停用我-{tag()}", "kind": "member_day", "day_of_month": 28, "discount_bps": 500})  # fmt: skip
    assert promo.status_code == 201, promo.text
    promo = promo.json()
    taken = {t["rank"] for t in admin.call("GET", "/api/v1/loyalty/tiers").json()["items"]}
    rank = next(r for r in range(99, 0, -1) if r not in taken)
    code = f"DEL{tag().upper()}"
    made = admin.call("POST", "/api/v1/loyalty/tiers", json={"code": code, "name": f"待删{code}", "rank": rank,
                                                             "min_spend_12m": 10**11})  # fmt: skip
    assert made.status_code == 201, made.text
    to_rules(page)

    open_tab(page, "促销活动")
    row = page.locator("#promotions-list tr", has_text=promo["name"])
    expect(row.get_by_test_id("status")).to_have_text("正常")
    row.get_by_role("button", name=f"停用 {promo['name']}").click()
    expect(page.get_by_role("status").filter(has_text="已停用该促销")).to_be_visible()
    settled(page)
    row = page.locator("#promotions-list tr", has_text=promo["name"])
    expect(row.get_by_test_id("status")).to_have_text("停用")
    expect(row.get_by_role("button", name=f"启用 {promo['name']}")).to_be_visible()
    promos = {x["id"]: x for x in admin.call("GET", "/api/v1/loyalty/promotions").json()["items"]}
    assert promos[promo["id"]]["active"] is False
    shot(page, "console-rules-promotion-off-zh")

    open_tab(page, "会员等级")
    # The entry tier has every new member: deleting it is refused, shown as a message.
    page.once("dialog", lambda d: d.accept())
    page.locator("#tiers-list tr", has_text="standard").get_by_role(
        "button", name=re.compile("^删除等级")
    ).click()
    expect(page.get_by_test_id("rule-problem")).to_contain_text("不能删除")
    settled(page)
    expect(page.locator("#tiers-list")).to_contain_text("standard")

    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("#tiers-list tr", has_text=code).get_by_role("button", name=f"删除等级 待删{code}").click()
    expect(page.get_by_role("status").filter(has_text=f"已删除等级 {code}")).to_be_visible()
    settled(page)
    assert "仍有会员处于该等级时无法删除" in asked[0]
    expect(page.locator("#tiers-list")).not_to_contain_text(code)
    assert code not in {t["code"] for t in admin.call("GET", "/api/v1/loyalty/tiers").json()["items"]}
    assert [e for e in errors if "Failed to load resource" not in e] == []


def test_in_english(new_context):  # type: ignore[no-untyped-def]
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    page.goto("/console/rules?tab=earn")
    expect(page.get_by_role("heading", name="Marketing rules", exact=True)).to_be_visible()
    page.get_by_label(re.compile("^Points per yuan")).fill("1")
    expect(page.get_by_test_id("preview")).to_contain_text("A ¥100.00 purchase earns 100 points.")
    settled(page)
    shot(page, "console-rules-en")
    page.goto("/console/rules?tab=tiers")
    shot(page, "console-rules-tiers-en")
