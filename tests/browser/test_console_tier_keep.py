"""A tier's keep thresholds (保级) on the console's rules screen, in Chromium: the HQ admin sets
what a member must still reach at the yearly review to stay on a tier, sees it in the preview
and the list; a keep threshold above the one to reach the tier is refused next to its field."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.browser.helpers import Admin, User, shot
from tests.browser.pages import log_in, settled

ADMIN = User("admin", "admin", "hq_admin", "HQ")


def test_hq_sets_a_tiers_keep_threshold_and_a_too_high_one_is_refused(page: Page, admin: Admin):
    code = f"K{uuid.uuid4().hex[:6].upper()}"
    rank = 60 + uuid.uuid4().int % 40
    log_in(page, ADMIN)
    page.goto("/console/rules?tab=tiers")
    form = page.locator("#tier-form")
    form.get_by_label("代码").fill(code)
    form.get_by_label("等级名称").fill("保级测试")
    form.get_by_label("级别").fill(str(rank))
    form.locator("#f-tier-min_spend_12m").fill("100000000")  # nobody reaches it in the other tests
    form.locator("#f-tier-keep_spend_12m").fill("200000000")
    form.get_by_role("button", name="保存等级").click()
    expect(page.locator("#f-tier-keep_spend_12m-error")).to_contain_text("保级门槛不能高于升级门槛")
    settled(page)
    r = admin.call("GET", "/api/v1/loyalty/tiers")
    assert code not in {t["code"] for t in r.json()["items"]}, r.text

    page.locator("#f-tier-keep_spend_12m").fill("60000000")
    expect(page.get_by_test_id("preview")).to_contain_text(
        "年度复核时，近 12 个月消费满 ¥60,000,000.00 的会员保留此等级"
    )
    page.locator("#tier-form").get_by_role("button", name="保存等级").click()
    expect(page.locator("#rules .banner-ok")).to_contain_text("保级测试")
    settled(page)
    row = page.locator("#tiers-list tbody tr", has_text=code)
    expect(row.get_by_test_id("tier-keep")).to_have_text("¥60,000,000.00")
    shot(page, "console-tier-keep-zh")
    tier = next(t for t in admin.call("GET", "/api/v1/loyalty/tiers").json()["items"] if t["code"] == code)
    assert (tier["min_spend_12m"], tier["keep_spend_12m"]) == (10_000_000_000, 6_000_000_000)
    r = admin.call("DELETE", f"/api/v1/loyalty/tiers/{code}")
    assert r.status_code == 204, r.text
