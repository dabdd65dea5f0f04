"""The console dashboard (首页, /console/dashboard) in Chromium: the HQ admin lands on it and its
figures for today are those of the daily-summary REST API after a top-up and a checkout made
here, stored value outstanding that of the liability REST API; the trend is 30 days; a store manager sees its own store only, a region manager its
region's stores only; the charts are drawn from the page's data with nothing from elsewhere.
What the test sets up (units, staff, sales) goes over REST; what a user does goes through the page."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

DEV_ADMIN = User("admin", "admin", "hq_admin", "HQ")
TILES = {  # data-testid of a figure on the page -> (group, figure) of the daily summary
    "fig-sales": ("loyalty", "sales_amount"),
    "fig-top-ups": ("wallet", "top_up_amount"),
    "fig-top-up-bonus": ("wallet", "top_up_bonus"),
    "fig-refunds": ("loyalty", "refund_amount"),
    "fig-stored-value-refunds": ("wallet", "refund_amount"),
    "fig-new-members": ("members", "new_members"),
    "fig-points-issued": ("loyalty", "points_earned"),
    "fig-points-redeemed": ("loyalty", "points_redeemed"),
}
MONEY = {"fig-sales", "fig-top-ups", "fig-top-up-bonus", "fig-refunds", "fig-stored-value-refunds"}


def money(fen: int) -> str:
    """As the pages write it, zh_CN and en alike: ¥1,234.50."""
    return f"¥{Decimal(fen) / 100:,.2f}"


def summary(admin: Admin, day: str | None = None, org_unit: str | None = None) -> dict[str, Any]:
    params = {k: v for k, v in {"date": day, "org_unit": org_unit}.items() if v}
    r = admin.call("GET", "/api/v1/reports/daily-summary", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def sale(admin: Admin, store: dict, product: dict, top_up: int) -> int:
    """At ``store``, over REST: a new member of the store, whose card a clerk of the store tops
    up with ``top_up`` fen and then sells one ``product`` paid from stored value. -> the total
    due. Waits until the daily summary counts the sale."""
    clerk = admin.clerk(store["code"])
    as_clerk = {"Authorization": f"Bearer {admin.login(clerk.username, clerk.password)}"}
    card = admin.member(store["code"])["card"]["card_no"]
    r = admin.call("POST", f"/api/v1/cards/{card}/top-ups", json={"amount": top_up, "channel": "cash"},
                   headers={**as_clerk, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    body = {"card_no": card, "lines": [{"sku": product["sku"], "qty": 1}]}
    q = admin.call("POST", "/api/v1/checkouts/quote", json=body, headers=as_clerk)
    assert q.status_code == 200, q.text
    due = q.json()["total_due"]
    r = admin.call("POST", "/api/v1/checkouts", json={**body, "payments": [{"method": "stored_value", "amount": due}]},
                   headers={**as_clerk, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 20
    while summary(admin, org_unit=store["path"])["totals"]["loyalty"]["sales_count"] < 1:
        assert time.monotonic() < deadline, "the sale never reached the daily summary"
        time.sleep(0.2)
    return due


def liability(admin: Admin, org_unit: str | None = None) -> dict[str, Any]:
    r = admin.call("GET", "/api/v1/wallet/liability", params={"org_unit": org_unit} if org_unit else None)
    assert r.status_code == 200, r.text
    return r.json()


def outstanding(page: Page) -> dict[str, int]:
    """Stored value outstanding as the dashboard shows it."""
    tids = {
        "total": "fig-outstanding",
        "principal": "fig-outstanding-principal",
        "bonus": "fig-outstanding-bonus",
    }
    return {k: int(figure(page, tid).get_attribute("data-value") or "") for k, tid in tids.items()}


def figure(page: Page, tid: str) -> Locator:
    """The figure ``tid`` as shown: a tile's value, or a figure within a tile's line."""
    return page.locator(f'[data-testid="{tid}"][data-value], [data-testid="{tid}"] > [data-value]')


def shown(page: Page) -> dict[str, int]:
    """The figures the dashboard shows (the number behind each)."""
    return {tid: int(figure(page, tid).get_attribute("data-value") or "") for tid in TILES}


def ranking_paths(page: Page) -> list[str]:
    page.locator("details").filter(has=page.get_by_test_id("ranking-table")).locator("summary").click()
    rows = page.get_by_test_id("ranking-table").locator("tbody tr[data-path]")
    return [rows.nth(i).get_attribute("data-path") or "" for i in range(rows.count())]


def test_the_hq_admins_dashboard_matches_the_daily_summary(
    page: Page, admin: Admin, blocked_requests: list[str]
):
    region, store = admin.region_and_store()
    product = admin.product(name="普洱茶饼", retail_price=16800)
    due = sale(admin, store, product, top_up=50_000)
    errors = page_errors(page)

    log_in(page, DEV_ADMIN, expect_path="/console/dashboard")
    expect(page.get_by_role("heading", name="首页", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link").first).to_have_text("首页")
    # What the page shows is the REST summary of today, read before and after it (nothing moves
    # in between unless another test's event arrives late; then look again).
    for _ in range(5):
        before = summary(admin)["totals"]
        page.reload()
        on_page = shown(page)
        after = summary(admin)
        if before == after["totals"]:
            break
    rest = after["totals"]
    assert on_page == {tid: rest[group][name] for tid, (group, name) in TILES.items()}
    assert rest["loyalty"]["sales_amount"] >= due and rest["wallet"]["top_up_amount"] >= 50_000
    for tid in MONEY:
        expect(figure(page, tid)).to_have_text(money(on_page[tid]))
    # Stored value outstanding is the liability REST API's for the whole chain (read around the page).
    for _ in range(5):
        before_liability = liability(admin)
        page.reload()
        shown_liability = outstanding(page)
        after_liability = liability(admin)
        if before_liability == after_liability:
            break
    assert shown_liability == {k: after_liability[k] for k in ("total", "principal", "bonus")}
    assert after_liability["total"] >= 50_000 - due
    expect(figure(page, "fig-outstanding")).to_have_text(money(after_liability["total"]))
    expect(page.get_by_test_id("fig-outstanding")).to_contain_text("本金")
    expect(page.get_by_test_id("waiting-alerts").get_by_role("link")).to_have_attribute(
        "href", "/console/risk"
    )
    expect(page.get_by_test_id("waiting-approvals").get_by_role("link")).to_have_attribute(
        "href", "/console/approvals"
    )

    # The trend: 30 days to today, today's row the summary's; HQ ranks regions, this one by its sale.
    today = after["date"]
    trend = page.get_by_test_id("trend-table")
    page.locator("details").filter(has=trend).locator("summary").click()
    expect(trend.locator("tbody tr")).to_have_count(30)
    expect(trend.locator("tbody tr").last).to_have_attribute("data-day", today)
    expect(trend.locator("tbody tr").first).to_have_attribute(
        "data-day", (date.fromisoformat(today) - timedelta(days=29)).isoformat()
    )
    expect(trend.locator(f'tr[data-day="{today}"] td').first).to_have_text(
        money(rest["loyalty"]["sales_amount"])
    )
    expect(trend.locator(f'tr[data-day="{today}"] td').nth(1)).to_have_text(
        money(rest["wallet"]["top_up_amount"])
    )
    assert region["path"] in ranking_paths(page)
    expect(
        page.locator(f'[data-testid="ranking-table"] tr[data-path="{region["path"]}"] td').nth(1)
    ).to_have_text(money(due))
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    expect(page.locator("[data-chart] svg")).to_have_count(2)
    shot(page, "dashboard-zh")

    # A week: the figures are the sum of the REST summaries of its days so far, the page swapped by htmx.
    page.get_by_label("周期", exact=True).select_option("week")
    expect(page.get_by_test_id("period")).to_contain_text("–")
    settled(page)
    monday = date.fromisoformat(today) - timedelta(days=date.fromisoformat(today).weekday())
    days = [monday + timedelta(days=i) for i in range((date.fromisoformat(today) - monday).days + 1)]
    week = sum(summary(admin, d.isoformat())["totals"]["loyalty"]["sales_amount"] for d in days)
    assert shown(page)["fig-sales"] == week
    assert "period=week" in page.url
    # The swapped-in charts are drawn again.
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)

    # English is one click away: the same numbers, English words.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_test_id("fig-outstanding")).to_contain_text("cards hold a balance")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link").nth(1)).to_have_text(
        "Organisation"
    )
    page.get_by_label("Period", exact=True).select_option("day")
    settled(page)
    expect(figure(page, "fig-sales")).to_have_text(money(summary(admin)["totals"]["loyalty"]["sales_amount"]))
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    shot(page, "dashboard-en")
    page.get_by_role("link", name="中文").click()
    assert blocked_requests == [], blocked_requests
    assert errors == [], errors


def test_a_store_manager_sees_its_own_store_only(page: Page, admin: Admin):
    region = admin.region()
    mine, other = admin.store(region["code"]), admin.store(region["code"])
    tea, cup = admin.product(retail_price=1230), admin.product(retail_price=4560)
    mine_due = sale(admin, mine, tea, top_up=10_000)
    other_due = sale(admin, other, cup, top_up=10_000)
    manager = admin.store_manager(mine["code"])

    log_in(page, manager, expect_path="/counter")
    page.goto("/console")
    page.get_by_role("link", name="首页", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/dashboard$"))
    figures = shown(page)
    assert figures["fig-sales"] == mine_due
    assert figures["fig-top-ups"] == 10_000
    assert figures["fig-new-members"] == 1
    assert ranking_paths(page) == [mine["path"]]
    expect(page.get_by_role("heading", name="门店销售排行")).to_be_visible()
    expect(page.get_by_text(other["path"])).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(money(other_due))
    # Its stored value outstanding is its own store's: the top-up made here less what it paid.
    mine_liability = liability(admin, mine["code"])
    assert mine_liability["accounts"] == 1 and mine_liability["total"] >= 10_000 - mine_due
    assert outstanding(page) == {k: mine_liability[k] for k in ("total", "principal", "bonus")}
    # A store manager approves no adjustments: that count is not on its dashboard.
    expect(page.get_by_test_id("waiting-approvals")).to_have_count(0)
    expect(page.get_by_test_id("waiting-alerts")).to_be_visible()


def test_a_region_manager_ranks_its_regions_stores_only(page: Page, admin: Admin):
    region, elsewhere = admin.region(), admin.region()
    first, second = admin.store(region["code"]), admin.store(region["code"])
    outside = admin.store(elsewhere["code"])
    product = admin.product(retail_price=2200)
    sale(admin, second, product, top_up=5_000)
    sale(admin, outside, product, top_up=5_000)
    manager = admin.user("region_manager", region["code"])

    log_in(page, manager, expect_path="/console/dashboard")
    expect(page.get_by_role("heading", name="门店销售排行")).to_be_visible()
    # Every store of the region, the one that sold first; none of another region's.
    assert ranking_paths(page) == [second["path"], first["path"]]
    expect(page.get_by_text(outside["path"])).to_have_count(0)
    assert shown(page)["fig-top-ups"] == 5_000
