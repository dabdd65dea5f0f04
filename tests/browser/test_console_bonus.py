"""The top-up bonus rules tab (充值赠送, /console/rules/bonus) in Chromium, through the page: the
HQ admin adds a rule for a store and sees what a top-up gets while typing; a bad value comes back
next to its field; the rule is edited (the store's next top-up gets the new bonus), deactivated,
and an unused one deleted after confirming, while one a top-up has applied can only be
deactivated. A store manager reads the rules above its store but changes none of them."""

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
    return {"region": region, "store": store, "clerk": admin.clerk(store["code"]),
            "manager": admin.store_manager(store["code"])}  # fmt: skip


def open_tab(page: Page) -> None:
    page.goto("/console/rules")
    page.get_by_role("link", name=re.compile("^(充值赠送|Top-up bonus)$")).click()
    expect(page).to_have_url(re.compile(r"/console/rules/bonus$"))


def row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#bonus-list tbody tr", has_text=name)


def preview_top_up(admin: Admin, clerk: User, card: str, amount: int) -> dict:
    with Admin(admin.http.base_url, clerk.username, clerk.password) as as_clerk:
        r = as_clerk.call(
            "POST", f"/api/v1/cards/{card}/top-ups/preview", json={"amount": amount, "channel": "cash"}
        )
    assert r.status_code == 200, r.text
    return r.json()


def test_hq_adds_edits_deactivates_and_deletes_a_bonus_rule(page: Page, shop: dict, admin: Admin):
    errors = page_errors(page)
    store = shop["store"]
    name = f"充500送50-{uuid.uuid4().hex[:4]}"
    log_in(page, ADMIN)
    open_tab(page)
    form = page.locator("#bonus-form")
    form.get_by_label("规则名称").fill(name)
    form.get_by_label("适用范围").select_option(store["code"])
    form.get_by_label("充值满（¥）").fill("500")
    form.get_by_label("赠送（¥）").fill("50")
    expect(page.get_by_test_id("preview")).to_contain_text("充值 ¥500.00，赠送 ¥50.00。")
    form.get_by_label("赠送积分").fill("300")
    expect(page.get_by_test_id("preview")).to_contain_text("赠送 ¥50.00 和 300 积分")
    shot(page, "console-bonus-preview-zh")

    # A bad amount comes back next to its field and nothing is created.
    form.get_by_label("充值满（¥）").fill("五百")
    form.get_by_role("button", name="添加充值赠送规则").click()
    expect(page.locator("#f-bonus-min_amount-error")).to_be_visible()
    settled(page)
    expect(row(page, name)).to_have_count(0)

    page.locator("#bonus-form").get_by_label("充值满（¥）").fill("500")
    page.locator("#bonus-form").get_by_role("button", name="添加充值赠送规则").click()
    expect(page.locator("#rules .banner-ok")).to_contain_text(f"已创建充值赠送规则 {name}")
    settled(page)
    expect(row(page, name)).to_contain_text("¥50.00")
    rule_id = row(page, name).get_attribute("data-id")
    card = admin.member(store["code"])["card"]["card_no"]
    assert preview_top_up(admin, shop["clerk"], card, 50_000)["bonus"] == 5_000

    # Edit: the form comes back filled in; the store's next top-up gets the new bonus.
    row(page, name).get_by_role("link", name="编辑").click()
    form = page.locator("#bonus-form")
    expect(form.get_by_label("规则名称")).to_have_value(name)
    expect(form.get_by_label("充值满（¥）")).to_have_value("500")
    form.get_by_label("赠送（¥）").fill("80")
    shot(page, "console-bonus-edit-zh")
    form.get_by_role("button", name="保存修改").click()
    expect(page.locator("#rules .banner-ok")).to_contain_text(f"已保存充值赠送规则 {name}")
    settled(page)
    expect(row(page, name)).to_contain_text("¥80.00")
    assert preview_top_up(admin, shop["clerk"], card, 50_000)["bonus"] == 8_000

    # A top-up applies it: then it can only be deactivated.
    with Admin(admin.http.base_url, shop["clerk"].username, shop["clerk"].password) as as_clerk:
        r = as_clerk.call("POST", f"/api/v1/cards/{card}/top-ups", json={"amount": 50_000, "channel": "cash"},
                          headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201 and r.json()["bonus"] == 8_000, r.text
    page.once("dialog", lambda d: d.accept())
    row(page, name).get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("rule-problem")).to_contain_text("已有充值使用过它")
    settled(page)
    expect(row(page, name)).to_have_count(1)
    row(page, name).get_by_role("button", name="停用").click()
    expect(page.locator("#rules .banner-ok")).to_contain_text("已停用充值赠送规则")
    settled(page)
    expect(row(page, name).get_by_test_id("status")).to_have_text("停用")
    assert preview_top_up(admin, shop["clerk"], card, 50_000)["bonus"] == 0

    # An unused rule is deleted once the dialog is confirmed.
    unused = admin.call("POST", "/api/v1/wallet/bonus-rules", json={
        "name": f"未用-{uuid.uuid4().hex[:4]}", "min_amount": 10**8, "bonus_amount": 100, "scope": store["code"],
    }).json()  # fmt: skip
    page.reload()
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    row(page, unused["name"]).get_by_role("button", name="删除").click()
    expect(page.locator("#rules .banner-ok")).to_contain_text("已删除充值赠送规则")
    settled(page)
    expect(row(page, unused["name"])).to_have_count(0)
    assert dialogs and "只能停用" in dialogs[0], dialogs
    listed = admin.call("GET", "/api/v1/wallet/bonus-rules").json()["items"]
    assert unused["id"] not in {x["id"] for x in listed} and rule_id in {x["id"] for x in listed}
    shot(page, "console-bonus-zh")
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


def test_a_store_manager_reads_the_regions_rule_but_cannot_change_it(page: Page, shop: dict, admin: Admin):
    name = f"区域送-{uuid.uuid4().hex[:4]}"
    r = admin.call("POST", "/api/v1/wallet/bonus-rules", json={
        "name": name, "min_amount": 100_000, "bonus_amount": 10_000, "scope": shop["region"]["code"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console/rules/bonus")
    expect(row(page, name)).to_contain_text("¥100.00")
    expect(row(page, name).get_by_role("button")).to_have_count(0)
    expect(row(page, name).get_by_role("link", name="编辑")).to_have_count(0)
    # Posting a change anyway is refused and changes nothing.
    csrf = page.context.cookies()
    token = next(c["value"] for c in csrf if c["name"] == "cc_csrf")
    answer = page.request.post(f"/console/rules/bonus/{r.json()['id']}/deactivate", form={"csrf": token})
    assert answer.status == 404, answer.status
    assert next(
        x for x in admin.call("GET", "/api/v1/wallet/bonus-rules").json()["items"] if x["name"] == name
    )["active"]


def test_in_english(new_context, shop: dict):  # type: ignore[no-untyped-def]
    page = new_context(locale="en-US").new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    page.goto("/console/rules/bonus")
    form = page.locator("#bonus-form")
    form.get_by_label("Top-up from (¥)").fill("300")
    form.get_by_label("Bonus points").fill("100")
    expect(page.get_by_test_id("preview")).to_contain_text("A top-up of ¥300.00 gets 100 points.")
    expect(page.get_by_role("link", name="Top-up bonus")).to_have_attribute("aria-current", "page")
    shot(page, "console-bonus-en")
