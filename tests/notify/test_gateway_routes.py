"""The gateway's notify routes over real HTTP, in front of the real notify and members services."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from chainclub.events.v1 import loyalty_pb2 as lev
from chainclub.members.v1 import members_pb2
from kit.auth import KeySet
from services.notify.consumers import loyalty_routes


async def _audit(gw, action: str, target_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await gw.call("GET", "/api/v1/audit-log", gw.world.token("hq_admin", "HQ"),
                      params={"action": action, "target_id": target_id})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_templates_get_put_preview(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    admin, clerk = w.token("hq_admin", "HQ"), w.token("clerk", "HQ/R1/S1")
    path = "/api/v1/notify/templates/welcome/sms"
    r = await gw.call("GET", path, clerk)
    assert r.status_code == 200, r.text
    stored = r.json()
    assert (
        stored["event"] == "welcome" and stored["locale"] == "zh-CN" and "member_name" in stored["variables"]
    )

    r = await gw.call("PUT", path, admin, json={"body": "{{ balance_secret }}"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_argument" and "balance_secret" in r.json()["detail"]

    r = await gw.call("PUT", path, clerk, json={"body": stored["body"]})
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text

    # Stored unchanged (other tests rely on the welcome text), but written and audited.
    r = await gw.call("PUT", path, admin, json={"subject": stored["subject"], "body": stored["body"]})
    assert r.status_code == 200, r.text
    assert r.json()["body"] == stored["body"] and r.json()["updated_at"]
    assert [a["action"] for a in await _audit(gw, "notify.template.put", "welcome/sms/zh-CN")][:1] == [
        "notify.template.put"
    ]

    r = await gw.call("POST", "/api/v1/notify/templates/payment/sms/preview", admin,
                      json={"body": "{{ amount_yuan }} 元"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "128.00 元"

    r = await gw.call("GET", "/api/v1/notify/templates/no_such_event/sms", admin)
    assert r.status_code == 422, r.text


async def test_follow_ups_scoped_and_completed_once(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    code, store = await gw.store()
    _, other_store = await gw.store()
    member = await w.register(store, sms=False, email=False, wechat=False)
    handler = loyalty_routes(w.notify.context)["loyalty.purchase.recorded"].handler
    msg = lev.PurchaseRecorded(
        checkout_id=uuid.uuid4().hex,
        member_no=member.member_no,
        store_path=store,
        first_purchase_at_store=True,
    )
    msg.at.FromDatetime(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))
    async with w.ctx.db.transaction() as s:
        await handler(s, SimpleNamespace(id=uuid.uuid4()), msg)

    clerk, other = w.token("clerk", store), w.token("clerk", other_store)
    r = await gw.call("GET", "/api/v1/follow-ups", clerk, params={"store": code})
    assert r.status_code == 200, r.text
    assert [f["stage"] for f in r.json()["items"]] == ["3d", "3w", "3m"]
    r = await gw.call("GET", "/api/v1/follow-ups", clerk, params={"store": code, "due_before": "2026-12-10"})
    assert [(f["stage"], f["due_on"]) for f in r.json()["items"]] == [("3d", "2026-12-03")], r.text
    first = r.json()["items"][0]

    # Another store's clerk sees none of them and may not name this store.
    r = await gw.call("GET", "/api/v1/follow-ups", other)
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = await gw.call("GET", "/api/v1/follow-ups", other, params={"store": code})
    assert r.status_code == 422 and r.json()["code"] == "invalid_argument", r.text

    complete = f"/api/v1/follow-ups/{first['id']}/complete"
    r = await gw.call("POST", complete, other, json={"outcome": "x"})
    assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
    r = await gw.call("POST", complete, clerk, json={"outcome": "满意", "notes": "回访"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["outcome"] == "满意" and r.json()["visit_id"]
    r = await gw.call("POST", complete, clerk, json={"outcome": "again"})
    assert r.status_code == 409, r.text
    entries = await _audit(gw, "followup.complete", first["id"])
    assert len(entries) == 1 and entries[0]["org_path"] == store, entries

    r = await gw.call("GET", "/api/v1/follow-ups", clerk, params={"store": code, "status": "done"})
    assert [f["id"] for f in r.json()["items"]] == [first["id"]], r.text
    r = await gw.call("POST", complete, w.token("auditor", "HQ"), json={"outcome": "x"})
    assert r.status_code == 403, r.text


async def test_notifications_for_a_member_after_registration(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    _, store = await gw.store()
    _, other_store = await gw.store()
    member = await w.register(store, sms=True, email=True, wechat=False)
    clerk = w.token("clerk", store)
    end = time.monotonic() + 20
    while True:
        r = await gw.call("GET", "/api/v1/notifications", clerk, params={"member_no": member.member_no})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        if len(items) == 3 or time.monotonic() > end:
            break
        await asyncio.sleep(0.1)
    assert {i["channel"] for i in items} == {"sms", "wechat", "email"}, items
    for item in items:
        assert item["event"] == "welcome" and item["member_no"] == member.member_no
        assert {"event", "channel", "status", "sent_at"} <= item.keys()
    r = await gw.call("GET", "/api/v1/notifications", w.token("clerk", other_store),
                      params={"member_no": member.member_no})  # fmt: skip
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = await gw.call("GET", "/api/v1/notifications", w.token("distributor", store))
    assert r.status_code == 403, r.text

    r = await gw.call("GET", "/api/v1/announcements", clerk)
    assert r.status_code == 200 and isinstance(r.json()["items"], list), r.text


async def test_follow_up_at_a_store_other_than_the_home_store_is_completed_there(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    _, home = await gw.store()
    away_code, away = await gw.store()
    member = await w.register(home, sms=False, email=False, wechat=False)
    handler = loyalty_routes(w.notify.context)["loyalty.purchase.recorded"].handler
    msg = lev.PurchaseRecorded(checkout_id=uuid.uuid4().hex, member_no=member.member_no, store_path=away,
                               home_store_path=home, first_purchase_at_store=True)  # fmt: skip
    msg.at.FromDatetime(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    async with w.ctx.db.transaction() as s:
        await handler(s, SimpleNamespace(id=uuid.uuid4()), msg)

    away_clerk = w.token("clerk", away)
    r = await gw.call("GET", "/api/v1/follow-ups", away_clerk, params={"store": away_code})
    assert [f["stage"] for f in r.json()["items"]] == ["3d", "3w", "3m"], r.text
    task = r.json()["items"][0]
    # The member's home store does not see (or complete) the away store's task.
    home_clerk = w.token("clerk", home)
    r = await gw.call("POST", f"/api/v1/follow-ups/{task['id']}/complete", home_clerk, json={"outcome": "x"})
    assert r.status_code == 404, r.text
    r = await gw.call("POST", f"/api/v1/follow-ups/{task['id']}/complete", away_clerk,
                      json={"outcome": "满意", "notes": "首购回访"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["visit_id"]

    visits = await w.members_api.ListVisits(
        members_pb2.ListVisitsRequest(member_no=member.member_no), metadata=w.md(w.token("hq_admin", "HQ"))
    )
    sub = KeySet.from_settings(w.settings).verify(away_clerk).sub
    assert [(v.outcome, v.store_path, v.staff) for v in visits.visits] == [("满意", away, sub)]


async def test_preview_is_for_template_editors_and_refuses_costly_text_with_a_4xx(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    path = "/api/v1/notify/templates/payment/sms/preview"
    for role, scope in (("clerk", "HQ/R1/S1"), ("region_manager", "HQ/R1"), ("auditor", "HQ")):
        r = await gw.call("POST", path, w.token(role, scope), json={"body": "{{ amount_yuan }} 元"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, r.text)

    admin = w.token("hq_admin", "HQ")
    r = await gw.call("POST", path, admin, json={"body": "{{ amount_yuan }} 元"})
    assert r.status_code == 200 and r.json()["body"] == "128.00 元", r.text
    for text in ("{{ 9**(9**9) }}", "{{ 'x' * 100000000 }}", "{% for i in range(10**6) %}{% endfor %}"):
        r = await gw.call("POST", path, admin, json={"body": text})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["code"] == "invalid_argument" and problem["detail"].startswith("template_too_costly:")
        assert problem["errors"][0]["field"] == "body", problem


async def test_preview_past_the_time_limit_is_a_503_and_the_gateway_keeps_answering(
    notify_gateway, stalled_rendering
) -> None:
    gw, w = notify_gateway, notify_gateway.world
    admin = w.token("hq_admin", "HQ")
    preview = gw.call("POST", "/api/v1/notify/templates/payment/sms/preview", admin, json={"body": "x"})
    listing = gw.call("GET", "/api/v1/notify/templates?event=payment", admin, timeout=2)
    slow, other = await asyncio.gather(preview, listing)
    assert slow.status_code == 503 and slow.json()["code"] == "unavailable", slow.text
    assert other.status_code == 200 and other.json()["items"], other.text
