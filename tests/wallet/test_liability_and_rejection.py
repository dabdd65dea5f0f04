"""Stored value outstanding (GET /wallet/liability: the balances of the members of a scope,
summed) and rejecting an adjustment that waits for approval (POST /wallet/adjustments/{id}/reject:
a reason, nothing moves, again the same answer, never approved afterwards)."""

from __future__ import annotations

import uuid

import pytest

from chainclub.wallet.v1 import wallet_pb2 as pb
from tests.wallet.helpers import (
    assert_problem,
    buckets,
    fails,
    funded,
    key,
    pay,
    post,
    postings_count,
    shop,
    username,
)

pytestmark = pytest.mark.integration

LIABILITY = "/api/v1/wallet/liability"
ADJUST = "/api/v1/wallet/adjustments"


async def liability(w, token: str, org_unit: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    r = await w.call("GET", LIABILITY, token, params={"org_unit": org_unit} if org_unit else None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == body["principal"] + body["bonus"], body
    return body


# --- stored value outstanding ----------------------------------------------------------------------
async def test_the_liability_sums_the_balances_of_the_scope(wallet_world):
    w = wallet_world
    a = await shop(w)
    b = await shop(w, a.region)
    elsewhere = await shop(w)
    card_a = await funded(w, a, 10_000, 500)
    await funded(w, b, 3_000)
    await funded(w, elsewhere, 7_000)
    await w.card(a.clerk)  # a card that never held value counts for nothing

    store = await liability(w, w.admin, a.store)
    assert store == {"org_unit": a.path, "principal": 10_000, "bonus": 500, "total": 10_500, "accounts": 1}
    region = await liability(w, w.admin, a.region)
    assert region == {
        "org_unit": f"HQ/{a.region}", "principal": 13_000, "bonus": 500, "total": 13_500, "accounts": 2,
    }  # fmt: skip
    assert await liability(w, w.admin, a.path) == store  # a path as well as a code

    # a manager's default is its own scope; another scope is the same 422 as an unknown unit
    manager = await w.staff("region_manager", a.region)
    assert await liability(w, manager) == region
    assert await liability(w, manager, b.store) == await liability(w, w.admin, b.store)
    for unit in (elsewhere.store, elsewhere.region, "HQ", "NOSUCHUNIT"):
        assert_problem(
            await w.call("GET", LIABILITY, manager, params={"org_unit": unit}),
            422,
            "invalid_argument",
            "org_unit",
        )
    store_manager = await w.staff("store_manager", a.store)
    assert await liability(w, store_manager) == store
    auditor = await w.staff("auditor", "HQ")
    assert await liability(w, auditor, a.region) == region
    everything = await liability(w, auditor)
    assert everything["org_unit"] == "HQ" and everything["total"] >= 13_500 + 7_000
    assert_problem(await w.call("GET", LIABILITY, a.clerk), 403, "forbidden")

    # money spent leaves the liability; the figure follows the balances
    await pay(w, a.grpc_clerk, card_a, 2_100)
    principal, bonus = await buckets(w, a.clerk, card_a)
    after = await liability(w, w.admin, a.store)
    assert (after["principal"], after["bonus"], after["total"]) == (principal, bonus, 10_500 - 2_100)


async def test_the_wallet_refuses_a_liability_outside_the_scope(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    await funded(w, s, 1_234)
    manager = w.token_for("region_manager", f"HQ/{s.region}")
    reply = await w.wallet.GetLiability(pb.GetLiabilityRequest(), metadata=w.md(manager), timeout=10)
    assert (reply.org_path, reply.total, reply.accounts) == (f"HQ/{s.region}", 1_234, 1)
    err = await fails(
        w.wallet.GetLiability(pb.GetLiabilityRequest(org_path=other.path), metadata=w.md(manager), timeout=10)
    )
    assert err.reason == "invalid_argument"
    # a sibling whose path starts the same is not inside a store's scope
    store_manager = w.token_for("store_manager", s.path)
    err = await fails(
        w.wallet.GetLiability(pb.GetLiabilityRequest(org_path=s.path + "X"), metadata=w.md(store_manager))
    )
    assert err.reason == "invalid_argument"
    err = await fails(w.wallet.GetLiability(pb.GetLiabilityRequest(), metadata=w.md(s.grpc_clerk)))
    assert err.reason == "forbidden"


# --- rejecting an adjustment -----------------------------------------------------------------------
async def pending(w, card: str, token: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    amount = w.settings.wallet_adjustment_approval_threshold + 50_000
    r = await post(w, ADJUST, token or w.admin, {"card_no": card, "amount": amount, "reason": "old system"})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_approval"
    return r.json()


async def test_a_rejected_adjustment_moves_nothing_and_cannot_be_approved(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    adj = await pending(w, card)
    reject = f"{ADJUST}/{adj['id']}/reject"
    before = await postings_count(w)

    assert_problem(await w.call("POST", reject, w.admin, json={}), 422, field="reason")
    assert_problem(
        await w.call("POST", reject, w.admin, json={"reason": "   "}), 422, "invalid_argument", "reason"
    )
    for token in (await w.staff("region_manager", s.region), await w.staff("auditor", "HQ"), s.clerk):
        assert_problem(await w.call("POST", reject, token, json={"reason": "no"}), 403, "forbidden")

    second = await w.staff("hq_admin", "HQ")
    r = await w.call("POST", reject, second, json={"reason": "no such debt"})
    assert r.status_code == 200, r.text
    rejected = r.json()
    assert (rejected["status"], rejected["rejected_by"], rejected["rejection_reason"]) == (
        "rejected", await username(w, second), "no such debt",
    )  # fmt: skip
    assert rejected.get("transaction_id") in (None, "")
    # again (by anyone of HQ, whatever the reason): the same answer
    again = await w.call("POST", reject, w.admin, json={"reason": "another reason"})
    assert again.status_code == 200, again.text
    assert again.json() == rejected
    # approving it afterwards is refused; nothing moved at any point
    assert_problem(await w.call("POST", f"{ADJUST}/{adj['id']}/approve", second), 409, "conflict")
    assert await buckets(w, s.clerk, card) == (1_000, 0)
    assert await postings_count(w) == before

    listed = await w.call("GET", ADJUST, w.admin, params={"status": "rejected"})
    assert listed.status_code == 200, listed.text
    assert adj["id"] in {a["id"] for a in listed.json()["items"]}
    waiting = await w.call("GET", ADJUST, w.admin, params={"status": "pending_approval"})
    assert adj["id"] not in {a["id"] for a in waiting.json()["items"]}


async def test_the_requester_may_withdraw_its_own_but_an_applied_one_stays(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    maker = await w.staff("hq_admin", "HQ")
    own = await pending(w, card, maker)
    r = await w.call("POST", f"{ADJUST}/{own['id']}/reject", maker, json={"reason": "typed the wrong card"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["rejected_by"]) == ("rejected", await username(w, maker))

    applied = await pending(w, card)
    done = await w.call("POST", f"{ADJUST}/{applied['id']}/approve", maker)
    assert done.status_code == 200, done.text
    amount = applied["amount"]
    assert_problem(
        await w.call("POST", f"{ADJUST}/{applied['id']}/reject", maker, json={"reason": "late"}),
        409,
        "conflict",
    )
    assert await buckets(w, s.clerk, card) == (1_000 + amount, 0)
    for missing in (str(uuid.uuid4()), "not-an-id"):
        assert_problem(
            await w.call("POST", f"{ADJUST}/{missing}/reject", maker, json={"reason": "x"}), 404, "not_found"
        )


async def test_the_wallet_checks_a_rejection_itself(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 500)
    adj = await w.wallet.RequestAdjustment(
        pb.RequestAdjustmentRequest(
            request_id=key(),
            card_no=card,
            amount=w.settings.wallet_adjustment_approval_threshold + 1,
            reason="x",
        ),
        metadata=w.md(w.token_for("hq_admin", "HQ")),
        timeout=15,
    )
    assert adj.status == "pending_approval"
    manager = w.token_for("store_manager", s.path)
    err = await fails(
        w.wallet.RejectAdjustment(
            pb.RejectAdjustmentRequest(adjustment_id=adj.id, reason="no"), metadata=w.md(manager)
        )
    )
    assert err.reason == "forbidden"
    hq = w.token_for("hq_admin", "HQ")
    err = await fails(
        w.wallet.RejectAdjustment(pb.RejectAdjustmentRequest(adjustment_id=adj.id), metadata=w.md(hq))
    )
    assert err.reason == "invalid_argument"
    done = await w.wallet.RejectAdjustment(
        pb.RejectAdjustmentRequest(adjustment_id=adj.id, reason="duplicate"), metadata=w.md(hq), timeout=10
    )
    assert (done.status, done.rejection_reason, done.transaction_id) == ("rejected", "duplicate", "")
    assert await buckets(w, s.clerk, card) == (500, 0)
