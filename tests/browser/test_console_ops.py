"""The console's approvals (审批), risk (风险) and reports (报表) in a real Chromium, through the
pages: an adjustment over the threshold waits for a second HQ admin, one is rejected with a
reason (it leaves the list, nothing moves, it can no longer be approved), a risk alert is
acknowledged with a note, and the sales report (with its XLSX) shows a checkout of the test."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from kit.config import Settings
from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import balance, funded_member, log_in, settled

THRESHOLD = Settings().wallet_adjustment_approval_threshold  # the suite's default
ADMIN = User("admin", "admin", "hq_admin", "HQ")


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    region, store = admin.region_and_store()
    return {
        "region": region,
        "store": store,
        "clerk": admin.clerk(store["code"]),
        "manager": admin.store_manager(store["code"]),
    }


def to_console(page: Page, user: User) -> None:
    """Log in as an HQ admin: it lands on one of the console's pages."""
    log_in(page, user)
    expect(page).to_have_url(re.compile(r"/console(/\w+)?$"))


def test_an_adjustment_over_the_threshold_waits_for_a_second_hq_admin(page: Page, shop: dict, admin: Admin):
    errors = page_errors(page)
    member = funded_member(admin, shop["store"]["code"], 0)
    card = member["card"]["card_no"]
    amount = THRESHOLD + 12_345  # fen, over the threshold
    to_console(page, ADMIN)
    page.locator(".topnav").get_by_role("link", name="审批", exact=True).click()
    expect(page.get_by_role("heading", name="审批", exact=True)).to_be_visible()

    # A bad amount comes back next to its field.
    page.get_by_label("卡号").fill(card)
    page.get_by_label(re.compile("^金额")).fill("abc")
    page.get_by_label("原因").fill("系统故障补偿")
    page.get_by_role("button", name="提交调整申请").click()
    expect(page.locator("#f-adj-amount-error")).to_contain_text("请输入非零金额")
    settled(page)

    page.get_by_label(re.compile("^金额")).fill(f"{amount / 100:.2f}")
    page.get_by_role("button", name="提交调整申请").click()
    expect(page.get_by_role("status").filter(has_text="超过审批阈值")).to_be_visible()
    settled(page)
    row = page.locator("#pending tr", has_text=card)
    expect(row).to_have_count(1)
    assert balance(admin, card)["total"] == 0
    shot(page, "console-approvals-zh")

    # Its maker cannot approve it: the service's refusal is shown, nothing changes.
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="批准").click()
    expect(page.get_by_test_id("refused")).to_contain_text("须由另一位总部管理员审批")
    expect(page.get_by_test_id("refused")).to_contain_text("cannot approve its own")
    settled(page)
    expect(page.locator("#pending tr", has_text=card)).to_have_count(1)
    assert balance(admin, card)["total"] == 0
    shot(page, "console-approvals-refused")

    # A second HQ admin approves it, once; the balance changes exactly once.
    second = admin.user("hq_admin", "HQ")
    page.context.clear_cookies()
    to_console(page, second)
    page.goto("/console/approvals")
    row = page.locator("#pending tr", has_text=card)
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="批准").click()
    expect(page.get_by_role("status").filter(has_text="已批准")).to_be_visible()
    settled(page)
    expect(page.locator("#pending tr", has_text=card)).to_have_count(0)
    expect(page.locator("#applied tr", has_text=card)).to_contain_text(second.username)
    assert balance(admin, card)["principal"] == amount
    page.reload()  # a reload sends nothing again
    assert balance(admin, card)["principal"] == amount
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


def test_a_rejected_adjustment_leaves_the_list_moves_nothing_and_cannot_be_approved(
    page: Page, shop: dict, admin: Admin
):
    errors = page_errors(page)
    card = funded_member(admin, shop["store"]["code"], 5_000)["card"]["card_no"]
    amount = THRESHOLD + 6_789
    r = admin.call("POST", "/api/v1/wallet/adjustments", json={"card_no": card, "amount": amount, "reason": "录入错误"},
                   headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 202, r.text
    adjustment = r.json()
    to_console(page, ADMIN)  # the admin who requested it: rejecting withdraws it
    page.goto("/console/approvals")
    stale = page.context.new_page()  # a second tab that still lists it
    stale.goto("/console/approvals")
    row = page.locator("#pending tr", has_text=card)
    expect(row.get_by_role("button", name="驳回")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("has no way to reject")

    # Without a reason it is refused next to the field, and still waits.
    row.get_by_label("驳回原因").fill("   ")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="驳回").click()
    expect(page.locator(f"#f-reject-{adjustment['id']}-error")).to_contain_text("请填写驳回原因")
    settled(page)

    row = page.locator("#pending tr", has_text=card)
    row.get_by_label("驳回原因").fill("重复申请")
    messages: list[str] = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    row.get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status").filter(has_text="已驳回")).to_be_visible()
    settled(page)
    assert card in messages[0] and "余额不会变动" in messages[0]
    expect(page.locator("#pending tr", has_text=card)).to_have_count(0)
    after = balance(admin, card)
    assert (after["principal"], after["bonus"], after["total"]) == (5_000, 0, 5_000)
    rejected = admin.call("GET", "/api/v1/wallet/adjustments", params={"status": "rejected"}).json()["items"]
    [mine] = [a for a in rejected if a["id"] == adjustment["id"]]
    assert (mine["rejection_reason"], mine["rejected_by"]) == ("重复申请", "admin")
    shot(page, "console-approvals-rejected")

    # Approving it afterwards is refused: from the stale tab, and by a second HQ admin over REST.
    stale.once("dialog", lambda d: d.accept())
    stale.locator("#pending tr", has_text=card).get_by_role("button", name="批准").click()
    expect(stale.get_by_test_id("refused")).to_contain_text("已不在待审批状态")
    second = admin.user("hq_admin", "HQ")
    token = admin.login(second.username, second.password)
    r = admin.call("POST", f"/api/v1/wallet/adjustments/{adjustment['id']}/approve",
                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 409, r.text
    assert balance(admin, card)["total"] == 5_000
    stale.close()
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


def test_risk_alert_is_listed_with_its_transaction_and_acknowledged_with_a_note(
    page: Page, shop: dict, admin: Admin
):
    errors = page_errors(page)
    limit = 450_000 + uuid.uuid4().int % 1000  # fen, under the largest top-up; the tests' own stay below
    r = admin.call("POST", "/api/v1/risk/rules", json={
        "name": f"大额充值-{uuid.uuid4().hex[:4]}", "kind": "single_amount", "threshold": limit,
        "action": "alert", "applies_to": "topup",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    rule = r.json()
    member = funded_member(admin, shop["store"]["code"], limit + 100)
    card = member["card"]["card_no"]
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console")
    page.locator(".topnav").get_by_role("link", name="风险", exact=True).click()
    group = page.locator("tbody.alert-group", has_text=card)
    expect(group).to_have_count(1)
    expect(group).to_contain_text(rule["name"])

    group.get_by_role("button", name=re.compile("^查看卡 .* 的交易$")).click()
    expect(group.locator("tr.raised")).to_contain_text("触发预警")
    settled(page)
    shot(page, "console-risk-zh")

    group.get_by_label("备注").fill("已电话核实，会员本人充值")
    group.get_by_role("button", name="确认处理").click()
    expect(page.get_by_role("status").filter(has_text="已确认处理")).to_be_visible()
    settled(page)
    expect(page.locator("tbody.alert-group", has_text=card)).to_have_count(0)
    page.get_by_role("link", name="已处理", exact=True).click()
    expect(page.locator("tbody.alert-group", has_text=card)).to_contain_text(shop["manager"].username)
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


def test_sales_report_shows_a_checkout_and_downloads_it_and_a_store_sees_only_itself(
    page: Page, shop: dict, admin: Admin
):
    errors = page_errors(page)
    product = admin.product(retail_price=4321)
    _, other_store = admin.region_and_store()
    clerk = Admin(admin.http.base_url, shop["clerk"].username, shop["clerk"].password)
    with clerk:
        r = clerk.call("POST", "/api/v1/checkouts", json={
            "lines": [{"sku": product["sku"], "qty": 2}], "payments": [{"method": "cash", "amount": 8642}],
        }, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        assert r.status_code == 201, r.text
    store_path = shop["store"]["path"]

    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console")
    page.locator(".topnav").get_by_role("link", name="报表", exact=True).click()
    sales = page.locator("#sales")
    expect(sales.locator("caption")).to_contain_text("销售")
    row = sales.locator(f'tr[data-key="{store_path}"]')
    expect(row).to_contain_text("¥86.42")
    # A store manager sees only its own store in every report.
    assert sales.locator("tbody tr").count() == 1
    expect(page.locator("#summary")).not_to_contain_text(other_store["path"])
    expect(page.locator(f'#summary tr[data-path="{store_path}"]')).to_be_visible()
    for path in page.locator("#settlement tbody tr[data-path]").evaluate_all(
        "rows => rows.map(r => r.dataset.path)"
    ):
        assert path == store_path
    shot(page, "console-reports-zh")

    with page.expect_download() as download:
        page.get_by_test_id("sales-xlsx").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(book["sales"].iter_rows(values_only=True))
    mine = [r for r in rows if r[0] == store_path]
    assert mine and mine[0][1] == 1 and mine[0][4] == 8642, rows  # checkouts, total_due (fen)

    with page.expect_download() as download:
        page.get_by_test_id("summary-xlsx").click()
    summary = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert any(r[1] == store_path for r in summary.active.iter_rows(values_only=True))
    with page.expect_download() as download:
        page.get_by_test_id("settlement-xlsx").click()
    assert download.value.suggested_filename == "settlement.xlsx"

    # A date that does not parse is refused next to its field.
    page.goto("/console/reports?from=2025-13-40")
    expect(page.locator("#f-rep-from-error")).to_be_visible()
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx


@pytest.mark.parametrize("path", ["/console/approvals", "/console/risk", "/console/reports"])
def test_in_english(new_context, path: str):  # type: ignore[no-untyped-def]
    context = new_context(locale="en-US")
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    to_console(page, ADMIN)
    page.goto(path)
    heading = {
        "/console/approvals": "Approvals",
        "/console/risk": "Risk alerts",
        "/console/reports": "Reports",
    }
    expect(page.get_by_role("heading", name=heading[path], exact=True)).to_be_visible()
    expect(
        page.locator(".topnav").get_by_role("link", name=re.compile("^(Approvals|Risk|Reports)$"))
    ).to_have_count(3)
    shot(page, f"console-{path.rsplit('/', 1)[1]}-en")
