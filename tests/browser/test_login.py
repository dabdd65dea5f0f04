"""The login page in Chromium: staff land on their role's home (the HQ admin on the console's
dashboard), a wrong password stays on the page, and nothing is loaded from off the machine
(htmx and the styles are the gateway's own)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import PHONE, Admin, login, page_errors, shot


def test_the_hq_admin_logs_in_to_the_console(page: Page, blocked_requests: list[str]):
    errors = page_errors(page)
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    shot(page, "login")
    login(page, "admin", "admin")
    assert urlsplit(page.url).path == "/console/dashboard", page.url
    page.get_by_role("link", name="组织与设置").click()
    expect(page).to_have_url(re.compile(r"/console$"))
    page.wait_for_load_state("networkidle")
    shot(page, "console-home")
    assert blocked_requests == [], blocked_requests
    assert errors == [], errors


def test_a_clerk_lands_on_the_counter(admin: Admin, page: Page, blocked_requests: list[str]):
    _, store = admin.region_and_store()
    clerk = admin.clerk(store["code"])
    login(page, clerk.username, clerk.password)
    assert urlsplit(page.url).path == "/counter", page.url
    page.wait_for_load_state("networkidle")
    shot(page, "counter-home")
    assert blocked_requests == [], blocked_requests


def test_a_wrong_password_stays_on_the_login_page(page: Page):
    login(page, "admin", "not-the-password")
    assert urlsplit(page.url).path in ("/", "/login"), page.url
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator('#login-form input[name="password"]')).to_have_value("")


def test_the_login_page_fits_a_phone(new_context: Callable[..., BrowserContext], blocked_requests: list[str]):
    page = new_context(viewport=PHONE).new_page()
    page.goto("/")
    form = page.locator("#login-form")
    expect(form).to_be_visible()
    box = form.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "login-phone")
    assert blocked_requests == [], blocked_requests


def test_a_distributor_sees_its_own_wholesale_price_on_the_portal(admin: Admin, page: Page):
    region = admin.region()
    distributor = admin.distributor(region["code"], price_level="B")
    product = admin.product(retail_price=9900, price_levels={"A": 6000, "B": 7000})
    login(page, distributor.username, distributor.password)
    assert urlsplit(page.url).path == "/portal", page.url
    page.goto(f"/portal?q={product['sku']}")
    price = page.locator(f'tr[data-sku="{product["sku"]}"] td[data-price-kind]')
    expect(price).to_have_attribute("data-price-kind", "wholesale_B")
    expect(price).to_contain_text("70.00")
    shot(page, "portal-catalog")


def test_the_admin_helper_makes_units_staff_terminals_and_members(admin: Admin):
    region, store = admin.region_and_store()
    assert store["path"] == f"HQ/{region['code']}/{store['code']}"
    manager = admin.store_manager(store["code"])
    assert admin.login(manager.username, manager.password)
    client_id, secret = admin.terminal(store["code"])
    assert client_id and secret
    member = admin.member(store["code"])
    assert member["member_no"] and member["home_store"]
