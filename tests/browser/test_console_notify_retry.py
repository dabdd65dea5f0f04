"""Sending a dead delivery again from the console (通知 → 发送记录 → 重试), in Chromium, on a
suite of its own whose notify gives up after two quick attempts: the SMS channel's outbox file is
made unwritable (a directory in its place), a top-up's SMS dies; once the channel works again,
the HQ admin finds it among the dead deliveries and presses Retry: it is sent, exactly once."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from kit.testing import Infra
from tests.browser.helpers import DESKTOP, Admin, User, shot
from tests.browser.pages import funded_member, log_in, settled
from tests.support import Suite, suite_on

ADMIN = User("admin", "admin", "hq_admin", "HQ")


@pytest.fixture(scope="module")
def quick_to_give_up(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The suite with notify retrying after 0.2 s and giving a delivery up after 2 attempts."""
    env = {
        "CHAINCLUB_NOTIFY_MAX_ATTEMPTS": "2",
        "CHAINCLUB_NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "CHAINCLUB_NOTIFY_JOBS_INTERVAL_SECONDS": "0.5",
    }
    with suite_on(infra, tmp_path_factory.mktemp("dying"), prefix="dying", extra_env=env) as s:
        yield s


def top_up_sms(admin: Admin, member_no: str, status: str, timeout: float = 60.0) -> dict:
    """The member's top-up SMS delivery once it has ``status`` (notify sends in the background)."""
    deadline = time.monotonic() + timeout
    seen: list = []
    while time.monotonic() < deadline:
        r = admin.call("GET", "/api/v1/notifications", params={"member_no": member_no})
        assert r.status_code == 200, r.text
        seen = [d for d in r.json()["items"] if d["event"] == "top_up" and d["channel"] == "sms"]
        if seen and seen[0]["status"] == status:
            return seen[0]
        time.sleep(0.3)
    raise AssertionError(f"no {status} top-up SMS for {member_no}: {seen}")


def sms_lines(run_dir: Path, phone: str) -> list[dict]:
    outbox = run_dir / "outbox-messages" / "sms.jsonl"
    if not outbox.is_file():
        return []
    lines = [json.loads(x) for x in outbox.read_text(encoding="utf-8").splitlines()]
    return [m for m in lines if m["to"] == phone and m["event"] == "top_up"]


def test_a_dead_sms_is_sent_again_once_with_the_retry_button(browser: Browser, quick_to_give_up: Suite):
    suite = quick_to_give_up
    outbox = suite.run_dir / "outbox-messages" / "sms.jsonl"
    outbox.mkdir(parents=True, exist_ok=True)  # the file channel cannot append: every SMS fails
    with Admin(suite.url) as admin:
        _region, store = admin.region_and_store()
        member = funded_member(admin, store["code"], 8_800)
        dead = top_up_sms(admin, member["member_no"], "dead")
        shutil.rmtree(outbox)  # the channel works again; nothing resends a dead delivery by itself
        assert sms_lines(suite.run_dir, member["phone"]) == []

        context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=suite.url)
        try:
            page = context.new_page()
            log_in(page, ADMIN, expect_path="/console/dashboard")
            page.goto(f"/console/notifications/deliveries?member_no={member['member_no']}&status=dead")
            row = page.locator("#deliveries tbody tr", has_text="充值通知").filter(has_text="短信")
            expect(row).to_have_count(1)
            shot(page, "console-deliveries-dead-zh")
            page.once("dialog", lambda d: d.accept())
            row.get_by_role("button", name=re.compile("重新发送")).click()
            expect(page.get_by_role("status").filter(has_text="已重新排队")).to_be_visible()
            settled(page)
            sent = top_up_sms(admin, member["member_no"], "sent")
            assert sent["id"] == dead["id"]
            page.goto(f"/console/notifications/deliveries?member_no={member['member_no']}")
            expect(
                page.locator("#deliveries tbody tr", has_text="充值通知").filter(has_text="短信")
            ).to_contain_text("已发送")
            shot(page, "console-deliveries-retried-zh")
        finally:
            context.close()
        lines = sms_lines(suite.run_dir, member["phone"])
        assert len(lines) == 1 and "88.00" in lines[0]["body"], lines
