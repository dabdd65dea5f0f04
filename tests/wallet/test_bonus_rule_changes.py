"""Top-up bonus rules (充值赠送) after they are made, through the gateway: a rule maker edits one
in its scope (validated as on create; the next top-up gives the new bonus), turns it off (top-ups
stop applying it) and on again, and deletes one no top-up has applied; one that gave a bonus is
a 409 (deactivate it instead). A rule of another scope is a 404; bad input changes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.wallet.helpers import assert_problem, rand_code, scalar, shop

pytestmark = pytest.mark.integration


async def new_rule(w, token: str, scope: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    """≥ 500 yuan -> +50 yuan and 300 points, in ``scope`` (an org unit code)."""
    body = {"name": rand_code("BONUS"), "min_amount": 50_000, "bonus_amount": 5_000, "bonus_points": 300,
            "scope": scope, **fields}  # fmt: skip
    r = await w.call("POST", "/api/v1/wallet/bonus-rules", token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def listed(w, token: str, rule_id: str) -> dict | None:  # type: ignore[no-untyped-def]
    r = await w.call("GET", "/api/v1/wallet/bonus-rules", token)
    assert r.status_code == 200, r.text
    return next((x for x in r.json()["items"] if x["id"] == rule_id), None)


async def test_an_edited_rule_gives_its_new_bonus_and_keeps_what_was_not_given(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    rule = await new_rule(w, manager, s.store)
    r = await w.call("PATCH", f"/api/v1/wallet/bonus-rules/{rule['id']}", manager,
                     json={"bonus_amount": 8_000, "name": "充500送80"})  # fmt: skip
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["id"], edited["name"], edited["min_amount"], edited["bonus_amount"], edited["bonus_points"]) == (
        rule["id"], "充500送80", 50_000, 8_000, 300,
    )  # fmt: skip
    assert edited["scope"] == rule["scope"] and edited["active"] is True
    assert await listed(w, manager, rule["id"]) == edited

    card = await w.card(s.clerk)
    body = (await w.top_up(s.clerk, card, 50_000)).json()
    assert (body["bonus"], body["bonus_points"]) == (8_000, 300)


async def test_bad_changes_are_refused_and_change_nothing(wallet_world):
    w = wallet_world
    s = await shop(w)
    rule = await new_rule(w, w.admin, s.region)
    path = f"/api/v1/wallet/bonus-rules/{rule['id']}"
    cases = [
        ({"bonus_amount": 0, "bonus_points": 0}, 422, "bonus_amount"),  # a rule must give something
        ({"min_amount": -1}, 422, "min_amount"),
        ({"bonus_amount": 1.5}, 422, "bonus_amount"),  # fen are integers
        ({"name": ""}, 422, "name"),
        ({"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, 422, "ends_at"),
        ({"colour": "red"}, 422, None),
    ]
    for body, status, field in cases:
        assert_problem(await w.call("PATCH", path, w.admin, json=body), status, field=field)
    assert await listed(w, w.admin, rule["id"]) == rule
    assert_problem(await w.call("PATCH", f"/api/v1/wallet/bonus-rules/{uuid.uuid4()}", w.admin,
                                json={"bonus_amount": 1}), 404)  # fmt: skip
    assert_problem(await w.call("PATCH", "/api/v1/wallet/bonus-rules/not-a-uuid", w.admin, json={"bonus_amount": 1}),
                   404)  # fmt: skip


async def test_another_scopes_rule_cannot_be_changed_and_a_rule_cannot_be_moved_out_of_scope(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    manager = await w.staff("store_manager", s.store)
    theirs = await new_rule(w, w.admin, other.store)
    regions = await new_rule(w, w.admin, s.region)  # never HQ-wide: the tests share one database
    for rule in (theirs, regions):  # above or beside the manager's store: not its to change
        path = f"/api/v1/wallet/bonus-rules/{rule['id']}"
        assert_problem(await w.call("PATCH", path, manager, json={"bonus_amount": 1}), 404)
        assert_problem(await w.call("POST", f"{path}/deactivate", manager), 404)
        assert_problem(await w.call("DELETE", path, manager), 404)
    mine = await new_rule(w, manager, s.store)
    r = await w.call(
        "PATCH", f"/api/v1/wallet/bonus-rules/{mine['id']}", manager, json={"scope": other.store}
    )
    assert r.status_code in (403, 404, 422), r.text
    assert (await listed(w, manager, mine["id"]))["scope"] == mine["scope"]
    assert_problem(await w.call("PATCH", f"/api/v1/wallet/bonus-rules/{mine['id']}", s.clerk,
                                json={"bonus_amount": 1}), 403)  # fmt: skip


async def test_a_deactivated_rule_stops_applying_until_turned_on_again(wallet_world):
    w = wallet_world
    s = await shop(w)
    rule = await new_rule(w, w.admin, s.store)
    path = f"/api/v1/wallet/bonus-rules/{rule['id']}"
    card = await w.card(s.clerk)
    r = await w.call("POST", f"{path}/deactivate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    off = (await w.top_up(s.clerk, card, 50_000)).json()
    assert (off["bonus"], off["bonus_points"]) == (0, 0)
    r = await w.call("POST", f"{path}/activate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    on = (await w.top_up(s.clerk, card, 50_000)).json()
    assert (on["bonus"], on["bonus_points"]) == (5_000, 300)
    audit = await w.call("GET", "/api/v1/audit-log", w.admin, params={"target_id": rule["id"], "limit": 10})
    assert audit.status_code == 200, audit.text
    actions = {e["action"] for e in audit.json()["items"]}
    assert {"wallet.bonus_rule.deactivate", "wallet.bonus_rule.activate"} <= actions, actions


async def test_an_unused_rule_is_deleted_an_applied_one_only_deactivated(wallet_world):
    w = wallet_world
    s = await shop(w)
    unused = await new_rule(w, w.admin, s.store, min_amount=99_000_00)
    applied = await new_rule(w, w.admin, s.store)
    card = await w.card(s.clerk)
    body = (await w.top_up(s.clerk, card, 50_000)).json()
    assert body["bonus"] == 5_000
    recorded = await scalar(w, "SELECT bonus_rule_id::text FROM transactions WHERE id = CAST(:id AS uuid)",
                            id=body["transaction_id"])  # fmt: skip
    assert recorded == applied["id"]

    r = await w.call("DELETE", f"/api/v1/wallet/bonus-rules/{applied['id']}", w.admin)
    problem = assert_problem(r, 409, "conflict")
    assert "deactivate" in problem["detail"]
    assert await listed(w, w.admin, applied["id"]) is not None

    r = await w.call("DELETE", f"/api/v1/wallet/bonus-rules/{unused['id']}", w.admin)
    assert r.status_code == 204, r.text
    assert await listed(w, w.admin, unused["id"]) is None
    assert_problem(await w.call("DELETE", f"/api/v1/wallet/bonus-rules/{unused['id']}", w.admin), 404)
