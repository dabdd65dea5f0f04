"""Invariants 1 and 2 under real concurrency: many payments racing for one account, many
replays of one top-up racing each other."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from services.wallet.reports import reconcile
from tests.wallet.helpers import account_id, buckets, cached, funded, history, key, pay, refund, shop

pytestmark = pytest.mark.integration


async def test_concurrent_payments_on_one_account_are_exact(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 10_000, 3_000)
    amount, tries = 700, 50
    initial = 13_000
    assert tries * amount > initial

    async def attempt() -> str:
        try:
            await pay(w, s.grpc_clerk, card, amount)
            return "ok"
        except grpc.aio.AioRpcError as exc:
            from kit.errors import from_rpc_error

            return from_rpc_error(exc).reason

    outcomes = await asyncio.gather(*(attempt() for _ in range(tries)))
    successes = outcomes.count("ok")
    assert successes == initial // amount, outcomes
    assert outcomes.count("insufficient_balance") == tries - successes, outcomes

    principal, bonus = await buckets(w, s.clerk, card)
    assert principal + bonus == initial - successes * amount
    assert principal >= 0 and bonus >= 0
    assert await cached(w, await account_id(w, s.grpc_clerk, card)) == (principal, bonus)
    payments = [t for t in await history(w, s.clerk, card) if t["kind"] == "payment"]
    assert len(payments) == successes
    assert sum(t["principal"] for t in payments) == principal - 10_000
    assert sum(t["bonus"] for t in payments) == bonus - 3_000

    report = await reconcile(w.wallet_service.runtime.db)
    assert report.clean, report.problems
    assert report.checked_accounts >= 1 and report.checked_transactions >= successes


async def test_concurrent_replays_of_one_top_up_move_the_balance_once(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    idem = uuid.uuid4().hex
    replies = await asyncio.gather(*(w.top_up(s.clerk, card, 4_200, key=idem) for _ in range(20)))
    assert [r.status_code for r in replies] == [201] * 20, [r.text for r in replies if r.status_code != 201]
    bodies = [r.json() for r in replies]
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["balance"] == {"principal": 4_200, "bonus": 0, "total": 4_200}
    assert await buckets(w, s.clerk, card) == (4_200, 0)
    assert len(await history(w, s.clerk, card)) == 1


async def test_concurrent_replays_of_one_payment_pay_once(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 5_000)
    rid = key()
    txns = await asyncio.gather(*(pay(w, s.grpc_clerk, card, 1_000, request_id=rid) for _ in range(20)))
    assert len({t.transaction_id for t in txns}) == 1
    assert await buckets(w, s.clerk, card) == (4_000, 0)


async def test_concurrent_refunds_never_return_more_than_was_paid(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 6_000, 3_000)
    paid = key()
    await pay(w, s.grpc_clerk, card, 3_000, request_id=paid)  # -2000 principal, -1000 bonus

    async def attempt() -> str:
        try:
            await refund(w, s.grpc_clerk, paid, 1_200)
            return "ok"
        except grpc.aio.AioRpcError as exc:
            from kit.errors import from_rpc_error

            return from_rpc_error(exc).reason

    outcomes = await asyncio.gather(*(attempt() for _ in range(10)))
    assert outcomes.count("ok") == 2, outcomes  # 2 x 1200 fit in 3000, a third does not
    assert outcomes.count("invalid_argument") == 8, outcomes
    principal, bonus = await buckets(w, s.clerk, card)
    assert principal + bonus == 9_000 - 3_000 + 2_400
    assert principal <= 6_000 and bonus <= 3_000
    report = await reconcile(w.wallet_service.runtime.db)
    assert report.clean, report.problems
