"""Risk rules HQ scopes to a subtree, changes, turns off and deletes; alerts that name their
transactions and keep the acknowledgement note; the top-up report. Through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kit.testing import eventually
from tests.wallet.helpers import assert_problem, history, risk_rules, shop, tap

pytestmark = pytest.mark.integration

RULES = "/api/v1/risk/rules"


async def alerts_of(w, token: str, card: str, status: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    params = {"limit": 500, **({"status": status} if status else {})}
    r = await w.call("GET", "/api/v1/risk/alerts", token, params=params)
    assert r.status_code == 200, r.text
    return [a for a in r.json()["items"] if a["card_no"] == card]


async def topped_up(w, token: str, card: str, amount: int) -> dict:  # type: ignore[no-untyped-def]
    r = await w.top_up(token, card, amount)
    assert r.status_code == 201, r.text
    return r.json()


async def test_an_alert_names_the_transactions_behind_it_and_keeps_the_note(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with risk_rules(w) as create, tap(w) as events:
        await create(
            kind="count_in_window", threshold=2, window_seconds=3_600, action="alert", applies_to="topup"
        )
        made = [await topped_up(w, s.clerk, card, 1_000) for _ in range(3)]
        blocker = await create(kind="single_amount", threshold=50_000, action="block", applies_to="topup")
        assert_problem(await w.top_up(s.clerk, card, 50_001), 409, "blocked_by_risk_rule")
        # every alert's event names the same transactions as the alert
        await eventually(lambda: len(events.of(card, "wallet.alert.raised")) == 3, what="three alert events")
        published = {
            e.message.alert_id: list(e.message.transaction_ids)
            for e in events.of(card, "wallet.alert.raised")
        }
    alerts = await alerts_of(w, w.admin, card, "open")
    assert published == {a["id"]: a["transaction_ids"] for a in alerts}
    [window] = [a for a in alerts if a["kind"] == "count_in_window" and a["amount"] == 1_000]
    # the two top-ups the window counted, then the one that raised it
    assert window["transaction_ids"] == [m["transaction_id"] for m in made]
    assert {t["transaction_id"] for t in await history(w, s.clerk, card)} >= set(window["transaction_ids"])
    # the refused top-up wrote no transaction: its alerts name only what the window counted
    [refused] = [a for a in alerts if a["rule_name"] == blocker["name"]]
    assert refused["transaction_ids"] == []
    [counted] = [a for a in alerts if a["kind"] == "count_in_window" and a["amount"] == 50_001]
    assert counted["transaction_ids"] == [m["transaction_id"] for m in made]

    note = "查看了收银录像，会员本人充值"
    r = await w.call("POST", f"/api/v1/risk/alerts/{window['id']}/ack", w.admin, json={"note": note})
    assert r.status_code == 200, r.text
    assert (r.json()["acknowledgement_note"], r.json()["acknowledged_by"]) == (note, "admin")
    assert r.json()["acknowledged_at"]
    [kept] = [a for a in await alerts_of(w, w.admin, card, "acknowledged") if a["id"] == window["id"]]
    assert (kept["acknowledgement_note"], kept["acknowledged_at"]) == (note, r.json()["acknowledged_at"])
    too_long = await w.call(
        "POST", f"/api/v1/risk/alerts/{refused['id']}/ack", w.admin, json={"note": "x" * 501}
    )
    assert_problem(too_long, 422, "invalid_argument")
    assert {a["id"] for a in await alerts_of(w, w.admin, card, "open")} == {refused["id"], counted["id"]}


async def test_a_regions_rule_watches_its_subtree_only(wallet_world):
    w = wallet_world
    inside, outside = await shop(w), await shop(w)
    region = f"HQ/{inside.region}"
    in_card, out_card = await w.card(inside.clerk), await w.card(outside.clerk)
    async with risk_rules(w) as create:
        rule = await create(
            kind="single_amount", threshold=500, action="alert", applies_to="topup", scope=region
        )
        assert rule["scope"] == region
        assert (await topped_up(w, inside.clerk, in_card, 1_000))["alerts"] == [rule["name"]]
        assert (await topped_up(w, outside.clerk, out_card, 1_000))["alerts"] == []
        # a region's managers see the rules that reach them, not another region's
        own = await w.staff("region_manager", inside.region)
        other = await w.staff("region_manager", outside.region)
        for token, sees in ((own, True), (other, False), (w.admin, True)):
            r = await w.call("GET", RULES, token)
            assert r.status_code == 200, r.text
            assert (rule["id"] in {x["id"] for x in r.json()["items"]}) is sees
    assert [a["rule_name"] for a in await alerts_of(w, w.admin, in_card)] == [rule["name"]]
    assert await alerts_of(w, w.admin, out_card) == []
    body = {"name": "nowhere", "kind": "single_amount", "threshold": 1, "action": "alert", "scope": "XX/1"}
    assert_problem(await w.call("POST", RULES, w.admin, json=body), 422, "invalid_argument")


async def test_a_rule_is_changed_turned_off_and_on_and_deleted_only_while_no_alert_names_it(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    manager = await w.staff("region_manager", s.region)
    async with risk_rules(w) as create:
        rule = await create(kind="single_amount", threshold=5_000, action="alert", applies_to="topup",
                            scope=f"HQ/{s.region}")  # fmt: skip
        assert (await topped_up(w, s.clerk, card, 2_000))["alerts"] == []

        r = await w.call("PATCH", f"{RULES}/{rule['id']}", w.admin, json={"threshold": 1_000})
        assert r.status_code == 200, r.text
        assert (r.json()["threshold"], r.json()["name"], r.json()["scope"]) == (
            1_000,
            rule["name"],
            rule["scope"],
        )
        assert (await topped_up(w, s.clerk, card, 2_000))["alerts"] == [rule["name"]]
        for bad in ({"threshold": 0}, {"kind": "count_in_window"}, {"scope": "nowhere"}):
            assert_problem(
                await w.call("PATCH", f"{RULES}/{rule['id']}", w.admin, json=bad), 422, "invalid_argument"
            )
        assert_problem(
            await w.call("PATCH", f"{RULES}/{rule['id']}", manager, json={"threshold": 9}), 403, "forbidden"
        )
        missing = "00000000-0000-0000-0000-000000000000"
        assert_problem(
            await w.call("PATCH", f"{RULES}/{missing}", w.admin, json={"threshold": 9}), 404, "not_found"
        )

        r = await w.call("POST", f"{RULES}/{rule['id']}/deactivate", w.admin)
        assert r.status_code == 200 and r.json()["active"] is False, r.text
        assert (await topped_up(w, s.clerk, card, 2_000))["alerts"] == []
        r = await w.call("POST", f"{RULES}/{rule['id']}/activate", w.admin)
        assert r.status_code == 200 and r.json()["active"] is True, r.text
        assert (await topped_up(w, s.clerk, card, 2_000))["alerts"] == [rule["name"]]

        body = assert_problem(await w.call("DELETE", f"{RULES}/{rule['id']}", w.admin), 409, "conflict")
        assert "deactivate" in body["detail"]
        unused = await create(kind="single_amount", threshold=10**9, action="alert", applies_to="payment")
        assert_problem(await w.call("DELETE", f"{RULES}/{unused['id']}", manager), 403, "forbidden")
        r = await w.call("DELETE", f"{RULES}/{unused['id']}", w.admin)
        assert r.status_code == 204, r.text
    ids = {x["id"] for x in (await w.call("GET", RULES, w.admin)).json()["items"]}
    assert rule["id"] in ids and unused["id"] not in ids
    assert_problem(await w.call("DELETE", f"{RULES}/{unused['id']}", w.admin), 404, "not_found")


async def test_the_top_up_report_counts_principal_and_bonus_per_store_and_day(wallet_world):
    w = wallet_world
    s, other = await shop(w), await shop(w)
    card = await w.card(s.clerk)
    for amount in (1_000, 2_500):
        await topped_up(w, s.clerk, card, amount)
    await topped_up(w, other.clerk, await w.card(other.clerk), 700)
    today = datetime.now(UTC).astimezone(ZoneInfo(w.settings.chain_timezone)).date().isoformat()
    manager = await w.staff("region_manager", s.region)
    r = await w.call("GET", "/api/v1/reports/top-ups", manager, params={"from": today, "to": today})
    assert r.status_code == 200, r.text
    report = r.json()
    assert [(x["store_path"], x["count"], x["principal"], x["bonus"]) for x in report["stores"]] == [
        (s.path, 2, 3_500, 0)
    ]
    assert [(x["day"], x["count"], x["principal"]) for x in report["days"]] == [(today, 2, 3_500)]
    assert report["totals"] == {"count": 2, "principal": 3_500, "bonus": 0}
    hq = (await w.call("GET", "/api/v1/reports/top-ups", w.admin, params={"from": today, "to": today})).json()
    assert {x["store_path"] for x in hq["stores"]} >= {s.path, other.path}
    bad = await w.call("GET", "/api/v1/reports/top-ups", w.admin, params={"from": today, "to": "2020-01-01"})
    assert_problem(bad, 422, "invalid_argument")
    xlsx = await w.call("GET", "/api/v1/reports/top-ups.xlsx", manager, params={"from": today, "to": today})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", xlsx.text[:200]
