"""Steps a person takes on the pages, written once for the browser tests: log in, identify a
card at the counter, open a counter task. Each waits for what the person would see."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User


def log_in(page: Page, user: User, *, expect_path: str | None = None) -> None:
    page.goto("/")
    page.get_by_label(re.compile("用户名|User name")).fill(user.username)
    page.get_by_label(re.compile("密码|Password")).fill(user.password)
    page.get_by_role("button", name=re.compile("^(登录|Log in)$")).click()
    if expect_path:
        expect(page).to_have_url(re.compile(re.escape(expect_path) + "$"))


def identify(page: Page, number: str) -> None:
    box = page.get_by_label(re.compile("卡号或手机号|Card number or phone"))
    box.fill(number)
    box.press("Enter")
    expect(page.locator("#member")).to_contain_text(number[-4:])
    settled(page)


def settled(page: Page) -> None:
    """The page has loaded (htmx has bound its triggers: a field typed into before that sends
    nothing) and htmx has swapped and settled what it loaded."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def open_task(page: Page, name: str) -> None:
    """A counter task by its tab's name (收银, 充值, 开卡, 卡务, 记录, 退款)."""
    page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
    settled(page)


def scan(page: Page, sku: str) -> None:
    """A barcode scanner: the SKU's digits, then Enter."""
    field = page.get_by_label(re.compile("扫描或输入商品编码|Scan or type a SKU"))
    field.fill(sku)
    field.press("Enter")
    expect(page.locator(f'tr[data-sku="{sku}"]')).to_be_visible()
    settled(page)


def funded_member(admin: Admin, store: str, amount: int) -> dict[str, Any]:
    """A member of ``store`` whose card holds ``amount`` fen (topped up over REST)."""
    member = admin.member(store)
    card = member["card"]["card_no"]
    if amount:
        r = admin.call("POST", f"/api/v1/cards/{card}/top-ups", json={"amount": amount, "channel": "cash"},
                       headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        assert r.status_code == 201, r.text
    return member


def balance(admin: Admin, card_no: str) -> dict[str, int]:
    r = admin.call("GET", f"/api/v1/cards/{card_no}/balance")
    assert r.status_code == 200, r.text
    return r.json()
