"""The store counter in a real Chromium, through the page only: what a clerk does, what a store
manager sees, and the counter's promise never to charge twice."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.helpers import Admin, page_errors, shot
from tests.browser.pages import balance, funded_member, identify, log_in, open_task, scan, settled


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    """A region with a store, its clerk and manager, two products and a 充500送50 rule there."""
    region, store = admin.region_and_store()
    tea = admin.product(name="龙井绿茶 250g", category="茶叶", retail_price=12800)
    cup = admin.product(name="青瓷茶杯", category="茶具", retail_price=3500)
    r = admin.call("POST", "/api/v1/wallet/bonus-rules", json={
        "name": "充500送50", "min_amount": 50000, "bonus_amount": 5000, "bonus_points": 0, "scope": store["code"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return {
        "region": region,
        "store": store,
        "clerk": admin.clerk(store["code"]),
        "manager": admin.store_manager(store["code"]),
        "tea": tea,
        "cup": cup,
    }


def coupon_for(admin: Admin, member_no: str, *, off: int, min_spend: int) -> str:
    """A 满减 coupon issued to the member over REST; its name."""
    name = f"满{min_spend // 100}减{off // 100}-{uuid.uuid4().hex[:4]}"
    r = admin.call("POST", "/api/v1/loyalty/coupon-templates", json={
        "name": name, "kind": "amount_off", "amount_off": off, "min_spend": min_spend, "valid_days": 30,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = admin.call("POST", f"/api/v1/loyalty/coupon-templates/{r.json()['id']}/issue",
                   json={"member_nos": [member_no]}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    return name


def pay_button(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=re.compile(r"^(收款|Pay) ¥"))


def test_clerk_registers_tops_up_with_the_bonus_shown_and_checks_out(page: Page, shop: dict, admin: Admin):
    errors = page_errors(page)
    log_in(page, shop["clerk"], expect_path="/counter")
    expect(page.get_by_role("heading", name="识别会员")).to_be_visible()
    shot(page, "counter-zh")

    # Register: a bad phone comes back next to its field, then the member is identified at once.
    open_task(page, "开卡")
    page.get_by_role("textbox", name="姓名", exact=True).fill("李四")
    page.get_by_role("textbox", name="手机号", exact=True).fill("12345")
    page.get_by_label("生日").fill("1990-05-01")
    page.get_by_role("checkbox", name="短信").check()
    page.get_by_role("button", name="开卡并识别").click()
    expect(page.locator("#f-phone-error")).to_have_text("请输入有效的手机号，例如 13912345678。")
    expect(page.get_by_role("textbox", name="姓名", exact=True)).to_have_value("李四")  # the form was kept
    shot(page, "register-error")
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    page.get_by_role("textbox", name="手机号", exact=True).fill(phone)
    page.get_by_role("button", name="开卡并识别").click()
    expect(page.locator("#member")).to_contain_text("已注册会员")
    card_no = page.locator("#current-card").input_value()
    member_no = page.get_by_test_id("profile-link").inner_text()
    assert re.fullmatch(r"\d{16}", card_no), card_no
    expect(page.get_by_test_id("member-name")).to_have_text("李*")
    expect(page.get_by_test_id("balance-total")).to_have_text("¥0.00")

    # Top up 500: the rule's 50 is shown before confirming, and given.
    open_task(page, "充值")
    page.get_by_label("金额（¥）").fill("500")
    expect(page.get_by_test_id("bonus-preview")).to_contain_text("充值 ¥500.00 赠送 ¥50.00")
    expect(page.get_by_test_id("bonus-preview")).to_contain_text("充值后余额：¥550.00")
    shot(page, "topup-preview")
    page.get_by_role("button", name="确认充值").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("topup-bonus")).to_have_text("¥50.00")
    expect(page.get_by_test_id("balance-left")).to_have_text("¥550.00")
    expect(page.get_by_test_id("balance-total")).to_have_text("¥550.00")  # the member panel too
    shot(page, "topup-receipt")
    assert balance(admin, card_no)["total"] == 55000

    # A coupon for the member; identify again (scanning the card) and it is listed.
    coupon = coupon_for(admin, member_no, off=1000, min_spend=10000)
    identify(page, card_no)
    expect(page.get_by_test_id("coupons")).to_contain_text(coupon)

    # Check out two products with the coupon, stored value + cash.
    scan(page, shop["tea"]["sku"])
    scan(page, shop["cup"]["sku"])
    expect(page.get_by_test_id("total-due")).to_have_text("¥163.00")
    option = page.get_by_label("优惠券").locator("option", has_text=coupon)
    page.get_by_label("优惠券").select_option(value=option.get_attribute("value"))
    expect(page.get_by_test_id("total-due")).to_have_text("¥153.00")
    settled(page)
    page.get_by_label("储值支付（¥）").fill("100")
    page.get_by_label("现金（¥）").fill("53")
    shot(page, "checkout-quote")
    pay_button(page).click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_be_visible()
    expect(page.get_by_test_id("receipt-total")).to_have_text("¥153.00")
    expect(page.get_by_test_id("points-earned")).to_have_text("153")
    expect(page.get_by_test_id("balance-left")).to_have_text("¥450.00")
    expect(page.get_by_test_id("member-points")).to_have_text("153")
    shot(page, "checkout-receipt")

    checkout_id = page.get_by_test_id("checkout-id").inner_text()
    r = admin.call("GET", f"/api/v1/checkouts/{checkout_id}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert sorted((p["method"], p["amount"]) for p in r.json()["payments"]) == [
        ("cash", 5300),
        ("stored_value", 10000),
    ]
    assert balance(admin, card_no)["total"] == 45000
    coupons = admin.call("GET", f"/api/v1/members/{member_no}/coupons").json()["items"]
    assert [c["status"] for c in coupons if c["name"] == coupon] == ["redeemed"]
    assert errors == [] or all("422" in e for e in errors), errors  # the refused registration only


def test_double_submitting_the_pay_form_charges_once(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 10000)
    card = member["card"]["card_no"]
    log_in(page, shop["clerk"], expect_path="/counter")
    identify(page, card)
    scan(page, shop["cup"]["sku"])
    expect(page.get_by_label("储值支付（¥）")).to_have_value("35.00")  # suggested: the card pays

    with page.expect_request(re.compile(r"/counter/checkout/pay$")) as sent:
        pay_button(page).dblclick()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    checkout_id = page.get_by_test_id("checkout-id").inner_text()

    # The browser (or a proxy) sends the very same form again: the same receipt, no new charge.
    request = sent.value
    again = page.request.post(
        "/counter/checkout/pay",
        data=request.post_data_buffer,
        headers={
            k: v for k, v in request.headers.items() if k in ("content-type", "x-csrf-token", "hx-request")
        },
    )
    assert again.status == 201, again.text()
    assert checkout_id in again.text()
    assert balance(admin, card)["total"] == 10000 - 3500
    txns = admin.call("GET", f"/api/v1/cards/{card}/transactions").json()["items"]
    assert [t["kind"] for t in txns].count("payment") == 1, txns


def test_a_network_drop_keeps_the_form_and_try_again_charges_once(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 10000)
    card = member["card"]["card_no"]
    log_in(page, shop["clerk"], expect_path="/counter")
    identify(page, card)
    scan(page, shop["tea"]["sku"])
    page.get_by_label("储值支付（¥）").fill("100")
    page.get_by_label("现金（¥）").fill("28")

    # The gateway takes the payment, but the answer never reaches the counter.
    def lose_the_answer(route: Route) -> None:
        route.fetch()
        route.abort("internetdisconnected")

    page.route(re.compile(r"/counter/checkout/pay$"), lose_the_answer)
    pay_button(page).click()
    banner = page.locator("#offline")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("无法连接服务器")
    expect(pay_button(page)).to_be_visible()  # the form is still there, as it was
    expect(page.get_by_label("现金（¥）")).to_have_value("28")
    shot(page, "counter-offline")
    assert balance(admin, card)["total"] == 0  # it was charged once already

    page.unroute(re.compile(r"/counter/checkout/pay$"))
    banner.get_by_role("button", name="重试").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("receipt-total")).to_have_text("¥128.00")
    assert balance(admin, card)["total"] == 0  # and not again
    txns = admin.call("GET", f"/api/v1/cards/{card}/transactions").json()["items"]
    assert [t["kind"] for t in txns].count("payment") == 1, txns


def test_a_lost_card_shows_the_banner_and_cannot_pay(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 10000)
    card = member["card"]["card_no"]
    r = admin.call("POST", f"/api/v1/cards/{card}/report-loss")
    assert r.status_code == 200, r.text
    log_in(page, shop["clerk"], expect_path="/counter")
    identify(page, card)
    warning = page.locator('[data-card-warning="lost"]')
    expect(warning.first).to_contain_text("此卡已挂失")
    scan(page, shop["cup"]["sku"])
    expect(page.locator("#tab-body [role=alert]").filter(has_text="此卡已挂失").first).to_be_visible()
    expect(pay_button(page)).to_have_count(0)  # nothing to pay with this card
    r = page.request.post("/counter/checkout/pay", form={
        "csrf": page.locator('meta[name="csrf-token"]').get_attribute("content"),
        "card_no": card, "sku": shop["cup"]["sku"], "qty": "1", "name": "", "points_to_use": "0",
        "pay_stored_value": "35", "pay_other_method": "bank_card", "idempotency_key": uuid.uuid4().hex,
    })  # fmt: skip
    assert r.status == 409, r.text()  # and a crafted post is refused as card_lost
    shot(page, "counter-lost-card")
    assert balance(admin, card)["total"] == 10000


def test_a_clerk_of_another_region_sees_the_masked_view_only(new_context, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 2000)
    _, other_store = admin.region_and_store()
    stranger = admin.clerk(other_store["code"])
    page = new_context().new_page()
    log_in(page, stranger, expect_path="/counter")
    identify(page, member["card"]["card_no"])
    expect(page.get_by_test_id("member-name")).to_have_text(re.compile(r"^.\*+$"))  # 王** : masked
    expect(page.locator("#member")).not_to_contain_text(member["phone"][-8:])  # no full phone
    page.get_by_test_id("profile-link").click()
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    assert member["name"] not in page.content()
    shot(page, "profile-other-region")
    response = page.goto(f"/counter/members/{member['member_no']}")
    assert response is not None and response.status == 404


def test_card_service_history_and_refund(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 20000)
    card = member["card"]["card_no"]
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, shop["clerk"], expect_path="/counter")
    identify(page, card)

    open_task(page, "卡务")
    expect(page.get_by_test_id("replacement-fee")).to_be_visible()
    page.get_by_role("button", name="冻结").click()
    expect(page.get_by_test_id("card-status")).to_have_text("已冻结")
    assert admin.call("GET", f"/api/v1/cards/{card}").json()["status"] == "frozen"
    page.get_by_role("button", name="解冻").click()
    expect(page.get_by_test_id("card-status")).to_have_text("正常")
    shot(page, "card-service")

    open_task(page, "收银")
    scan(page, shop["tea"]["sku"])
    pay_button(page).click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    checkout_id = page.get_by_test_id("checkout-id").inner_text()
    assert balance(admin, card)["total"] == 20000 - 12800

    open_task(page, "记录")
    expect(page.get_by_role("table", name="储值流水")).to_contain_text("消费")
    expect(page.get_by_role("table", name="积分记录")).to_contain_text("获得")
    shot(page, "history")

    open_task(page, "退款")
    expect(page.get_by_role("table").filter(has_text=checkout_id)).to_be_visible()
    page.get_by_label("收银单号").fill(checkout_id)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("button", name="退款", exact=True).click()
    expect(page.get_by_test_id("refund-result")).to_contain_text("已退款 ¥128.00")
    expect(page.get_by_test_id("balance-total")).to_have_text("¥200.00")
    shot(page, "refund")
    assert balance(admin, card)["total"] == 20000


def test_the_store_manager_sees_todays_takings(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 0)
    log_in(page, shop["manager"], expect_path="/counter")
    takings = page.get_by_test_id("takings")
    expect(takings).to_be_visible()
    before = page.get_by_test_id("takings-topups").inner_text()
    identify(page, member["card"]["card_no"])
    open_task(page, "充值")
    page.get_by_label("金额（¥）").fill("12.34")
    expect(page.get_by_test_id("bonus-preview")).to_contain_text("没有适用的赠送规则")
    page.get_by_role("button", name="确认充值").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("takings-topups")).not_to_have_text(before)  # refreshed after the top-up
    shot(page, "counter-manager")


def test_a_store_terminal_logs_in_with_its_client_credentials(page: Page, shop: dict, admin: Admin):
    client_id, secret = admin.terminal(shop["store"]["code"])
    page.goto("/")
    page.get_by_role("tab", name="门店终端").click()
    page.get_by_label("客户端 ID").fill(client_id)
    page.get_by_label("客户端密钥").fill(secret)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/counter$"))
    expect(page.locator(".whoami")).to_contain_text("门店终端")


def test_english_is_one_click_away_and_remembered(context: BrowserContext, shop: dict):
    page = context.new_page()
    log_in(page, shop["clerk"], expect_path="/counter")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Identify a member")).to_be_visible()
    expect(page.get_by_role("tab", name="Check out")).to_be_visible()
    shot(page, "counter-en")
    other = context.new_page()
    other.goto("/counter")
    expect(other.get_by_role("button", name="Log out")).to_be_visible()
    assert other.locator("html").get_attribute("lang") == "en"
    other.get_by_role("link", name="中文").click()
    expect(other.get_by_role("heading", name="识别会员")).to_be_visible()


def test_logout_then_back_shows_the_login_page(page: Page, shop: dict):
    log_in(page, shop["clerk"], expect_path="/counter")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_role("heading", name="识别会员")).to_have_count(0)
    page.goto("/counter")
    expect(page).to_have_url(re.compile(r"/\?next=/counter$"))


def test_a_form_without_its_csrf_token_is_refused(page: Page, shop: dict, admin: Admin):
    member = funded_member(admin, shop["store"]["code"], 5000)
    log_in(page, shop["clerk"], expect_path="/counter")
    r = page.request.post("/counter/topup", form={"card_no": member["card"]["card_no"], "amount": "10",
                                                  "channel": "cash", "idempotency_key": uuid.uuid4().hex})  # fmt: skip
    assert r.status == 403
    assert balance(admin, member["card"]["card_no"])["total"] == 5000
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["cc_access"]["httpOnly"] and cookies["cc_access"]["sameSite"] == "Strict"
    assert cookies["cc_refresh"]["httpOnly"] and cookies["cc_refresh"]["sameSite"] == "Strict"
