"""A day of a chain run from the console alone, in Chromium, through the pages only: a new HQ
admin (made by the first one on the organisation page) sets up a region, a store, a clerk and a
product, a top-up bonus rule (seeing its preview) and an earn rule; watches the dashboard move as
the clerk works the counter (registers a member, tops up, checks out); asks for a stored-value
adjustment over the approval threshold that a second HQ admin approves; reads the reports and
downloads them. Only the final checks read the REST API."""

from __future__ import annotations

import io
import re
import uuid
from decimal import Decimal

from openpyxl import load_workbook
from playwright.sync_api import BrowserContext, Page, expect

from kit.config import Settings
from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, open_task, scan, settled

FIRST_ADMIN = User("admin", "admin", "hq_admin", "HQ")
PASSWORD = "day-one-pass"
THRESHOLD = Settings().wallet_adjustment_approval_threshold


def money(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


def tag() -> str:
    return uuid.uuid4().hex[:6].upper()


def banner(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".banner-ok")


def add_staff(page: Page, username: str, role: str, unit: str) -> None:
    page.goto("/console")
    form = page.locator('form[action="/console/users"]')
    form.locator("#f-user-username").fill(username)
    form.locator("#f-user-password").fill(PASSWORD)
    form.locator("#f-role").select_option(role)
    form.locator("#f-org_unit").select_option(unit)
    form.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator(f'#staff-list tr[data-username="{username}"]')).to_be_visible()


def add_unit(page: Page, code: str, name: str, kind: str, parent: str) -> None:
    page.goto("/console")
    form = page.locator("#unit-form")
    form.locator("#f-unit-code").fill(code)
    form.locator("#f-unit-name").fill(name)
    form.locator("#f-kind").select_option(kind)
    form.locator("#f-parent").select_option(parent)
    form.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator(f'#org-tree li[data-code="{code}"]')).to_be_visible()


def region_row(page: Page, path: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="ranking-table"] tr[data-path="{path}"] td')


def test_a_new_hq_admin_runs_the_chain_for_a_day_from_the_console(
    new_context, admin: Admin, blocked_requests: list[str]
):  # type: ignore[no-untyped-def]
    hq: BrowserContext = new_context(reduced_motion="reduce")  # charts drawn at once for the shots
    page = hq.new_page()
    errors = page_errors(page)
    t = tag()
    boss = User(f"hq_{t.lower()}", PASSWORD, "hq_admin", "HQ")

    # The first HQ admin makes the new one an account.
    log_in(page, FIRST_ADMIN, expect_path="/console/dashboard")
    add_staff(page, boss.username, "hq_admin", "HQ")
    page.context.clear_cookies()

    # The new HQ admin sets up the organisation: a region, a store in it, a clerk, a product.
    log_in(page, boss, expect_path="/console/dashboard")
    region, store = f"R{t}", f"S{t}"
    add_unit(page, region, "华东大区", "region", "HQ")
    add_unit(page, store, "杭州西湖店", "store", region)
    nested = page.locator(f'#org-tree li[data-code="{region}"] li[data-code="{store}"]')
    expect(nested).to_be_visible()
    clerk = User(f"clerk_{t.lower()}", PASSWORD, "clerk", store)
    add_staff(page, clerk.username, "clerk", store)
    sku = f"69{uuid.uuid4().int % 10**11:011d}"
    form = page.locator("#product-form")
    form.locator("#f-product-sku").fill(sku)
    form.locator("#f-product-name").fill("西湖龙井 100g")
    form.locator("#f-product-retail_price").fill("128")
    form.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_text(sku, exact=True)).to_be_visible()
    shot(page, "day-organisation")

    # Rules: 充500送50 at the store, its preview while typing; 1 point per yuan everywhere in the region.
    page.goto("/console/rules/bonus")
    form = page.locator("#bonus-form")
    form.get_by_label("规则名称").fill(f"充500送50-{t}")
    form.get_by_label("适用范围").select_option(store)
    form.get_by_label("充值满（¥）").fill("500")
    form.get_by_label("赠送（¥）").fill("50")
    expect(page.get_by_test_id("preview")).to_contain_text("充值 ¥500.00，赠送 ¥50.00。")
    form.get_by_role("button", name="添加充值赠送规则").click()
    expect(banner(page)).to_contain_text("已创建充值赠送规则")
    settled(page)
    page.goto("/console/rules?tab=earn")
    form = page.locator("#earn-form")
    form.get_by_label("规则名称").fill(f"每元1分-{t}")
    form.get_by_label("适用范围").select_option(region)
    form.get_by_label("每元积分").fill("1")
    form.get_by_role("button", name="添加积分规则").click()
    expect(banner(page)).to_contain_text(f"每元1分-{t}")
    settled(page)
    shot(page, "day-rules")

    # The dashboard before the counter opens: the new region has sold nothing.
    page.goto("/console/dashboard")
    path = f"HQ/{region}"
    expect(region_row(page, path).nth(1)).to_have_text(money(0))

    # The clerk works the counter in a browser of its own.
    counter = new_context().new_page()
    log_in(counter, clerk, expect_path="/counter")
    open_task(counter, "开卡")
    counter.get_by_role("textbox", name="姓名", exact=True).fill("王五")
    counter.get_by_role("textbox", name="手机号", exact=True).fill(f"137{uuid.uuid4().int % 10**8:08d}")
    counter.get_by_role("button", name="开卡并识别").click()
    expect(counter.locator("#member")).to_contain_text("已注册会员")
    card = counter.locator("#current-card").input_value()
    open_task(counter, "充值")
    counter.get_by_label("金额（¥）").fill("500")
    expect(counter.get_by_test_id("bonus-preview")).to_contain_text("赠送 ¥50.00")
    counter.get_by_role("button", name="确认充值").click()
    expect(counter.get_by_test_id("balance-left")).to_have_text("¥550.00")
    open_task(counter, "收银")
    scan(counter, sku)
    expect(counter.get_by_test_id("total-due")).to_have_text("¥128.00")
    counter.get_by_label("储值支付（¥）").fill("128")
    counter.get_by_role("button", name=re.compile(r"^收款 ¥")).click()
    expect(counter.get_by_test_id("receipt-total")).to_have_text("¥128.00")
    expect(counter.get_by_test_id("points-earned")).to_have_text("128")
    expect(counter.get_by_test_id("balance-left")).to_have_text("¥422.00")
    shot(counter, "day-counter-receipt")

    # The dashboard has moved: the region's row shows the sale, the top-up and the new member.
    page.reload()
    row = region_row(page, path)
    expect(row.nth(1)).to_have_text(money(12_800))
    expect(row.nth(2)).to_have_text("1")
    expect(row.nth(3)).to_have_text(money(50_000))
    expect(row.nth(4)).to_have_text("1")
    shot(page, "day-dashboard")

    # An adjustment over the threshold waits for a second HQ admin.
    amount = THRESHOLD + 1_000
    page.goto("/console/approvals")
    page.get_by_label("卡号").fill(card)
    page.get_by_label(re.compile("^金额")).fill(f"{amount / 100:.2f}")
    page.get_by_label("原因").fill("开业活动补偿")
    page.get_by_role("button", name="提交调整申请").click()
    expect(page.get_by_role("status").filter(has_text="超过审批阈值")).to_be_visible()
    settled(page)
    expect(page.locator("#pending tr", has_text=card)).to_have_count(1)
    second = new_context().new_page()
    log_in(second, FIRST_ADMIN, expect_path="/console/dashboard")
    second.goto("/console/approvals")
    second.once("dialog", lambda d: d.accept())
    second.locator("#pending tr", has_text=card).get_by_role("button", name="批准").click()
    expect(second.get_by_role("status").filter(has_text="已批准")).to_be_visible()
    page.reload()
    expect(page.locator("#applied tr", has_text=card)).to_contain_text(FIRST_ADMIN.username)

    # The reports of the day: the store's sale, and the workbook to take away.
    page.goto("/console/reports")
    sales = page.locator("#sales")
    expect(sales.locator(f'tr[data-key="HQ/{region}/{store}"]')).to_contain_text("¥128.00")
    shot(page, "day-reports")
    with page.expect_download() as download:
        page.get_by_test_id("sales-xlsx").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(book["sales"].iter_rows(values_only=True))
    assert any(r[0] == f"HQ/{region}/{store}" and r[4] == 12_800 for r in rows), rows

    # What the services hold afterwards: the money moved once, the adjustment applied once.
    balance = admin.call("GET", f"/api/v1/cards/{card}/balance").json()
    assert balance["total"] == 55_000 - 12_800 + amount, balance
    assert blocked_requests == [], blocked_requests
    assert [e for e in errors if "Failed to load resource" not in e] == []
