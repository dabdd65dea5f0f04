"""Risk monitoring (异常交易监测) through the gateway: rules, alerts, acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import grpc
import pytest

from tests.wallet.helpers import (
    assert_problem,
    buckets,
    fails,
    funded,
    pay,
    postings_count,
    risk_rules,
    shop,
    tap,
)

pytestmark = pytest.mark.integration

ADJUST = "/api/v1/wallet/adjustments"


# --- risk rules and alerts ----------------------------------------------------------------------------
async def alerts_of(w, token: str, card: str, status: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    params = {"limit": 500, **({"status": status} if status else {})}
    r = await w.call("GET", "/api/v1/risk/alerts", token, params=params)
    assert r.status_code == 200, r.text
    return [a for a in r.json()["items"] if a["card_no"] == card]


async def test_alert_rule_lets_the_transaction_through_and_raises_an_alert(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create, tap(w) as events:
        rule = await create(kind="single_amount", threshold=30_000, action="alert", applies_to="topup")
        assert (rule["kind"], rule["threshold"], rule["action"]) == ("single_amount", 30_000, "alert")
        r = await w.top_up(s.clerk, card, 30_000)
        assert r.status_code == 201 and r.json()["alerts"] == [], r.text
        r = await w.top_up(s.clerk, card, 30_001)
        assert r.status_code == 201, r.text
        assert r.json()["alerts"] == [rule["name"]]
        assert await buckets(w, s.clerk, card) == (60_001, 0)

        [alert] = await alerts_of(w, w.admin, card, "open")
        assert (alert["rule_name"], alert["action"], alert["amount"], alert["status"]) == (
            rule["name"], "alert", 30_001, "open")  # fmt: skip
        assert alert["acting_store_path"] == alert["home_store_path"] == s.path
        raised = await events.one(card, "wallet.alert.raised")
        assert raised.headers["ce-type"] == "chainclub.events.v1.AlertRaised"
        assert (raised.message.alert_id, raised.message.amount, raised.message.rule_name) == (
            alert["id"], 30_001, rule["name"])  # fmt: skip

    # alerts are scoped: the store's region sees it, another region does not, a clerk may not read them
    assert await alerts_of(w, await w.staff("region_manager", s.region), card)
    assert await alerts_of(w, await w.staff("region_manager", await w.unit("region", "HQ")), card) == []
    assert_problem(await w.call("GET", "/api/v1/risk/alerts", s.clerk), 403, "forbidden")

    ack = await w.call("POST", f"/api/v1/risk/alerts/{alert['id']}/ack", w.admin)
    assert ack.status_code == 200, ack.text
    assert (ack.json()["status"], ack.json()["acknowledged_by"]) == ("acknowledged", "admin")
    assert_problem(await w.call("POST", f"/api/v1/risk/alerts/{alert['id']}/ack", w.admin), 409, "conflict")
    assert await alerts_of(w, w.admin, card, "open") == []
    assert [a["id"] for a in await alerts_of(w, w.admin, card, "acknowledged")] == [alert["id"]]


async def test_block_rule_refuses_the_transaction_but_records_the_alert(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 50_000)
    async with risk_rules(w) as create:
        topups = await create(kind="single_amount", threshold=40_000, action="block", applies_to="topup")
        payments = await create(kind="single_amount", threshold=40_000, action="block", applies_to="payment")
        before = await postings_count(w)
        body = assert_problem(await w.top_up(s.clerk, card, 40_001), 409, "blocked_by_risk_rule")
        assert topups["name"] in body["detail"]
        err = await fails(pay(w, s.grpc_clerk, card, 40_001))
        assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "blocked_by_risk_rule")
        assert await postings_count(w) == before
        assert await buckets(w, s.clerk, card) == (50_000, 0)
        assert (await pay(w, s.grpc_clerk, card, 40_000)).balance.total == 10_000  # at the threshold: allowed
    alerts = await alerts_of(w, w.admin, card, "open")
    assert sorted((a["rule_name"], a["action"], a["transaction_kind"]) for a in alerts) == sorted(
        [(topups["name"], "block", "topup"), (payments["name"], "block", "payment")]
    )


async def test_count_in_window_fires_once_the_limit_is_passed(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create:
        rule = await create(kind="count_in_window", threshold=2, window_seconds=3_600, action="alert",
                            applies_to="topup")  # fmt: skip
        seen = [(await w.top_up(s.clerk, card, 1_000)).json()["alerts"] for _ in range(3)]
        assert seen == [[], [], [rule["name"]]]
        blocker = await create(kind="count_in_window", threshold=2, window_seconds=3_600, action="block",
                               applies_to="payment")  # fmt: skip
        await pay(w, s.grpc_clerk, card, 100)
        await pay(w, s.grpc_clerk, card, 100)
        err = await fails(pay(w, s.grpc_clerk, card, 100))
        assert err.reason == "blocked_by_risk_rule" and blocker["name"] in err.detail
    assert await buckets(w, s.clerk, card) == (2_800, 0)
    assert len(await alerts_of(w, w.admin, card)) == 2


async def test_sum_in_window_fires_once_the_sum_is_passed(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create:
        rule = await create(kind="sum_in_window", threshold=25_000, window_seconds=3_600, action="alert",
                            applies_to="topup")  # fmt: skip
        seen = [(await w.top_up(s.clerk, card, 10_000)).json()["alerts"] for _ in range(3)]
    assert seen == [[], [], [rule["name"]]]
    [alert] = await alerts_of(w, w.admin, card)
    assert "30000" in alert["detail"], alert


async def test_time_of_day_rule_fires_inside_its_hours_only(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    local = datetime.now(UTC).astimezone(ZoneInfo(w.settings.chain_timezone))
    minute = local.hour * 60 + local.minute
    async with risk_rules(w) as create:
        now_rule = await create(kind="time_of_day", start_minute=(minute - 10) % 1440, end_minute=(minute + 10) % 1440,
                                action="alert", applies_to="topup")  # fmt: skip
        later = await create(kind="time_of_day", start_minute=(minute + 120) % 1440, end_minute=(minute + 180) % 1440,
                             action="alert", applies_to="topup")  # fmt: skip
        r = await w.top_up(s.clerk, card, 1_000)
    assert r.status_code == 201, r.text
    assert r.json()["alerts"] == [now_rule["name"]]
    assert later["name"] not in r.json()["alerts"]


async def test_a_rule_created_inactive_does_not_fire(wallet_world):
    """The gateway's risk-rule body takes ``active`` (default true): a rule HQ stages with
    ``"active": false`` is stored inactive and raises nothing."""
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create:
        staged = await create(
            kind="single_amount", threshold=1, action="block", applies_to="topup", active=False
        )
        assert staged["active"] is False, staged
        r = await w.top_up(s.clerk, card, 1_000)
    assert r.status_code == 201, r.text
    assert await alerts_of(w, w.admin, card) == []


async def test_risk_rules_are_hq_only_and_validated(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("region_manager", s.region)
    body = {"name": "x", "kind": "single_amount", "threshold": 1, "action": "alert"}
    assert_problem(await w.call("POST", "/api/v1/risk/rules", manager, json=body), 403, "forbidden")
    for bad in (
        {**body, "kind": "velocity"},
        {**body, "action": "shout"},
        {**body, "threshold": 0},
        {"name": "x", "kind": "count_in_window", "threshold": 3, "action": "alert"},  # no window
        {"name": "x", "kind": "time_of_day", "start_minute": 60, "end_minute": 60, "action": "alert"},
    ):
        assert_problem(await w.call("POST", "/api/v1/risk/rules", w.admin, json=bad), 422, "invalid_argument")
    r = await w.call("GET", "/api/v1/risk/rules", manager)
    assert r.status_code == 200, r.text
    assert "x" not in {rule["name"] for rule in r.json()["items"]}


async def test_alerts_raised_together_are_all_reachable_page_by_page(wallet_world):
    """Lists page with ``?limit=`` and ``?cursor=`` (docs/api.md Conventions): every alert must be on
    some page, also the alerts one transaction raised at the same instant."""
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create:
        for _ in range(3):
            await create(kind="single_amount", threshold=1, action="alert", applies_to="topup")
        r = await w.top_up(s.clerk, card, 5_000)
    assert len(r.json()["alerts"]) == 3, r.text
    assert len(await alerts_of(w, w.admin, card)) == 3
    found, cursor, pages = [], None, 0
    while pages < 1_000:
        params = {"limit": 1, "status": "open", **({"cursor": cursor} if cursor else {})}
        page = await w.call("GET", "/api/v1/risk/alerts", w.admin, params=params)
        assert page.status_code == 200, page.text
        found += [a["id"] for a in page.json()["items"] if a["card_no"] == card]
        cursor, pages = page.json()["next_cursor"], pages + 1
        if not cursor:
            break
    assert len(found) == len(set(found)) == 3, found
