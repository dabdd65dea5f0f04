"""The console's member analysis (会员分析) and follow-ups (回访任务) in a real Chromium: four
members of a fresh store buy over REST so that each falls in another RFM quadrant; HQ
recomputes the segments from the page and the quadrant table equals the analytics API's; a
coupon issued to a segment from the page reaches exactly its members; a follow-up made by a
first purchase is listed for the store's manager and completed there, which records a visit.
Screenshots console-segments-zh/en and console-follow-ups-zh/en."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from kit.config import Settings
from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")
QUADRANTS = ("ally", "butterfly", "barnacle", "stranger")
STAGES = ("new", "active", "declining", "at_risk", "churned")
CHAIN_TZ = ZoneInfo(Settings().chain_timezone)  # the suite's default
ZH = {"ally": "知己", "butterfly": "蝴蝶", "barnacle": "藤壶", "stranger": "过客"}


def buy(admin: Admin, clerk: User, card_no: str, sku: str, qty: int) -> dict:
    """A checkout at the clerk's store for the card's member, paid in cash (over REST)."""
    as_clerk = {"Authorization": f"Bearer {admin.login(clerk.username, clerk.password)}"}
    body = {"card_no": card_no, "lines": [{"sku": sku, "qty": qty}]}
    q = admin.call("POST", "/api/v1/checkouts/quote", json=body, headers=as_clerk)
    assert q.status_code == 200, q.text
    due = q.json()["total_due"]
    r = admin.call("POST", "/api/v1/checkouts", json={**body, "payments": [{"method": "cash", "amount": due}]},
                   headers={**as_clerk, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def chain_today() -> date:
    return datetime.now(CHAIN_TZ).date()


def follow_ups(admin: Admin, store: str, days: int = 100) -> list[dict]:
    due_before = (chain_today() + timedelta(days=days + 1)).isoformat()
    r = admin.call(
        "GET", "/api/v1/follow-ups", params={"store": store, "due_before": due_before, "limit": 200}
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    """A store whose four members each bought so as to land in another quadrant of the store:
    frequency 2/1/2/1 (median 1.5) and spend high/high/low/low."""
    region, store = admin.region_and_store()
    clerk = admin.clerk(store["code"])
    big, small = admin.product(name="礼盒", retail_price=10_000), admin.product(name="茶包", retail_price=500)
    members = {q: admin.member(store["code"], name=f"{ZH[q]}会员") for q in QUADRANTS}
    baskets = {
        "ally": [(big, 1), (big, 1)],
        "butterfly": [(big, 2)],
        "barnacle": [(small, 1), (small, 1)],
        "stranger": [(small, 1)],
    }
    for q, lines in baskets.items():
        for product, qty in lines:
            buy(admin, clerk, members[q]["card"]["card_no"], product["sku"], qty)
    # Each first purchase at the store makes notify plan three follow-ups (+3 days, +3 weeks, +3 months).
    numbers = {m["member_no"] for m in members.values()}
    deadline = time.monotonic() + 30
    while {f["member_no"] for f in follow_ups(admin, store["code"])} != numbers:
        assert time.monotonic() < deadline, "notify never planned the follow-ups"
        time.sleep(0.3)
    templates = {}
    for kind, name in (("ally", "知己专享"), ("new", "新客回头礼")):
        r = admin.call("POST", "/api/v1/loyalty/coupon-templates", json={
            "name": f"{name}-{uuid.uuid4().hex[:4]}", "kind": "amount_off", "amount_off": 2000,
            "min_spend": 10_000, "valid_days": 30,
        })  # fmt: skip
        assert r.status_code == 201, r.text
        templates[kind] = r.json()
    return {
        "region": region,
        "store": store,
        "clerk": clerk,
        "manager": admin.store_manager(store["code"]),
        "members": members,
        "template": templates["ally"],
        "welcome_back": templates["new"],
    }


def table_counts(page: Page, table: str) -> dict[str, int]:
    rows = page.locator(f"#{table} tbody tr[data-segment]")
    expect(rows.first).to_be_visible()
    return {
        row.get_attribute("data-segment"): int(row.locator("td[data-count]").get_attribute("data-count"))
        for row in rows.all()
    }


def rest(admin: Admin, what: str, store: str | None = None) -> dict:
    r = admin.call("GET", f"/api/v1/analytics/{what}", params={"store": store} if store else {})
    assert r.status_code == 200, r.text
    return r.json()


def coupons_of(admin: Admin, member_no: str) -> list[str]:
    r = admin.call("GET", f"/api/v1/members/{member_no}/coupons")
    assert r.status_code == 200, r.text
    return [c["name"] for c in r.json()["items"]]


def test_hq_recomputes_the_segments_and_issues_a_coupon_to_a_quadrant(
    page: Page, shop: dict, admin: Admin, blocked_requests: list[str]
):
    errors = page_errors(page)
    store = shop["store"]
    log_in(page, ADMIN, expect_path="/console/dashboard")
    page.locator(".topnav").get_by_role("link", name="会员分析", exact=True).click()
    expect(page.get_by_role("heading", name="会员分析", exact=True)).to_be_visible()

    # Recompute now: the page says when, and the whole scope's quadrants are the API's.
    before = rest(admin, "quadrants")["computed_at"]
    page.get_by_role("button", name="立即重新计算").click()
    expect(page.get_by_role("status").filter(has_text="重新计算")).to_be_visible()
    settled(page)
    after = rest(admin, "quadrants")
    assert after["computed_at"] and after["computed_at"] != before
    expect(page.get_by_test_id("computed-at")).to_have_attribute("data-value", after["computed_at"])
    assert table_counts(page, "quadrants") == after["counts"]
    assert table_counts(page, "stages") == rest(admin, "lifecycle")["counts"]

    # The test's store: one member in each quadrant, all of them new; the same as the API's.
    page.get_by_label("门店或区域").select_option(store["code"])
    expect(page).to_have_url(re.compile(rf"store={store['code']}"))
    settled(page)
    quadrants = table_counts(page, "quadrants")
    assert quadrants == rest(admin, "quadrants", store["code"])["counts"]
    assert quadrants == dict.fromkeys(QUADRANTS, 1)
    assert table_counts(page, "stages") == {**dict.fromkeys(STAGES, 0), "new": 4}
    assert table_counts(page, "stages") == rest(admin, "lifecycle", store["code"])["counts"]
    expect(page.get_by_test_id("scored")).to_have_attribute("data-value", "4")
    expect(page.locator("#quadrants tr[data-segment='ally'] th")).to_contain_text("知己")
    expect(
        page.locator("#quadrants tr[data-segment='ally']").get_by_role("link", name="查看知己的会员")
    ).to_have_attribute("href", f"/console/members?segment=ally&store={store['code']}")
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    expect(page.locator("[data-chart] svg")).to_have_count(2)
    shot(page, "console-segments-zh")

    # A coupon to the store's allies, as a job whose page shows its progress to the end: only that
    # member gets it, once (reloading the job's page or sending the form again issues nothing more).
    ally = page.locator("#quadrants tr[data-segment='ally']")
    ally.get_by_text("发放优惠券…").click()
    ally.get_by_label("优惠券模板").select_option(label=shop["template"]["name"])
    page.once("dialog", lambda d: d.accept())
    ally.get_by_role("button", name="向知己发放").click()
    expect(page).to_have_url(re.compile(r"/console/segments/issue-jobs/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name=re.compile("向知己发放"))).to_be_visible()
    expect(page.locator("#issue-progress")).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("issue-counts")).to_contain_text("已处理 1 / 1 位会员")
    expect(page.get_by_test_id("issue-counts")).to_contain_text("已发放 1")
    expect(page.locator("#issue-bar")).to_have_attribute("value", "1")
    shot(page, "console-segments-issue-job-zh")
    job_url = page.url
    members = shop["members"]
    assert coupons_of(admin, members["ally"]["member_no"]).count(shop["template"]["name"]) == 1
    for q in ("butterfly", "barnacle", "stranger"):
        assert shop["template"]["name"] not in coupons_of(admin, members[q]["member_no"])
    page.reload()
    page.go_back()  # the form again, with its key: the same job, nothing more issued
    expect(page).to_have_url(re.compile(r"/console/segments"))
    page.goto(job_url)
    expect(page.locator("#issue-progress")).to_have_attribute("data-status", "completed")
    assert coupons_of(admin, members["ally"]["member_no"]).count(shop["template"]["name"]) == 1
    page.goto(f"/console/segments?store={store['code']}")

    # The whole scope's new buyers (a lifecycle stage is the member's own, not relative): all four get it.
    page.get_by_label("门店或区域").select_option("")
    expect(page).to_have_url(re.compile(r"store=$"))
    settled(page)
    new = page.locator("#stages tr[data-segment='new']")
    new.get_by_text("发放优惠券…").click()
    new.get_by_label("优惠券模板").select_option(label=shop["welcome_back"]["name"])
    page.once("dialog", lambda d: d.accept())
    new.get_by_role("button", name="向新客发放").click()
    expect(page.locator("#issue-progress")).to_have_attribute("data-status", "completed")
    page.goto("/console/segments")
    for m in members.values():
        assert shop["welcome_back"]["name"] in coupons_of(admin, m["member_no"])

    # English: the same table, English words.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Member analysis", exact=True)).to_be_visible()
    page.goto(f"/console/segments?store={store['code']}")  # the language link keeps the path, not the filter
    expect(page.locator("#quadrants tr[data-segment='butterfly'] th")).to_contain_text("Butterflies")
    assert table_counts(page, "quadrants") == dict.fromkeys(QUADRANTS, 1)
    expect(page.locator('[data-chart][data-chart-drawn="true"]')).to_have_count(2)
    shot(page, "console-segments-en")
    page.get_by_role("link", name="中文").click()
    assert blocked_requests == [], blocked_requests
    assert errors == [], errors


def test_a_store_manager_sees_its_store_and_an_auditor_only_reads(page: Page, shop: dict, admin: Admin):
    store, members = shop["store"], shop["members"]
    r = admin.call("POST", "/api/v1/analytics/segments/recompute")
    assert r.status_code == 200, r.text
    log_in(page, shop["manager"], expect_path="/counter")
    page.goto("/console")
    page.locator(".topnav").get_by_role("link", name="会员分析", exact=True).click()
    # Its scope is its store: no filter, the store's segments, no recompute.
    expect(page.get_by_label("门店或区域")).to_have_count(0)
    expect(page.get_by_role("button", name="立即重新计算")).to_have_count(0)
    assert table_counts(page, "quadrants") == dict.fromkeys(QUADRANTS, 1)
    # Coupons create value: only HQ issues them. No form, and a crafted post gets the 403 page.
    expect(page.get_by_text("发放优惠券…")).to_have_count(0)
    r = page.request.post("/console/segments/issue", form={
        "csrf": page.locator('meta[name="csrf-token"]').get_attribute("content"),
        "segment": "barnacle", "template_id": shop["template"]["id"], "idempotency_key": "k1",
    })  # fmt: skip
    assert r.status == 403, r.text()
    assert shop["template"]["name"] not in coupons_of(admin, members["barnacle"]["member_no"])

    # An auditor reads the segments but issues and recomputes nothing; a clerk may not open them.
    auditor = admin.user("auditor", "HQ")
    page.context.clear_cookies()
    log_in(page, auditor, expect_path="/console/dashboard")
    page.goto(f"/console/segments?store={store['code']}")
    assert table_counts(page, "quadrants") == dict.fromkeys(QUADRANTS, 1)
    expect(page.get_by_text("发放优惠券…")).to_have_count(0)
    expect(page.get_by_role("button", name="立即重新计算")).to_have_count(0)
    expect(page.locator(".topnav").get_by_role("link", name="回访任务", exact=True)).to_have_count(0)
    response = page.goto("/console/segments?store=NO-SUCH-STORE")
    assert response is not None and response.status == 422
    expect(page.locator("#f-seg-store-error")).to_contain_text("没有这个门店或区域")
    page.context.clear_cookies()
    log_in(page, shop["clerk"], expect_path="/counter")
    response = page.goto("/console/segments")
    assert response is not None and response.status == 403

    # A clerk reaches the store's follow-ups from the counter (and may complete them).
    page.goto("/counter")
    page.locator(".topnav").get_by_role("link", name="回访任务", exact=True).click()
    expect(page.get_by_role("heading", name="回访任务", exact=True)).to_be_visible()
    expect(page.locator(".topnav").get_by_role("link", name="收银台", exact=True)).to_be_visible()
    page.get_by_label("截止日期").fill((chain_today() + timedelta(days=100)).isoformat())
    page.get_by_role("button", name="查看", exact=True).click()
    stranger = members["stranger"]["member_no"]
    expect(page.locator(f'tbody[data-member="{stranger}"]')).to_have_count(3)
    expect(
        page.locator(f'tbody[data-member="{stranger}"]').first.get_by_role("button", name="完成")
    ).to_be_visible()


def test_the_store_manager_completes_a_follow_up_and_a_visit_is_recorded(
    page: Page, shop: dict, admin: Admin
):
    errors = page_errors(page)
    member_no = shop["members"]["ally"]["member_no"]
    tasks = sorted((f for f in follow_ups(admin, shop["store"]["code"]) if f["member_no"] == member_no),
                   key=lambda f: f["due_on"])  # fmt: skip
    assert [f["stage"] for f in tasks] == ["3d", "3w", "3m"]
    first = tasks[0]

    log_in(page, shop["manager"], expect_path="/counter")
    page.locator(".topnav").get_by_role("link", name="回访任务", exact=True).click()
    expect(page.get_by_role("heading", name="回访任务", exact=True)).to_be_visible()
    # Today: the first purchase was today, so none of its tasks is due yet.
    expect(page.get_by_label("截止日期")).to_have_value(chain_today().isoformat())
    expect(page.locator(f'tbody[data-member="{member_no}"]')).to_have_count(0)

    # Due within 100 days: its three tasks, in the store's section, with the call window.
    due = (chain_today() + timedelta(days=100)).isoformat()
    page.get_by_label("截止日期").fill(due)
    page.get_by_role("button", name="查看", exact=True).click()
    section = page.locator(f'section[data-store="{shop["store"]["path"]}"]')
    task = section.locator(f'tbody[data-follow-up="{first["id"]}"]')
    expect(task).to_be_visible()
    settled(page)
    expect(section.locator(f'tbody[data-member="{member_no}"]')).to_have_count(3)
    expect(task).to_contain_text(f"{first['window_start']}–{first['window_end']}")
    expect(task).to_contain_text("首次消费后 3 天")
    expect(task).to_contain_text("知己会员")
    shot(page, "console-follow-ups-zh")

    # Complete it with an outcome and notes: it leaves the list, a visit is on the member.
    task.get_by_label("结果").fill("已联系，满意")
    task.get_by_label("备注").fill("下周来店取礼盒")
    task.get_by_role("button", name=f"完成会员 {member_no} 的回访").click()
    expect(page.get_by_role("status").filter(has_text="回访已完成")).to_be_visible()
    settled(page)
    expect(page.locator(f'tbody[data-follow-up="{first["id"]}"]')).to_have_count(0)
    expect(page.locator(f'tbody[data-member="{member_no}"]')).to_have_count(2)
    r = admin.call("GET", f"/api/v1/members/{member_no}/visits")
    assert r.status_code == 200, r.text
    visits = r.json()["items"]
    assert [(v["outcome"], v["notes"]) for v in visits] == [("已联系，满意", "下周来店取礼盒")], visits
    assert first["id"] not in {f["id"] for f in follow_ups(admin, shop["store"]["code"])}

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Follow-ups", exact=True)).to_be_visible()
    page.goto(f"/console/follow-ups?due={due}")  # the language link keeps the path, not the filter
    expect(page.locator(f'tbody[data-member="{member_no}"]').first).to_contain_text(
        "3 weeks after the first purchase"
    )
    shot(page, "console-follow-ups-en")
    page.get_by_role("link", name="中文").click()
    assert errors == [], errors
