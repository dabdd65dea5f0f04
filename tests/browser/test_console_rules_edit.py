"""Changing rules from their rows on the console's rules screen in a real Chromium: an HQ admin
edits an earn rule (the form prefilled, its preview following the new value) and a promotion and
sees the change listed (and over REST, the id kept), deactivates the edited earn rule, deletes an
unused promotion after confirming what happens, issues a coupon template to every member with a
tag (the result says how many) and stops the template. In English too."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, page_errors, shot
from tests.browser.pages import log_in, settled
from tests.browser.test_console_rules import ADMIN, open_tab, to_rules


def tag() -> str:
    return uuid.uuid4().hex[:6]


def made(admin: Admin, path: str, body: dict) -> dict:
    r = admin.call("POST", f"/api/v1/loyalty/{path}", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def by_id(admin: Admin, path: str) -> dict[str, dict]:
    return {x["id"]: x for x in admin.call("GET", f"/api/v1/loyalty/{path}").json()["items"]}


@pytest.fixture(scope="module")
def rules(admin: Admin) -> dict:
    """Rules made over REST (inactive where they would change other tests' quotes), two members
    tagged with a fresh tag and one without it."""
    t = tag()
    _, store = admin.region_and_store()
    label = f"vip{t}"
    tagged = [admin.member(store["code"], tags=[label])["member_no"] for _ in range(2)]
    return {
        "earn": made(
            admin,
            "earn-rules",
            {"name": f"编辑我-{t}", "category": f"cat-{t}", "points_per_yuan_bps": 10_000},
        ),
        "promo": made(
            admin,
            "promotions",
            {
                "name": f"改我-{t}",
                "kind": "spend_x_save_y",
                "spend_threshold": 10_000,
                "save_amount": 1_000,
                "active": False,
            },
        ),
        "unused": made(
            admin,
            "promotions",
            {
                "name": f"删我-{t}",
                "kind": "member_day",
                "day_of_month": 27,
                "discount_bps": 500,
                "active": False,
            },
        ),
        "coupon": made(
            admin,
            "coupon-templates",
            {"name": f"标签券-{t}", "kind": "amount_off", "amount_off": 500, "per_member_limit": 1},
        ),
        "tag": label,
        "tagged": tagged,
        "untagged": admin.member(store["code"])["member_no"],
    }


def test_hq_edits_deletes_stops_and_issues_to_a_tag(page: Page, admin: Admin, rules: dict):
    errors = page_errors(page)
    to_rules(page)

    # Edit an earn rule: the form comes prefilled; 3 points per yuan -> ¥100 earns 300.
    earn = rules["earn"]
    open_tab(page, "积分规则")
    page.locator("#earn-list tr", has_text=earn["name"]).get_by_role(
        "link", name=f"编辑 {earn['name']}"
    ).click()
    expect(page.get_by_role("heading", name=f"编辑积分规则 {earn['name']}")).to_be_visible()
    form = page.locator("#earn-form")
    expect(form.get_by_label(re.compile("^规则名称"))).to_have_value(earn["name"])
    expect(form.get_by_label(re.compile("^分类"))).to_have_value(earn["category"])
    settled(page)
    form.get_by_label(re.compile("^每元积分")).fill("3")
    expect(form.get_by_test_id("preview")).to_contain_text("消费 ¥100.00 可得 300 积分")
    settled(page)
    shot(page, "console-rules-edit-earn-zh")
    form.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存积分规则 {earn['name']}")).to_be_visible()
    settled(page)
    row = page.locator("#earn-list tr", has_text=earn["name"])
    expect(row.locator("td").nth(3)).to_have_text("3")
    saved = by_id(admin, "earn-rules")[earn["id"]]
    assert (saved["points_per_yuan_bps"], saved["category"], saved["active"]) == (
        30_000,
        earn["category"],
        True,
    )
    expect(
        page.get_by_role("heading", name="添加积分规则")
    ).to_be_visible()  # the form is for a new one again

    # Deactivate it from its row.
    row.get_by_role("button", name=f"停用 {earn['name']}").click()
    expect(page.get_by_role("status").filter(has_text="已停用该积分规则")).to_be_visible()
    settled(page)
    expect(page.locator("#earn-list tr", has_text=earn["name"]).get_by_test_id("status")).to_have_text("停用")
    assert by_id(admin, "earn-rules")[earn["id"]]["active"] is False

    # Edit a promotion: spend ¥100 save ¥15 (its refused value first: more than the spend).
    promo = rules["promo"]
    open_tab(page, "促销活动")
    page.locator("#promotions-list tr", has_text=promo["name"]).get_by_role(
        "link", name=f"编辑 {promo['name']}"
    ).click()
    form = page.locator("#promotion-form")
    expect(form.get_by_label(re.compile("^减"))).to_have_value("10")
    settled(page)
    form.get_by_label(re.compile("^减")).fill("150")
    form.get_by_role("button", name="保存修改").click()
    expect(page.locator("#f-promotion-save_amount-error")).to_be_visible()
    settled(page)
    assert by_id(admin, "promotions")[promo["id"]]["save_amount"] == 1_000  # nothing changed
    form = page.locator("#promotion-form")
    form.get_by_label(re.compile("^减")).fill("15")
    expect(form.get_by_test_id("preview")).to_contain_text("满 ¥100.00 减 ¥15.00")
    settled(page)
    form.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存促销 {promo['name']}")).to_be_visible()
    settled(page)
    expect(page.locator("#promotions-list tr", has_text=promo["name"])).to_contain_text(
        "满 ¥100.00 减 ¥15.00"
    )
    saved = by_id(admin, "promotions")[promo["id"]]
    assert (saved["save_amount"], saved["spend_threshold"], saved["active"]) == (1_500, 10_000, False)

    # Delete the unused promotion after confirming what happens.
    unused = rules["unused"]
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("#promotions-list tr", has_text=unused["name"]).get_by_role(
        "button", name=f"删除 {unused['name']}"
    ).click()
    expect(page.get_by_role("status").filter(has_text=f"已删除促销 {unused['name']}")).to_be_visible()
    settled(page)
    assert "不再优惠" in asked[0] and unused["name"] in asked[0]
    expect(page.locator("#promotions-list")).not_to_contain_text(unused["name"])
    assert unused["id"] not in by_id(admin, "promotions")
    shot(page, "console-rules-edit-promotions-zh")

    # Issue the coupon template to the tag: both tagged members get one, the other none.
    coupon = rules["coupon"]
    open_tab(page, "优惠券")
    form = page.locator("#issue-tag-form")
    form.get_by_label("优惠券模板").select_option(label=coupon["name"])
    form.get_by_label(re.compile("^标签")).fill(rules["tag"])
    form.get_by_role("button", name="发放给该标签").click()
    expect(page.locator(".banner[role=status]")).to_contain_text(
        f"已向标签 {rules['tag']} 的 2 位会员发放 2 张券；跳过 0 位"
    )
    settled(page)
    for member_no in rules["tagged"]:
        held = admin.call("GET", f"/api/v1/members/{member_no}/coupons").json()["items"]
        assert [c["template_id"] for c in held] == [coupon["id"]]
    assert admin.call("GET", f"/api/v1/members/{rules['untagged']}/coupons").json()["items"] == []
    expect(page.locator("#coupons-list tr", has_text=coupon["name"]).locator("td").nth(7)).to_have_text("2")
    shot(page, "console-rules-edit-coupons-zh")

    # Issued: its value stays, and its quantity cannot go below the 2 issued; the name can change.
    page.locator("#coupons-list tr", has_text=coupon["name"]).get_by_role(
        "link", name=f"编辑 {coupon['name']}"
    ).click()
    form = page.locator("#coupon-form")
    expect(page.get_by_text(re.compile("类型和面值不能再改"))).to_be_visible()
    settled(page)
    form.get_by_label(re.compile("^减免金额")).fill("8")
    form.get_by_role("button", name="保存修改").click()
    expect(page.locator("#f-coupon-amount_off-error")).to_contain_text("面值不能再改")
    settled(page)
    form = page.locator("#coupon-form")
    form.get_by_label(re.compile("^减免金额")).fill("5")
    form.get_by_label(re.compile("^发行总量")).fill("1")
    form.get_by_role("button", name="保存修改").click()
    expect(page.locator("#f-coupon-total_quantity-error")).to_contain_text("不能少于已发放的 2 张")
    settled(page)
    form = page.locator("#coupon-form")
    form.get_by_label(re.compile("^发行总量")).fill("")
    form.get_by_label(re.compile("^优惠券")).fill(coupon["name"] + "新")
    form.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存优惠券模板 {coupon['name']}新")).to_be_visible()
    settled(page)
    saved = by_id(admin, "coupon-templates")[coupon["id"]]
    assert (saved["name"], saved["amount_off"], saved["issued"]) == (coupon["name"] + "新", 500, 2)
    coupon = {**coupon, "name": coupon["name"] + "新"}

    # Stop the template: issued no more.
    asked.clear()
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("#coupons-list tr", has_text=coupon["name"]).get_by_role(
        "button", name=f"停发 {coupon['name']}"
    ).click()
    expect(page.get_by_role("status").filter(has_text="已停发优惠券模板")).to_be_visible()
    settled(page)
    assert "仍可使用" in asked[0]
    row = page.locator("#coupons-list tr", has_text=coupon["name"])
    expect(row.get_by_test_id("status")).to_have_text("已停发")
    expect(row.get_by_role("button", name=f"重新启用 {coupon['name']}")).to_be_visible()
    assert by_id(admin, "coupon-templates")[coupon["id"]]["active"] is False
    # a stopped template is offered for issuing no more
    expect(page.locator("#issue-tag-form option", has_text=coupon["name"])).to_have_count(0)
    expect(page.locator("#issue-form option", has_text=coupon["name"])).to_have_count(0)
    assert [e for e in errors if "Failed to load resource" not in e] == []


def test_a_used_earn_rule_is_kept_and_keeps_its_name(page: Page, admin: Admin):
    """A purchase earned under the rule: deleting it is refused with a message suggesting to
    deactivate it, renaming it is refused next to the name; other fields still change."""
    t = tag()
    _, store = admin.region_and_store()
    rule = made(
        admin, "earn-rules", {"name": f"用过-{t}", "category": f"used-{t}", "points_per_yuan_bps": 10_000}
    )
    clerk = admin.clerk(store["code"])
    as_clerk = {"Authorization": f"Bearer {admin.login(clerk.username, clerk.password)}"}
    card = admin.member(store["code"])["card"]["card_no"]
    body = {"card_no": card, "lines": [{"sku": admin.product(category=f"used-{t}")["sku"], "qty": 1}]}
    due = admin.call("POST", "/api/v1/checkouts/quote", json=body, headers=as_clerk).json()["total_due"]
    r = admin.call("POST", "/api/v1/checkouts", json={**body, "payments": [{"method": "cash", "amount": due}]},
                   headers={**as_clerk, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text  # it earned under the rule (its category)

    to_rules(page)
    open_tab(page, "积分规则")
    page.once("dialog", lambda d: d.accept())
    page.locator("#earn-list tr", has_text=rule["name"]).get_by_role(
        "button", name=f"删除 {rule['name']}"
    ).click()
    expect(page.get_by_test_id("rule-problem")).to_contain_text("请改为停用")
    settled(page)
    expect(page.locator("#earn-list")).to_contain_text(rule["name"])
    assert rule["id"] in by_id(admin, "earn-rules")
    shot(page, "console-rules-edit-used-zh")

    page.locator("#earn-list tr", has_text=rule["name"]).get_by_role(
        "link", name=f"编辑 {rule['name']}"
    ).click()
    form = page.locator("#earn-form")
    expect(form.get_by_label(re.compile("^规则名称"))).to_have_value(rule["name"])
    settled(page)
    form.get_by_label(re.compile("^规则名称")).fill(f"改名-{t}")
    form.get_by_role("button", name="保存修改").click()
    expect(page.locator("#f-earn-name-error")).to_contain_text("名称不能再改")
    settled(page)
    assert by_id(admin, "earn-rules")[rule["id"]]["name"] == rule["name"]
    form = page.locator("#earn-form")
    form.get_by_label(re.compile("^规则名称")).fill(rule["name"])
    form.get_by_label(re.compile("^每元积分")).fill("0.5")
    form.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存积分规则 {rule['name']}")).to_be_visible()
    assert by_id(admin, "earn-rules")[rule["id"]]["points_per_yuan_bps"] == 5_000


def test_in_english(new_context, rules: dict):  # type: ignore[no-untyped-def]
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    promo = rules["promo"]
    page.goto(f"/console/rules?tab=promotions&edit={promo['id']}")
    expect(page.get_by_role("heading", name=f"Edit promotion {promo['name']}")).to_be_visible()
    expect(page.get_by_role("button", name="Save changes")).to_be_visible()
    expect(page.get_by_role("button", name=f"Delete {promo['name']}")).to_be_visible()
    shot(page, "console-rules-edit-promotion-en")
    page.goto("/console/rules?tab=coupons")
    expect(page.get_by_role("heading", name="Issue to a tag")).to_be_visible()
    shot(page, "console-rules-edit-coupons-en")
