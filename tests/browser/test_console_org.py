"""The console's organisation page in a real Chromium: HQ builds region → sub-region → store
from the tree's own form and sees them nested; a region manager sees only its subtree; a
terminal's secret is rotated and the counter logs in with the new one, the old one refused; a
product's region price override is typed in yuan, refused when negative or for an unknown unit,
and listed; distributors are listed apart from staff with their editable price level."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import Admin, User, code, login, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


def script_errors(errors: list[str]) -> list[str]:
    """The page's errors but the browser's note on a refused form (a 4xx answer)."""
    return [e for e in errors if not re.search(r"status of 4\d\d", e)]


def node(page: Page, *codes: str):  # type: ignore[no-untyped-def]
    """The tree item of the last code, found nested under the ones before it."""
    selector = " ".join(f'li[data-code="{c}"]' for c in codes)
    return page.locator(f"#org-tree {selector}")


def add_unit(page: Page, unit_code: str, name: str, kind: str, parent: str) -> None:
    form = page.locator("#unit-form")
    form.locator('input[name="code"]').fill(unit_code)
    form.locator('input[name="name"]').fill(name)
    form.locator('select[name="kind"]').select_option(kind)
    form.locator('select[name="parent"]').select_option(parent)
    form.get_by_role("button", name="添加").click()
    expect(page.locator(".banner[role=status]")).to_contain_text(unit_code)


def unit(admin: Admin, unit_code: str) -> dict:
    r = admin.call("GET", f"/api/v1/org-units/{unit_code}")
    assert r.status_code == 200, r.text
    return r.json()


def test_hq_builds_a_nested_tree_and_renames_and_closes_a_unit(page: Page, admin: Admin):
    errors = page_errors(page)
    region, sub, store = code("R"), code("N"), code("S")
    log_in(page, ADMIN)
    page.goto("/console")
    # A code that is not one is refused next to the field, in Chinese, and nothing is made.
    form = page.locator("#unit-form")
    form.locator('input[name="code"]').fill("east 1")
    form.locator('input[name="name"]').fill("华东")
    form.get_by_role("button", name="添加").click()
    expect(page.locator("#f-unit-code-error")).to_contain_text("大写字母")
    assert admin.call("GET", "/api/v1/org-units/east 1").status_code == 404
    add_unit(page, region, "华东大区", "region", "HQ")
    add_unit(page, sub, "上海区", "region", region)
    add_unit(page, store, "徐汇店", "store", sub)
    leaf = node(page, "HQ", region, sub, store)
    expect(leaf).to_be_visible()
    assert leaf.get_attribute("data-depth") == "3"
    expect(node(page, region).locator("summary").first).to_contain_text("门店：1")
    # The parent choices are the tree's open regions, indented by depth.
    options = page.locator("#f-parent option").all_inner_texts()
    assert any(o.strip().startswith(sub) and o.startswith("\u3000\u3000") for o in options), options
    # Collapsing a region hides what lies below it.
    node(page, region).locator("summary code").first.click()
    expect(node(page, region, sub)).to_be_hidden()
    node(page, region).locator("summary code").first.click()
    expect(node(page, region, sub, store)).to_be_visible()

    # The store count link shows the region's subtree only, where it can be renamed and closed.
    node(page, region).locator("a.store-count").first.click()
    expect(page.locator("#focus-note")).to_contain_text(region)
    expect(page.locator("#org-tree li[data-code='HQ']")).to_have_count(0)
    shot(page, "console-org-tree-zh")
    page.goto(f"/console?unit={sub}")
    edit = page.locator("#unit-edit")
    edit.get_by_label(re.compile("^名称")).fill("浦西区")
    edit.get_by_role("button", name="重命名").click()
    expect(page.locator(".banner[role=status]")).to_contain_text("浦西区")
    assert unit(admin, sub)["name"] == "浦西区"
    page.goto(f"/console?unit={store}")
    page.once("dialog", lambda d: d.accept())
    page.locator("#unit-edit").get_by_role("button", name=f"关闭 {store}").click()
    expect(page.locator(".banner[role=status]")).to_contain_text("已关闭")
    assert unit(admin, store)["active"] is False
    expect(node(page, store).locator(".closed")).to_be_visible()
    settled(page)
    page.locator("#unit-edit").get_by_role("button", name=f"重新启用 {store}").click()
    expect(page.locator(".banner[role=status]")).to_contain_text(f"已重新启用 {store}")
    assert unit(admin, store)["active"] is True
    assert script_errors(errors) == []


def test_a_region_manager_sees_only_its_subtree(page: Page, admin: Admin):
    mine, other = admin.region(), admin.region()
    sub = admin.org_unit("region", mine["code"])
    store = admin.store(sub["code"])
    foreign = admin.store(other["code"])
    manager = admin.user("region_manager", mine["code"])
    admin.clerk(store["code"])
    log_in(page, manager)
    page.goto("/console")
    expect(node(page, mine["code"], sub["code"], store["code"])).to_be_visible()
    expect(page.locator("#org-tree")).not_to_contain_text(other["code"])
    expect(page.locator("#org-tree")).not_to_contain_text(foreign["code"])
    expect(page.locator("#org-tree li[data-code='HQ']")).to_have_count(0)
    parents = page.locator("#f-parent option").evaluate_all("os => os.map(o => o.value)")
    assert parents == [mine["code"], sub["code"]], parents
    # Its own region is changed by HQ only; the sub-region below it is its to change.
    expect(node(page, mine["code"]).locator("summary").first).to_contain_text("员工：2")
    page.goto(f"/console?unit={mine['code']}")
    expect(page.locator("#unit-edit")).to_have_count(0)
    page.goto(f"/console?unit={sub['code']}")
    expect(page.locator("#unit-edit")).to_be_visible()
    # Another region's unit is not offered: the page shows the manager's own tree.
    page.goto(f"/console?unit={other['code']}")
    expect(page.locator("#focus-note")).to_have_count(0)
    expect(page.locator("#org-tree")).not_to_contain_text(other["code"])
    shot(page, "console-org-region-zh")
    # Changing another region's unit or rotating its terminal's secret is "not found".
    their_terminal, their_secret = admin.terminal(foreign["code"])
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    renamed = page.request.post(
        f"/console/org-units/{other['code']}", form={"csrf": csrf, "op": "rename", "name": "x"}
    )
    assert renamed.status == 404
    rotated = page.request.post(f"/console/terminals/{their_terminal}/rotate-secret", form={"csrf": csrf})
    assert rotated.status == 404
    assert unit(admin, other["code"])["name"] == other["name"]
    token = admin.http.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                        "client_id": their_terminal, "client_secret": their_secret})  # fmt: skip
    assert token.status_code == 200, token.text


def test_rotating_a_terminal_secret_lets_the_counter_in_with_the_new_one_only(
    page: Page, admin: Admin, new_context: Callable[..., BrowserContext]
):
    errors = page_errors(page)
    _region, store = admin.region_and_store()
    client_id, old_secret = admin.terminal(store["code"], "二号收银台")
    manager = admin.store_manager(store["code"])
    log_in(page, manager)
    page.goto("/console/terminals")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="更换终端 二号收银台 的密钥").click()
    expect(page.get_by_role("heading", name="终端 二号收银台 已换发新密钥")).to_be_visible()
    new_secret = page.get_by_test_id("client-secret").input_value()
    assert new_secret and new_secret != old_secret
    settled(page)
    shot(page, "console-terminal-rotated-zh")

    counter = new_context().new_page()
    login(counter, client_id, old_secret, terminal=True)
    assert urlsplit(counter.url).path in ("/", "/login"), counter.url
    login(counter, client_id, new_secret, terminal=True)
    assert urlsplit(counter.url).path == "/counter", counter.url
    entries = admin.call("GET", "/api/v1/audit-log", params={"action": "terminal.rotate_secret",
                                                             "target_id": client_id}).json()["items"]  # fmt: skip
    assert [e["actor"] for e in entries] == [manager.username]
    assert script_errors(errors) == []


def test_a_product_with_a_region_price_override_lists_it(page: Page, admin: Admin):
    errors = page_errors(page)
    region, store = admin.region_and_store()
    sku = f"sku_{uuid.uuid4().hex[:10]}"
    log_in(page, ADMIN)
    page.goto("/console")
    form = page.locator("#product-form")
    form.locator('input[name="sku"]').fill(sku)
    form.locator('input[name="name"]').fill("碧螺春")
    form.locator('input[name="retail_price"]').fill("99")
    form.locator('input[name="price_levels"]').fill("A=60")
    form.locator("#f-region-unit-0").select_option(region["code"])
    form.locator("#f-region-price-0").fill("-5")
    form.get_by_role("button", name="添加一个区域价格").click()  # a second row, nothing saved
    form = page.locator("#product-form")
    expect(form.locator("#f-region-price-0")).to_have_value("-5")
    form.locator("#f-region-unit-1").select_option(store["code"])
    form.locator("#f-region-price-1").fill("80.5")
    form.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator("#f-region-price-0-error")).to_contain_text("不能为负")
    assert admin.call("GET", f"/api/v1/products/{sku}").status_code == 404  # nothing saved
    form = page.locator("#product-form")
    form.locator("#f-region-price-0").fill("88.50")
    form.get_by_role("button", name="添加", exact=True).click()
    row = page.locator(f'#product-list tr[data-sku="{sku}"]')
    expect(row.locator(".region-prices")).to_contain_text(f"{region['code']} ¥88.50")
    expect(row.locator(".region-prices")).to_contain_text(f"{store['code']} ¥80.50")
    got = admin.call("GET", f"/api/v1/products/{sku}").json()
    assert got["region_prices"] == {region["code"]: 8850, store["code"]: 8050}

    # Edit: drop the store's row; an unknown unit posted by hand is refused next to its row.
    row.get_by_role("link", name="编辑").click()
    form = page.locator("#product-form")
    expect(form.locator('input[name="sku"]')).to_have_value(sku)
    form.get_by_role("button", name="移除第 2 行").click()
    form = page.locator("#product-form")
    form.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".banner[role=status]")).to_contain_text(sku)
    assert admin.call("GET", f"/api/v1/products/{sku}").json()["region_prices"] == {region["code"]: 8850}
    shot(page, "console-org-products-zh")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = page.request.post("/console/products", form={
        "csrf": csrf or "", "sku": f"sku_{uuid.uuid4().hex[:10]}", "name": "茶", "retail_price": "10",
        "region_rows": "1", "region_unit_0": "NOSUCHUNIT", "region_price_0": "9", "op": "save",
    })  # fmt: skip
    assert refused.status == 422
    assert "没有区域或门店 NOSUCHUNIT" in refused.text()
    assert script_errors(errors) == []


def test_distributors_are_listed_apart_with_an_editable_level(page: Page, admin: Admin):
    region, store = admin.region_and_store()
    distributor = admin.distributor(region["code"], "A")
    clerk = admin.clerk(store["code"])
    log_in(page, ADMIN)
    page.goto(f"/console?unit={region['code']}")
    distributors, staff = page.locator("#distributor-list"), page.locator("#staff-list")
    expect(distributors).to_contain_text(distributor.username)
    expect(staff).to_contain_text(clerk.username)
    expect(staff).not_to_contain_text(distributor.username)
    expect(distributors).not_to_contain_text(clerk.username)
    # Staff filtered by role within the region: store managers only, so not the clerk.
    page.locator("#f-filter-role").select_option("store_manager")
    page.locator("#staff-filter").get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"role=store_manager"))
    expect(page.locator("#staff-list")).not_to_contain_text(clerk.username)

    row = page.locator(f'#distributor-list tr[data-username="{distributor.username}"]')
    row.locator('input[name="price_level"]').fill("b c")
    row.get_by_role("button", name="保存等级").click()
    row = page.locator(f'#distributor-list tr[data-username="{distributor.username}"]')
    expect(row.locator(".error")).to_contain_text("大写字母")
    row.locator('input[name="price_level"]').fill("B")
    row.get_by_role("button", name="保存等级").click()
    expect(page.locator(".banner[role=status]")).to_contain_text(distributor.username)
    assert admin.call("GET", f"/api/v1/users/{distributor.username}").json()["price_level"] == "B"
    page.goto(f"/console?unit={region['code']}#h-distributors")
    shot(page, "console-org-people-zh")


def test_in_english(new_context: Callable[..., BrowserContext], admin: Admin):
    region, store = admin.region_and_store()
    admin.distributor(region["code"], "A")
    admin.terminal(store["code"], "Till 9")
    page = new_context(locale="en-US").new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    log_in(page, ADMIN)
    page.goto(f"/console?unit={region['code']}")
    expect(page.get_by_role("heading", name="Organisation tree")).to_be_visible()
    expect(page.get_by_role("heading", name="Distributors")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Change {region['code']}")).to_be_visible()
    shot(page, "console-org-en")
    page.goto("/console/terminals")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Rotate the secret of terminal Till 9").click()
    expect(page.get_by_role("heading", name="Terminal Till 9 has a new secret")).to_be_visible()
    shot(page, "console-terminal-rotated-en")
