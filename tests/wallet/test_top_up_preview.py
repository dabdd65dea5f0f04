"""The top-up preview (充值赠送 before it is confirmed): POST /cards/{card_no}/top-ups/preview
shows the bonus the wallet's active rule would give, exactly what the top-up then gives; it
is refused as the top-up would be, and it changes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.wallet.helpers import (
    assert_problem,
    buckets,
    history,
    issue,
    new_card_type,
    postings_count,
    rand_code,
    risk_rules,
    scalar,
    shop,
    top_up_policy,
)

pytestmark = pytest.mark.integration


async def preview(w, token: str, card: str, amount: int, channel: str = "cash"):  # type: ignore[no-untyped-def]
    return await w.call(
        "POST", f"/api/v1/cards/{card}/top-ups/preview", token, json={"amount": amount, "channel": channel}
    )


async def bonus_rule(w, scope: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    """≥ 500 yuan -> +50 yuan and 300 points, in ``scope``."""
    body = {"name": rand_code("BONUS"), "min_amount": 50_000, "bonus_amount": 5_000, "bonus_points": 300,
            "scope": scope, **fields}  # fmt: skip
    r = await w.call("POST", "/api/v1/wallet/bonus-rules", w.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_preview_shows_the_bonus_the_top_up_then_gives(wallet_world):
    w = wallet_world
    s = await shop(w)
    rule = await bonus_rule(w, s.region)
    card = await w.card(s.clerk)
    before = await postings_count(w)
    r = await preview(w, s.clerk, card, 50_000)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "amount": 50_000,
        "bonus": 5_000,
        "bonus_points": 300,
        "rule": {"id": rule["id"], "name": rule["name"]},
    }
    below = await preview(w, s.clerk, card, 49_999)
    assert below.json() == {"amount": 49_999, "bonus": 0, "bonus_points": 0, "rule": None}
    # nothing moved, nothing was opened
    assert await postings_count(w) == before
    assert await scalar(w, "SELECT count(*) FROM accounts WHERE card_no = :card", card=card) == 0
    assert await history(w, s.clerk, card) == []
    assert await buckets(w, s.clerk, card) == (0, 0)
    done = await w.top_up(s.clerk, card, 50_000)
    assert done.status_code == 201, done.text
    assert (done.json()["bonus"], done.json()["bonus_points"]) == (5_000, 300)
    assert await buckets(w, s.clerk, card) == (50_000, 5_000)
    # with money on the card the preview still answers (a terminal too, without an Idempotency-Key)
    terminal = await w.terminal(s.store)
    again = await preview(w, terminal, card, 60_000, channel="terminal")
    assert again.status_code == 200, again.text
    assert (again.json()["bonus"], again.json()["rule"]["id"]) == (5_000, rule["id"])


async def test_the_preview_is_refused_as_the_top_up_would_be(wallet_world):
    w = wallet_world
    s = await shop(w)
    ctype = await new_card_type(w, max_balance=20_000, max_single_top_up=15_000)
    member = await w.register(s.clerk)
    card = await issue(w, s.clerk, member["member_no"], ctype)
    before = await postings_count(w)
    assert_problem(await preview(w, s.clerk, card, 15_001), 422, "limit_exceeded")
    assert (await w.top_up(s.clerk, card, 15_000)).status_code == 201
    assert_problem(await preview(w, s.clerk, card, 5_001), 422, "limit_exceeded")  # the balance limit
    assert (await preview(w, s.clerk, card, 5_000)).status_code == 200
    assert_problem(await preview(w, s.clerk, "C-NO-SUCH-CARD", 1_000), 404, "not_found")
    for body in ({"amount": 0}, {"amount": -1}, {"amount": 100, "channel": "bitcoin"}, {"channel": "cash"}):
        r = await w.call("POST", f"/api/v1/cards/{card}/top-ups/preview", s.clerk, json=body)
        assert_problem(r, 422, "invalid_argument")
    r = await w.call("POST", f"/api/v1/cards/{card}/report-loss", s.clerk)
    assert r.status_code == 200, r.text
    assert_problem(await preview(w, s.clerk, card, 1_000), 409, "card_lost")
    assert await postings_count(w) == before + 2  # the one top-up: principal and clearing


async def test_the_preview_follows_hq_policy_and_blocking_risk_rules(wallet_world):
    w = wallet_world
    home = await shop(w)
    designated = await shop(w)
    card = await w.card(home.clerk)
    async with top_up_policy(w, [designated.store]):
        body = assert_problem(await preview(w, home.clerk, card, 1_000), 403, "forbidden")
        assert "policy" in body["detail"], body
        assert (await preview(w, designated.clerk, card, 1_000)).status_code == 200
    async with risk_rules(w) as create:
        rule = await create(kind="single_amount", threshold=40_000, action="block", applies_to="topup")
        body = assert_problem(await preview(w, home.clerk, card, 40_001), 409, "blocked_by_risk_rule")
        assert rule["name"] in body["detail"]
        assert (await preview(w, home.clerk, card, 40_000)).status_code == 200
        r = await w.call("GET", "/api/v1/risk/alerts", w.admin, params={"limit": 500})
        assert [a for a in r.json()["items"] if a["card_no"] == card] == []  # a preview raises no alert
    assert await buckets(w, home.clerk, card) == (0, 0)
    assert (await w.top_up(home.clerk, card, 1_000, key=uuid.uuid4().hex)).status_code == 201
