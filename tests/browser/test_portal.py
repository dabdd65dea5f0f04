"""The distributor portal in a real Chromium: its own price level only, search, category and
paging, on a desktop and a phone; nothing of the counter or the console."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import PHONE, Admin, shot
from tests.browser.pages import log_in


@pytest.fixture(scope="module")
def catalog(admin: Admin) -> dict:
    tag = uuid.uuid4().hex[:6]
    tea = admin.product(
        name=f"碧螺春 {tag}", category=f"茶叶{tag}", retail_price=9900, price_levels={"A": 6000, "B": 7000}
    )
    cake = admin.product(
        name=f"绿豆糕 {tag}", category=f"点心{tag}", retail_price=2500, price_levels={"A": 1500, "B": 1800}
    )
    return {"tag": tag, "tea": tea, "cake": cake, "a": admin.distributor(price_level="A")}


def row(page: Page, sku: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-sku="{sku}"]')


def test_a_distributor_sees_its_own_level_and_never_another(page: Page, catalog: dict):
    log_in(page, catalog["a"], expect_path="/portal")
    search = page.get_by_role("searchbox", name="搜索")
    search.fill(catalog["tag"])
    search.press("Enter")
    expect(row(page, catalog["tea"]["sku"])).to_contain_text("¥60.00")
    expect(row(page, catalog["cake"]["sku"])).to_contain_text("¥15.00")
    expect(row(page, catalog["tea"]["sku"]).locator("[data-price-kind]")).to_have_attribute(
        "data-price-kind", "wholesale_A"
    )
    html = page.content()
    for other in ("¥99.00", "¥70.00", "¥25.00", "¥18.00"):  # retail and level B
        assert other not in html, other
    shot(page, "portal-zh")

    page.get_by_label("分类").select_option(label=f"茶叶{catalog['tag']}")
    expect(row(page, catalog["cake"]["sku"])).to_have_count(0)
    expect(row(page, catalog["tea"]["sku"])).to_be_visible()

    page.get_by_role("link", name="我的账户").click()
    expect(page.locator("main")).to_contain_text("A")
    for path in ("/counter", "/console"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="无权操作")).to_be_visible()


def test_the_portal_works_on_a_phone_in_english(new_context, catalog: dict):
    page = new_context(viewport=PHONE, locale="en-US").new_page()
    log_in(page, catalog["a"], expect_path="/portal")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Wholesale catalog")).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill(catalog["tag"])
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(row(page, catalog["tea"]["sku"])).to_contain_text("¥60.00")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"
    shot(page, "portal-en-phone")


def test_paging_walks_the_whole_catalog(page: Page, catalog: dict, admin: Admin):
    tag = uuid.uuid4().hex[:6]
    skus = {
        admin.product(name=f"paged {tag} {i}", category="paged", price_levels={"A": 100 + i})["sku"]
        for i in range(23)
    }
    log_in(page, catalog["a"], expect_path="/portal")
    page.get_by_role("searchbox", name="搜索").fill(f"paged {tag}")
    page.get_by_role("searchbox", name="搜索").press("Enter")
    seen: set[str] = set()
    rows = page.locator("tr[data-sku]")
    expect(rows).to_have_count(20)  # the first page of the search, not the whole catalog before it
    expect(rows.filter(has_not_text=f"paged {tag}")).to_have_count(0)
    while True:
        seen |= {r.get_attribute("data-sku") for r in rows.all()}
        nxt = page.get_by_role("link", name="下一页")
        if nxt.count() == 0:
            break
        with page.expect_navigation():
            nxt.click()
        expect(page.get_by_role("link", name="第一页")).to_be_visible()
    assert seen == skus
    assert re.search(r"cursor=", page.url)
