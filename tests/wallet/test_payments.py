"""Payments and refunds over the wallet's gRPC API (what checkout calls): the proportional
draw, insufficient balance, replays, blocked cards (invariant 7), replacement cards, refunds
back to their buckets and never more than paid, GetPayment."""

from __future__ import annotations

import grpc
import pytest

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.testing import eventually
from tests.wallet.helpers import (
    buckets,
    card_type_grpc,
    fails,
    funded,
    history,
    issue,
    key,
    pay,
    refund,
    shop,
)

pytestmark = pytest.mark.integration

FAILED = grpc.StatusCode.FAILED_PRECONDITION


async def test_payment_draws_principal_and_bonus_in_proportion(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 10_000, 5_000)
    txn = await pay(w, s.grpc_clerk, card, 3_000)
    assert (txn.kind, txn.amount, txn.principal, txn.bonus) == ("payment", 3_000, -2_000, -1_000)
    assert (txn.balance.principal, txn.balance.bonus, txn.balance.total) == (8_000, 4_000, 12_000)
    assert txn.acting_store_path == txn.home_store_path == s.path
    odd = await pay(w, s.grpc_clerk, card, 100)  # 66.67 / 33.33: the spare fen to the larger remainder
    assert (odd.principal, odd.bonus) == (-67, -33)
    assert await buckets(w, s.clerk, card) == (7_933, 3_967)
    everything = await pay(w, s.grpc_clerk, card, 11_900)
    assert (everything.principal, everything.bonus) == (-7_933, -3_967)
    assert await buckets(w, s.clerk, card) == (0, 0)


async def test_insufficient_balance_changes_nothing(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 10_000, 5_000)
    rid = key()
    err = await fails(pay(w, s.grpc_clerk, card, 15_001, request_id=rid))
    assert (err.code, err.reason) == (FAILED, "insufficient_balance")
    assert await buckets(w, s.clerk, card) == (10_000, 5_000)
    assert [t["kind"] for t in await history(w, s.clerk, card)] == ["adjustment", "topup"]
    again = await fails(pay(w, s.grpc_clerk, card, 15_001, request_id=rid))  # the outcome is kept
    assert again.reason == "insufficient_balance"
    assert (await pay(w, s.grpc_clerk, card, 15_000)).balance.total == 0


async def test_a_card_never_topped_up_has_nothing_to_pay_with(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    err = await fails(pay(w, s.grpc_clerk, card, 1))
    assert err.reason == "insufficient_balance"


async def test_bad_payment_requests_are_invalid(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    for amount in (0, -5):
        err = await fails(pay(w, s.grpc_clerk, card, amount))
        assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_argument")
    err = await fails(
        w.wallet.CapturePayment(
            pb.CapturePaymentRequest(card_no=card, amount=10), metadata=w.md(s.grpc_clerk)
        )
    )
    assert err.reason == "idempotency_key_required"
    err = await fails(pay(w, s.grpc_clerk, "8800000000000000", 10))
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "not_found")
    assert await buckets(w, s.clerk, card) == (1_000, 0)


async def test_replayed_payment_has_one_effect(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 10_000)
    rid = key()
    first = await pay(w, s.grpc_clerk, card, 2_500, request_id=rid)
    again = await pay(w, s.grpc_clerk, card, 2_500, request_id=rid)
    assert again.transaction_id == first.transaction_id
    assert again == first
    assert await buckets(w, s.clerk, card) == (7_500, 0)
    assert len([t for t in await history(w, s.clerk, card) if t["kind"] == "payment"]) == 1
    err = await fails(pay(w, s.grpc_clerk, card, 2_600, request_id=rid))
    assert (err.code, err.reason) == (FAILED, "idempotency_key_reused")
    assert await buckets(w, s.clerk, card) == (7_500, 0)


async def test_a_store_of_another_region_may_take_payment_and_is_recorded(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    card = await funded(w, home, 5_000)
    txn = await pay(w, away.grpc_clerk, card, 1_200)
    assert (txn.acting_store_path, txn.home_store_path) == (away.path, home.path)
    assert await buckets(w, home.clerk, card) == (3_800, 0)


async def test_a_card_type_narrowed_to_its_region_cannot_pay_elsewhere(wallet_world):
    w = wallet_world
    home = await shop(w)
    away = await shop(w)
    ctype = await card_type_grpc(w, home_scope=f"HQ/{home.region}")
    member = await w.register(home.clerk)
    card = await issue(w, home.clerk, member["member_no"], ctype)
    assert (await w.top_up(home.clerk, card, 2_000)).status_code == 201
    err = await fails(pay(w, away.grpc_clerk, card, 500))
    assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "forbidden")
    assert ctype in str(err.detail)
    assert (await pay(w, home.grpc_clerk, card, 500)).balance.total == 1_500


# --- blocked cards -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "reason"), [("report-loss", "card_lost"), ("freeze", "card_frozen")])
async def test_a_blocked_card_cannot_pay(wallet_world, action, reason):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 5_000)
    r = await w.call("POST", f"/api/v1/cards/{card}/{action}", s.clerk)
    assert r.status_code == 200, r.text
    err = await fails(pay(w, s.grpc_clerk, card, 100))
    assert (err.code, err.reason) == (FAILED, reason)
    assert await buckets(w, s.clerk, card) == (5_000, 0)
    undo = {"report-loss": "cancel-loss", "freeze": "unfreeze"}[action]
    assert (await w.call("POST", f"/api/v1/cards/{card}/{undo}", s.clerk)).status_code == 200
    assert (await pay(w, s.grpc_clerk, card, 100)).balance.total == 4_900


async def test_lost_card_is_refused_from_the_moment_the_report_returns(wallet_world):
    """Invariant 7: no window between the report and the refusal (no events involved)."""
    w = wallet_world
    s = await shop(w)
    away = await shop(w)
    card = await funded(w, s, 5_000)
    r = await w.call("POST", f"/api/v1/cards/{card}/report-loss", away.clerk)  # any store may report a loss
    assert r.status_code == 200 and r.json()["status"] == "lost", r.text
    for token in (s.grpc_clerk, away.grpc_clerk):
        err = await fails(pay(w, token, card, 100))
        assert err.reason == "card_lost"
    assert await buckets(w, s.clerk, card) == (5_000, 0)


async def test_replaced_card_is_refused_and_the_new_card_pays_from_the_same_balance(wallet_world):
    w = wallet_world
    s = await shop(w)
    old = await funded(w, s, 6_000, 3_000)
    assert (await w.call("POST", f"/api/v1/cards/{old}/report-loss", s.clerk)).status_code == 200
    r = await w.call("POST", f"/api/v1/cards/{old}/replace", s.clerk, json={"fee_payment": "cash"})
    assert r.status_code == 201, r.text
    new = r.json()["card_no"]
    assert new != old
    assert await buckets(w, s.clerk, new) == (6_000, 3_000)
    err = await fails(pay(w, s.grpc_clerk, old, 100))
    assert (err.code, err.reason) == (FAILED, "card_replaced")
    txn = await pay(w, s.grpc_clerk, new, 900)
    assert (txn.card_no, txn.principal, txn.bonus) == (new, -600, -300)
    assert await buckets(w, s.clerk, new) == (5_400, 2_700)
    assert (await w.top_up(s.clerk, new, 600)).json()["balance"]["principal"] == 6_000


async def test_replacement_fee_paid_from_stored_value_is_taken_from_the_account(wallet_world):
    """docs/api.md Cards: replace with ``fee_payment: stored_value``; docs/design.md §6 members: 补卡 is charged
    its fee. The card type's replacement fee must leave the account (a wallet fee)."""
    w = wallet_world
    s = await shop(w)
    ctype = await card_type_grpc(w, replacement_fee=500)
    member = await w.register(s.clerk)
    old = await issue(w, s.clerk, member["member_no"], ctype)
    assert (await w.top_up(s.clerk, old, 10_000)).status_code == 201
    assert (await w.call("POST", f"/api/v1/cards/{old}/report-loss", s.clerk)).status_code == 200
    r = await w.call("POST", f"/api/v1/cards/{old}/replace", s.clerk, json={"fee_payment": "stored_value"})
    assert r.status_code == 201, r.text
    new = r.json()["card_no"]

    async def charged() -> bool:
        return await buckets(w, s.clerk, new) == (9_500, 0)

    await eventually(charged, timeout=5, what="the 500 fen replacement fee taken from the account")
    fees = [t for t in await history(w, s.clerk, new) if t["kind"] == "fee"]
    assert [(f["amount"], f["note"]) for f in fees] == [(500, "replacement")]


# --- refunds -----------------------------------------------------------------------------------------
async def test_refunds_return_to_the_buckets_and_never_more_than_paid(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 10_000, 5_000)
    paid = key()
    await pay(w, s.grpc_clerk, card, 3_000, request_id=paid)  # -2000 principal, -1000 bonus

    part = await refund(w, s.grpc_clerk, paid, 300)
    assert (part.kind, part.amount, part.principal, part.bonus) == ("refund", 300, 200, 100)
    assert await buckets(w, s.clerk, card) == (8_200, 4_100)

    err = await fails(refund(w, s.grpc_clerk, paid, 2_701))  # 2700 is left
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_argument")
    assert await buckets(w, s.clerk, card) == (8_200, 4_100)

    more = await refund(w, s.grpc_clerk, paid, 1_000)  # of 1800/900 left: 666.67 / 333.33
    assert (more.principal, more.bonus) == (667, 333)
    rest = await refund(w, s.grpc_clerk, paid)  # 0 = all that is left
    assert (rest.amount, rest.principal, rest.bonus) == (1_700, 1_133, 567)
    assert await buckets(w, s.clerk, card) == (10_000, 5_000)
    assert part.related_transaction_id == rest.related_transaction_id != ""

    done = await fails(refund(w, s.grpc_clerk, paid))
    assert (done.code, done.reason) == (grpc.StatusCode.ABORTED, "conflict")
    over = await fails(refund(w, s.grpc_clerk, paid, 1))
    assert over.reason == "invalid_argument"
    assert await buckets(w, s.clerk, card) == (10_000, 5_000)


async def test_replayed_refund_has_one_effect(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 4_000)
    paid = key()
    await pay(w, s.grpc_clerk, card, 1_000, request_id=paid)
    rid = key()
    first = await refund(w, s.grpc_clerk, paid, 400, request_id=rid)
    again = await refund(w, s.grpc_clerk, paid, 400, request_id=rid)
    assert again.transaction_id == first.transaction_id
    assert await buckets(w, s.clerk, card) == (3_400, 0)
    err = await fails(refund(w, s.grpc_clerk, paid, 500, request_id=rid))
    assert err.reason == "idempotency_key_reused"


async def test_refund_of_an_unknown_payment_or_out_of_scope_is_not_found(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    card = await funded(w, s, 4_000)
    paid = key()
    await pay(w, s.grpc_clerk, card, 1_000, request_id=paid)
    err = await fails(refund(w, other.grpc_clerk, paid, 100))
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "not_found")
    err = await fails(refund(w, s.grpc_clerk, key(), 100))
    assert err.reason == "not_found"
    assert await buckets(w, s.clerk, card) == (3_000, 0)
    hq = w.token_for("hq_admin", "HQ")
    assert (await refund(w, hq, paid, 100)).amount == 100  # HQ is above every store


async def test_get_payment_found_and_not_found(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    card = await funded(w, s, 4_000, 2_000)
    paid = key()
    txn = await pay(w, s.grpc_clerk, card, 1_500, request_id=paid)
    await refund(w, s.grpc_clerk, paid, 600)

    got = await w.wallet.GetPayment(
        pb.GetPaymentRequest(request_id=paid), metadata=w.md(s.grpc_clerk), timeout=10
    )
    assert got.found
    assert got.transaction.transaction_id == txn.transaction_id
    assert (got.transaction.amount, got.transaction.principal, got.transaction.bonus) == (1_500, -1_000, -500)
    assert got.refunded == 600
    missing = await w.wallet.GetPayment(pb.GetPaymentRequest(request_id=key()), metadata=w.md(s.grpc_clerk))
    assert not missing.found
    hidden = await w.wallet.GetPayment(pb.GetPaymentRequest(request_id=paid), metadata=w.md(other.grpc_clerk))
    assert not hidden.found
