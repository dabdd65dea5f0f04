"""The console's notifications (通知) and audit log (审计日志) in a real Chromium: an HQ admin edits
the zh-CN SMS top-up template with its live preview, a broken template is refused next to the
field and nothing is stored, the saved one is what the next top-up sends; the change is in the
audit log and its CSV export; a clerk and an auditor cannot edit templates."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import Admin, User, page_errors, shot
from tests.browser.pages import funded_member, log_in, settled

TEMPLATE = "/api/v1/notify/templates/top_up/sms"
EDITOR = "/console/notifications/templates/top_up/sms?locale=zh-CN"


@pytest.fixture(scope="module")
def shop(admin: Admin) -> dict:
    _region, store = admin.region_and_store()
    return {"store": store, "clerk": admin.clerk(store["code"]), "hq": admin.user("hq_admin", "HQ")}


@pytest.fixture
def stored_template(admin: Admin) -> Iterator[dict]:
    """The zh-CN SMS top-up template as it was; put back after the test."""
    r = admin.call("GET", TEMPLATE, params={"locale": "zh-CN"})
    assert r.status_code == 200, r.text
    before = r.json()
    yield before
    r = admin.call(
        "PUT", TEMPLATE, json={"locale": "zh-CN", "subject": before["subject"], "body": before["body"]}
    )
    assert r.status_code == 200, r.text


def stored_body(admin: Admin) -> str:
    r = admin.call("GET", TEMPLATE, params={"locale": "zh-CN"})
    assert r.status_code == 200, r.text
    return r.json()["body"]


def sms_to(run_dir: Path, phone: str, marker: str, timeout: float = 90.0) -> dict:
    """The SMS the file channel wrote for ``phone`` holding ``marker`` (notify sends in the
    background)."""
    outbox = run_dir / "outbox-messages" / "sms.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox.exists():
            for line in outbox.read_text(encoding="utf-8").splitlines():
                message = json.loads(line)
                if message["to"] == phone and marker in message["body"]:
                    return message
        time.sleep(0.5)
    raise AssertionError(f"no SMS to {phone} with {marker!r} in {outbox}")


def test_hq_edits_a_template_with_a_live_preview_and_the_next_top_up_uses_it(
    page: Page, shop: dict, admin: Admin, suite, stored_template: dict, new_context
):
    errors = page_errors(page)
    marker = uuid.uuid4().hex[:6]
    hq: User = shop["hq"]
    log_in(page, hq)
    expect(page).to_have_url(re.compile(r"/console/dashboard$"))
    page.locator(".topnav").get_by_role("link", name="通知", exact=True).click()
    expect(page.get_by_role("heading", name="通知", exact=True)).to_be_visible()
    page.locator('tr[data-template="top_up/sms/zh-CN"]').get_by_role("link", name="编辑").click()
    expect(page.get_by_role("heading", name=re.compile("充值通知"))).to_be_visible()
    settled(page)

    # The preview follows the text with sample values.
    body = page.get_by_label("消息正文")
    body.fill("{{ member_name }}您好，充值{{ amount_yuan }}元已到账。" + marker)
    preview = page.get_by_test_id("preview-body")
    expect(preview).to_have_text(f"张三您好，充值128.00元已到账。{marker}")
    settled(page)

    # An unknown variable and a syntax error are refused next to the field, live and on saving.
    body.fill("{{ unknown_var }} " + marker)
    expect(page.locator("#f-tpl-body-error")).to_contain_text("unknown_var")
    settled(page)
    body.fill("{% if %}" + marker)
    expect(page.locator("#f-tpl-body-error")).to_contain_text("syntax error")
    settled(page)
    page.get_by_role("button", name="保存模板").click()
    expect(page.locator("#f-tpl-body-error")).to_contain_text("syntax error")
    expect(page.get_by_label("消息正文")).to_have_value("{% if %}" + marker)
    settled(page)
    assert stored_body(admin) == stored_template["body"]

    # A valid one is saved; the next top-up's SMS is written with it.
    text = "【会员】{{ member_name }}，您充值{{ amount_yuan }}元，赠送{{ bonus_yuan }}元。" + marker
    page.get_by_label("消息正文").fill(text)
    expect(page.get_by_test_id("preview-body")).to_contain_text("张三")
    settled(page)
    page.get_by_role("button", name="保存模板").click()
    expect(page.get_by_role("status").filter(has_text="已保存")).to_be_visible()
    settled(page)
    assert stored_body(admin) == text
    shot(page, "console-notify-zh")

    member = funded_member(admin, shop["store"]["code"], 12_300)
    message = sms_to(suite.run_dir, member["phone"], marker)
    assert "123.00" in message["body"] and message["body"].startswith("【会员】")

    # The deliveries list shows it, filtered by the member number.
    page.get_by_role("link", name="全部模板").click()
    page.get_by_role("link", name="发送记录").click()
    page.get_by_label("会员号").fill(member["member_no"])
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#deliveries tbody tr", has_text="充值通知")).not_to_have_count(0)
    row = page.locator("#deliveries tbody tr", has_text="充值通知").filter(has_text="短信")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(member["member_no"])
    settled(page)
    shot(page, "console-deliveries-zh")

    # The change is in the audit log with its actor, and in the CSV export.
    page.locator(".topnav").get_by_role("link", name="审计日志", exact=True).click()
    page.get_by_label(re.compile("^操作人")).fill(hq.username)
    page.get_by_label(re.compile("^操作类型")).fill("notify.")
    page.get_by_role("button", name="查看").click()
    entry = page.locator("#entries tbody tr", has_text="top_up/sms/zh-CN")
    expect(entry.first).to_contain_text(hq.username)
    expect(entry.first).to_contain_text("notify.template.put")
    settled(page)
    shot(page, "console-audit-zh")
    with page.expect_download() as download:
        page.get_by_test_id("audit-export").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert any(r["target_id"] == "top_up/sms/zh-CN" and r["actor"] == hq.username and marker in r["detail"]
               for r in rows)  # fmt: skip
    assert all(r["actor"] == hq.username and r["action"].startswith("notify.") for r in rows)
    r = admin.call("GET", "/api/v1/audit-log", params={"actor": hq.username, "action": "audit.export"})
    assert r.status_code == 200 and r.json()["items"], r.text
    assert [e for e in errors if "Failed to load resource" not in e] == []  # refusals answer 4xx

    # The same screens in English.
    context: BrowserContext = new_context(locale="en-US")
    en = context.new_page()
    en.goto("/")
    en.get_by_role("link", name="English").click()
    log_in(en, hq)
    en.goto(EDITOR)
    expect(en.get_by_role("button", name="Save template")).to_be_visible()
    settled(en)
    shot(en, "console-notify-en")
    en.goto("/console/audit?action=notify.")
    expect(en.get_by_role("heading", name="Audit log")).to_be_visible()
    shot(en, "console-audit-en")


def test_a_clerk_and_an_auditor_cannot_edit_templates_the_auditor_reads_the_audit_log(
    page: Page, shop: dict, admin: Admin
):
    log_in(page, shop["clerk"], expect_path="/counter")
    page.goto(EDITOR)
    expect(page.get_by_role("heading", name="无权操作")).to_be_visible()

    auditor = admin.user("auditor", "HQ")
    page.context.clear_cookies()
    log_in(page, auditor, expect_path="/console/dashboard")
    nav = page.locator(".topnav")
    nav.get_by_role("link", name="审计日志", exact=True).click()
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    expect(page.locator("#entries tbody tr").first).to_be_visible()
    nav.get_by_role("link", name="通知", exact=True).click()
    expect(page.locator("#templates tbody tr").first).to_be_visible()
    expect(page.get_by_role("link", name="编辑")).to_have_count(0)
    response = page.goto(EDITOR)
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="无权操作")).to_be_visible()
    r = admin.http.put(
        TEMPLATE,
        json={"locale": "zh-CN", "body": "x"},
        headers={"Authorization": f"Bearer {admin.login(auditor.username, auditor.password)}"},
    )
    assert r.status_code == 403, r.text
