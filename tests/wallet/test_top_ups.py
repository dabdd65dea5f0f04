"""Top-ups through the gateway (docs/api.md "Stored value"): the receipt, bonus rules, idempotency,
bad input that changes nothing, limits, card states, 通存通兑 and HQ's narrowing policies,
batch top-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.wallet.helpers import (
    assert_problem,
    balance,
    buckets,
    history,
    issue,
    new_card_type,
    postings_count,
    rand_code,
    shop,
    top_up_policy,
    username,
)

pytestmark = pytest.mark.integration


async def bonus_rule(w, scope: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    body = {"name": rand_code("BONUS"), "min_amount": 50_000, "bonus_amount": 5_000, "bonus_points": 300,
            "scope": scope, **fields}  # fmt: skip
    r = await w.call("POST", "/api/v1/wallet/bonus-rules", w.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# --- the receipt ------------------------------------------------------------------------------------
async def test_top_up_returns_the_transaction_and_the_new_balance(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    r = await w.top_up(s.clerk, card, 12_345, channel="bank_card")
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"transaction_id", "amount", "bonus", "bonus_points", "balance"} <= set(body)
    uuid.UUID(body["transaction_id"])
    assert (body["amount"], body["bonus"], body["bonus_points"]) == (12_345, 0, 0)
    assert body["balance"] == {"principal": 12_345, "bonus": 0, "total": 12_345}
    assert await balance(w, s.clerk, card) == {
        "principal": 12_345,
        "bonus": 0,
        "total": 12_345,
        "status": "active",
    }
    [txn] = await history(w, s.clerk, card)
    assert txn["transaction_id"] == body["transaction_id"]
    assert (txn["kind"], txn["amount"], txn["principal"], txn["bonus"], txn["channel"]) == (
        "topup", 12_345, 12_345, 0, "bank_card")  # fmt: skip
    assert txn["acting_store_path"] == txn["home_store_path"] == s.path


async def test_every_channel_of_the_contract_is_accepted(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    channels = ["cash", "bank_card", "co_branded", "telecom", "terminal", "online", "batch"]
    for channel in channels:
        r = await w.top_up(s.clerk, card, 100, channel=channel)
        assert r.status_code == 201, (channel, r.text)
    assert sorted(t["channel"] for t in await history(w, s.clerk, card)) == sorted(channels)
    assert (await balance(w, s.clerk, card))["total"] == 700


# --- bonus rules --------------------------------------------------------------------------------------
async def test_bonus_rule_adds_bonus_money_and_points_from_its_minimum(wallet_world):
    w = wallet_world
    s = await shop(w)
    rule = await bonus_rule(w, s.region)
    assert rule["scope"] == f"HQ/{s.region}"
    assert (rule["min_amount"], rule["bonus_amount"], rule["bonus_points"]) == (50_000, 5_000, 300)
    card = await w.card(s.clerk)

    below = (await w.top_up(s.clerk, card, 49_999)).json()
    assert (below["bonus"], below["bonus_points"]) == (0, 0)
    reached = await w.top_up(s.clerk, card, 50_000)
    assert reached.status_code == 201, reached.text
    body = reached.json()
    assert (body["amount"], body["bonus"], body["bonus_points"]) == (50_000, 5_000, 300)
    assert body["balance"] == {"principal": 99_999, "bonus": 5_000, "total": 104_999}
    assert await buckets(w, s.clerk, card) == (99_999, 5_000)
    listed = await w.call("GET", "/api/v1/wallet/bonus-rules", s.clerk)
    assert rule["id"] in {r["id"] for r in listed.json()["items"]}


async def test_bonus_rule_of_another_region_does_not_apply(wallet_world):
    w = wallet_world
    s = await shop(w)
    elsewhere = await w.unit("region", "HQ")
    await bonus_rule(w, elsewhere)
    card = await w.card(s.clerk)
    body = (await w.top_up(s.clerk, card, 60_000)).json()
    assert (body["bonus"], body["bonus_points"]) == (0, 0)
    assert await buckets(w, s.clerk, card) == (60_000, 0)


async def test_bonus_rule_outside_its_window_does_not_apply(wallet_world):
    w = wallet_world
    s = await shop(w)
    now = datetime.now(UTC)
    await bonus_rule(w, s.store, starts_at=(now + timedelta(days=1)).isoformat())
    await bonus_rule(w, s.store, starts_at=(now - timedelta(days=2)).isoformat(),
                     ends_at=(now - timedelta(hours=1)).isoformat())  # fmt: skip
    card = await w.card(s.clerk)
    body = (await w.top_up(s.clerk, card, 70_000)).json()
    assert (body["bonus"], body["bonus_points"]) == (0, 0)
    # the same rule inside its window does apply
    await bonus_rule(w, s.store, bonus_amount=700, bonus_points=0, starts_at=(now - timedelta(hours=1)).isoformat(),
                     ends_at=(now + timedelta(hours=1)).isoformat())  # fmt: skip
    body = (await w.top_up(s.clerk, card, 70_000)).json()
    assert (body["bonus"], body["bonus_points"]) == (700, 0)


# --- idempotency ----------------------------------------------------------------------------------
async def test_replayed_top_up_has_one_effect_and_the_same_answer(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    idem = uuid.uuid4().hex
    first = await w.top_up(s.clerk, card, 8_000, key=idem)
    again = await w.top_up(s.clerk, card, 8_000, key=idem)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert await buckets(w, s.clerk, card) == (8_000, 0)
    assert len(await history(w, s.clerk, card)) == 1


async def test_same_key_with_another_body_is_refused(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    idem = uuid.uuid4().hex
    assert (await w.top_up(s.clerk, card, 8_000, key=idem)).status_code == 201
    assert_problem(await w.top_up(s.clerk, card, 9_000, key=idem), 409, "idempotency_key_reused")
    assert_problem(
        await w.top_up(s.clerk, card, 8_000, channel="online", key=idem), 409, "idempotency_key_reused"
    )
    assert await buckets(w, s.clerk, card) == (8_000, 0)


async def test_idempotency_keys_belong_to_their_caller(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    c1, c2 = await w.card(s.clerk), await w.card(other.clerk)
    first = await w.top_up(s.clerk, c1, 1_000, key="1")
    second = await w.top_up(other.clerk, c2, 2_000, key="1")
    assert first.status_code == second.status_code == 201, second.text
    assert first.json()["transaction_id"] != second.json()["transaction_id"]
    assert await buckets(w, other.clerk, c2) == (2_000, 0)


async def test_top_up_without_idempotency_key_is_refused(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    before = await postings_count(w)
    r = await w.call(
        "POST", f"/api/v1/cards/{card}/top-ups", s.clerk, json={"amount": 100, "channel": "cash"}
    )
    assert_problem(r, 400, "idempotency_key_required")
    r = await w.call("POST", f"/api/v1/cards/{card}/top-ups", s.clerk, json={"amount": 100, "channel": "cash"},
                     headers={"Idempotency-Key": ""})  # fmt: skip
    assert_problem(r, 400, "idempotency_key_required")
    r = await w.top_up(s.clerk, card, 100, key="k" * 256)  # 1-255 characters
    assert_problem(r, 422, "invalid_argument")
    assert (await w.top_up(s.clerk, card, 100, key="k" * 255)).status_code == 201
    assert await postings_count(w) == before + 2  # the one good top-up: principal and clearing
    assert len(await history(w, s.clerk, card)) == 1


# --- bad input changes nothing ----------------------------------------------------------------------
BAD_BODIES = [
    {"amount": 0, "channel": "cash"},
    {"amount": -100, "channel": "cash"},
    {"amount": 100.5, "channel": "cash"},
    {"amount": 100.0, "channel": "cash"},
    {"amount": "100", "channel": "cash"},
    {"amount": None, "channel": "cash"},
    {"channel": "cash"},
    {"amount": 100, "channel": "bitcoin"},
    {"amount": 100, "channel": ""},
]


async def test_bad_top_up_input_is_refused_and_writes_nothing(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    before = await postings_count(w)
    idem = uuid.uuid4().hex
    for body in BAD_BODIES:
        r = await w.call("POST", f"/api/v1/cards/{card}/top-ups", s.clerk, json=body,
                         headers={"Idempotency-Key": idem})  # fmt: skip
        assert_problem(r, 422, "invalid_argument")
        assert r.json().get("errors"), r.text
    assert await postings_count(w) == before
    assert await history(w, s.clerk, card) == []
    assert await buckets(w, s.clerk, card) == (0, 0)
    # nothing was stored under the key either: it still serves a good body
    assert (await w.top_up(s.clerk, card, 100, key=idem)).status_code == 201


async def test_amounts_beyond_int64_are_refused_with_422_not_500(wallet_world):
    """docs/design.md §5 Errors: bad input always gets a 4xx and changes nothing; a 500 is a bug."""
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    card = await w.card(s.clerk)
    before = await postings_count(w)
    wrong: list[str] = []
    for huge in (2**63, 10**20):
        for method, path, token, body in (
            ("POST", f"/api/v1/cards/{card}/top-ups", s.clerk, {"amount": huge, "channel": "cash"}),
            ("POST", f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "service", "amount": huge}),
            ("POST", f"/api/v1/cards/{card}/close", manager, {"fee": huge}),
            ("POST", "/api/v1/wallet/adjustments", w.admin, {"card_no": card, "amount": -huge, "reason": "x"}),
            ("POST", "/api/v1/wallet/batch-top-ups", manager, {"rows": [{"card_no": card, "amount": huge}]}),
            ("POST", "/api/v1/wallet/bonus-rules", w.admin, {"name": "x", "min_amount": huge, "bonus_amount": 1}),
            ("POST", "/api/v1/risk/rules", w.admin,
             {"name": "x", "kind": "single_amount", "threshold": huge, "action": "alert", "active": False}),
        ):  # fmt: skip
            r = await w.call(method, path, token, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            if r.status_code != 422 or r.json().get("code") != "invalid_argument":
                wrong.append(f"{method} {path} with {huge}: {r.status_code} {r.json().get('code')}")
        csv = f"card_no,amount\n{card},{huge}\n".encode()
        r = await w.call("POST", "/api/v1/wallet/batch-top-ups", manager, files={"file": ("x.csv", csv, "text/csv")},
                         headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        if r.status_code != 422:
            wrong.append(
                f"POST /api/v1/wallet/batch-top-ups (CSV) with {huge}: {r.status_code} {r.json().get('code')}"
            )
    assert wrong == [], "\n".join(wrong)
    assert await postings_count(w) == before


async def test_transactions_page_by_cursor(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    made = [(await w.top_up(s.clerk, card, 100 + i)).json()["transaction_id"] for i in range(5)]
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await w.call("GET", f"/api/v1/cards/{card}/transactions", s.clerk, params=params)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) <= 2
        seen += [t["transaction_id"] for t in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == made[::-1]  # newest first, each once


async def test_top_up_of_an_unknown_card_is_404_and_writes_nothing(wallet_world):
    w = wallet_world
    s = await shop(w)
    before = await postings_count(w)
    idem = uuid.uuid4().hex
    r = await w.top_up(s.clerk, "8800000000000000", 1_000, key=idem)
    assert_problem(r, 404, "not_found")
    assert await postings_count(w) == before


async def test_refused_validation_stores_nothing_under_the_key(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    idem = uuid.uuid4().hex
    assert_problem(await w.top_up(s.clerk, "8800000000000000", 1_000, key=idem), 404, "not_found")
    r = await w.top_up(s.clerk, card, 1_000, key=idem)
    assert r.status_code == 201, r.text


async def test_top_up_over_the_single_limit_is_refused(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    before = await postings_count(w)
    limit = w.settings.wallet_max_single_top_up
    assert_problem(await w.top_up(s.clerk, card, limit + 1), 422, "limit_exceeded")
    assert await postings_count(w) == before
    assert await history(w, s.clerk, card) == []
    assert (await w.top_up(s.clerk, card, limit)).status_code == 201


async def test_card_type_limits_apply_single_and_balance(wallet_world):
    w = wallet_world
    s = await shop(w)
    ctype = await new_card_type(w, max_balance=20_000, max_single_top_up=15_000)
    member = await w.register(s.clerk)
    card = await issue(w, s.clerk, member["member_no"], ctype)

    assert_problem(await w.top_up(s.clerk, card, 15_001), 422, "limit_exceeded")
    assert (await w.top_up(s.clerk, card, 15_000)).status_code == 201
    before = await postings_count(w)
    r = await w.top_up(s.clerk, card, 5_001)
    body = assert_problem(r, 422, "limit_exceeded")
    assert "20000" in body["detail"], body
    assert await postings_count(w) == before
    assert await buckets(w, s.clerk, card) == (15_000, 0)
    assert len(await history(w, s.clerk, card)) == 1
    assert (await w.top_up(s.clerk, card, 5_000)).status_code == 201
    assert await buckets(w, s.clerk, card) == (20_000, 0)


@pytest.mark.parametrize(("action", "code"), [("report-loss", "card_lost"), ("freeze", "card_frozen")])
async def test_a_blocked_card_cannot_be_topped_up(wallet_world, action, code):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    assert (await w.top_up(s.clerk, card, 1_000)).status_code == 201
    r = await w.call("POST", f"/api/v1/cards/{card}/{action}", s.clerk)
    assert r.status_code == 200, r.text
    before = await postings_count(w)
    assert_problem(await w.top_up(s.clerk, card, 1_000), 409, code)
    assert await postings_count(w) == before
    assert await buckets(w, s.clerk, card) == (1_000, 0)


# --- across the chain (通存通兑) and HQ's narrowing ---------------------------------------------------------
async def test_any_store_of_the_chain_may_top_up_and_both_stores_are_recorded(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    card = await w.card(home.clerk)
    r = await w.top_up(away.clerk, card, 3_000)
    assert r.status_code == 201, r.text
    assert r.json()["balance"]["total"] == 3_000
    [txn] = await history(w, home.clerk, card)
    assert txn["acting_store_path"] == away.path
    assert txn["home_store_path"] == home.path
    assert_problem(await w.call("GET", f"/api/v1/cards/{card}/transactions", away.clerk), 404, "not_found")


async def test_a_terminal_of_another_store_may_top_up(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    terminal = await w.terminal(away.store)
    card = await w.card(home.clerk)
    r = await w.top_up(terminal, card, 2_500, channel="terminal")
    assert r.status_code == 201, r.text
    [txn] = await history(w, home.clerk, card)
    assert (txn["acting_store_path"], txn["home_store_path"]) == (away.path, home.path)


async def test_card_type_narrowed_to_its_region_refuses_other_regions(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    ctype = await new_card_type(w, home_scope=home.region)
    member = await w.register(home.clerk)
    card = await issue(w, home.clerk, member["member_no"], ctype)
    before = await postings_count(w)
    body = assert_problem(await w.top_up(away.clerk, card, 1_000), 403, "forbidden")
    assert ctype in body["detail"] and "policy" in body["detail"], body
    assert await postings_count(w) == before
    neighbour = await shop(w, region=home.region)  # another store of the same region is fine
    assert (await w.top_up(neighbour.clerk, card, 1_000)).status_code == 201
    assert (await w.top_up(home.clerk, card, 1_000)).status_code == 201
    assert await buckets(w, home.clerk, card) == (2_000, 0)


async def test_top_up_policy_designates_stores_and_operators(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    designated = await shop(w)
    card = await w.card(home.clerk)
    operator = await username(w, away.clerk)
    refused_key = uuid.uuid4().hex
    async with top_up_policy(w, [designated.store]) as policy:
        assert policy["store_paths"] == [designated.path]
        for token in (home.clerk, away.clerk):
            body = assert_problem(await w.top_up(token, card, 1_000, key=refused_key), 403, "forbidden")
            assert "policy" in body["detail"], body
        assert (await w.top_up(designated.clerk, card, 1_000)).status_code == 201
    async with top_up_policy(w, [designated.store], [operator]):
        assert (await w.top_up(away.clerk, card, 2_000)).status_code == 201
        assert_problem(await w.top_up(home.clerk, card, 1_000), 403, "forbidden")
    r = await w.call("GET", "/api/v1/wallet/top-up-policy", home.clerk)
    assert r.status_code == 200 and r.json() == {"store_paths": [], "operators": []}, r.text
    assert (await w.top_up(home.clerk, card, 4_000)).status_code == 201
    # a refusal stored nothing under its key
    assert (await w.top_up(home.clerk, card, 1_000, key=refused_key)).status_code == 201
    assert await buckets(w, home.clerk, card) == (8_000, 0)


async def test_only_hq_sets_the_top_up_policy(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("region_manager", s.region)
    r = await w.call("PUT", "/api/v1/wallet/top-up-policy", manager, json={"stores": [s.store]})
    assert_problem(r, 403, "forbidden")
    r = await w.call("GET", "/api/v1/wallet/top-up-policy", s.clerk)
    assert r.status_code == 200 and r.json()["store_paths"] == [], r.text
