"""Every main screen in English (one click away from the default Chinese), with a screenshot of
each for the reader of `.run/screenshots/`: login, counter (check out, top up, register, card
service), console and portal."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, expect

from tests.browser.helpers import Admin, User, shot
from tests.browser.pages import funded_member, identify, log_in, open_task, scan

DEV_ADMIN = User("admin", "admin", "hq_admin", "HQ")  # the development HQ admin


def test_the_main_screens_read_in_english(new_context, admin: Admin):
    _, store = admin.region_and_store()
    clerk = admin.clerk(store["code"])
    distributor = admin.distributor(price_level="B")
    product = admin.product(name="Jasmine tea", retail_price=4200, price_levels={"A": 3000, "B": 3300})
    member = funded_member(admin, store["code"], 10000)
    context: BrowserContext = new_context(locale="en-US")
    page = context.new_page()

    page.goto("/")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "login-en")

    log_in(page, clerk, expect_path="/counter")
    identify(page, member["card"]["card_no"])
    open_task(page, "Check out")
    # The scan field offers the catalog by name (a datalist): pick the product without its SKU.
    expect(page.locator(f'#catalog-pick option[value="{product["sku"]}"]')).to_have_text(
        "Jasmine tea · ¥42.00"
    )
    scan(page, product["sku"])
    expect(page.get_by_test_id("total-due")).to_have_text("¥42.00")
    expect(page.get_by_role("button", name=re.compile(r"^Pay ¥42\.00$"))).to_be_visible()
    shot(page, "counter-checkout-en")
    open_task(page, "Top up")
    page.get_by_label("Amount (¥)").fill("88")
    expect(page.get_by_test_id("bonus-preview")).to_contain_text("No top-up bonus applies to ¥88.00")
    shot(page, "counter-topup-en")
    open_task(page, "Register")
    expect(page.get_by_role("button", name="Register and identify")).to_be_visible()
    shot(page, "counter-register-en")
    open_task(page, "Card service")
    expect(page.get_by_role("button", name="Report lost")).to_be_enabled()
    shot(page, "counter-card-en")
    page.get_by_role("button", name="Log out").click()

    log_in(page, DEV_ADMIN, expect_path="/console/dashboard")
    page.get_by_role("link", name="Organisation").click()
    expect(page.get_by_role("heading", name="Console")).to_be_visible()
    expect(page.get_by_role("heading", name="Add a staff account")).to_be_visible()
    shot(page, "console-en")
    page.get_by_role("button", name="Log out").click()

    log_in(page, distributor, expect_path="/portal")
    page.get_by_role("searchbox", name="Search").fill("Jasmine")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.locator(f'tr[data-sku="{product["sku"]}"]')).to_contain_text("¥33.00")
    shot(page, "portal-en")
