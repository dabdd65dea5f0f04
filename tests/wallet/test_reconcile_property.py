"""Invariant 1 as a property: any sequence of top-ups, payments, partial refunds, fees and
adjustments keeps every transaction summing to zero, every cached balance equal to its
postings and to a model kept here, and no bucket negative. And the reconciliation check
does see a difference when there is one (in the library and in `chainclub wallet reconcile`)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.errors import from_rpc_error
from services.wallet import reports
from tests.wallet.helpers import (
    account_id,
    buckets,
    cached,
    execute,
    funded,
    key,
    pay,
    post,
    rand_code,
    refund,
    shop,
    top_up_grpc,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BONUS_FROM, BONUS = 30_000, 1_500  # the bonus rule of the test's store

CARD = st.integers(min_value=0, max_value=1)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("topup"), CARD, st.integers(min_value=1, max_value=60_000)),
        st.tuples(st.just("pay"), CARD, st.integers(min_value=1, max_value=40_000)),
        # (which payment so far, amount; 0 = all that is left)
        st.tuples(
            st.just("refund"),
            st.integers(min_value=0, max_value=5),
            st.integers(min_value=0, max_value=8_000),
        ),
        st.tuples(
            st.just("fee"),
            CARD,
            st.integers(min_value=1, max_value=6_000),
            st.sampled_from(["cash", "stored_value"]),
        ),
        st.tuples(
            st.just("adjust"),
            CARD,
            st.integers(min_value=-20_000, max_value=20_000).filter(bool),
            st.sampled_from(["principal", "bonus"]),
        ),
    ),
    min_size=2,
    max_size=12,
)
OPENING = st.tuples(st.integers(min_value=0, max_value=80_000), st.integers(min_value=0, max_value=80_000))


def proportional(amount: int, principal: int, bonus: int) -> tuple[int, int]:
    """The model's own split: floors, the spare fen to the larger remainder (ties: principal)."""
    total = principal + bonus
    p, b = amount * principal // total, amount * bonus // total
    if p + b < amount:
        if amount * principal % total >= amount * bonus % total:
            p += 1
        else:
            b += 1
    return p, b


@dataclass
class Model:
    cards: list[str]
    buckets: dict[str, list[int]] = field(default_factory=dict)
    payments: list[tuple[str, str, list[int]]] = field(default_factory=list)  # (request id, card, left p/b)

    def __post_init__(self) -> None:
        self.buckets = {c: [0, 0] for c in self.cards}


async def reason_of(call) -> str | None:  # type: ignore[no-untyped-def]
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return from_rpc_error(exc).reason
    return None


async def play(w, s, opening: tuple[int, int], ops: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    hq = w.token_for("hq_admin", "HQ")
    m = Model([await w.card(s.clerk), await w.card(s.clerk)])
    # the cards start with some money (or none), so payments and refunds have something to move
    for op in [("topup", i, amount) for i, amount in enumerate(opening) if amount] + ops:
        kind = op[0]
        if kind == "topup":
            card, amount = m.cards[op[1]], op[2]
            p, b = m.buckets[card]
            bonus = BONUS if amount >= BONUS_FROM else 0
            over = p + b + amount + bonus > w.settings.wallet_max_balance
            got = await reason_of(top_up_grpc(w, s.grpc_clerk, card, amount))
            assert got == ("limit_exceeded" if over else None), (op, got)
            if not over:
                m.buckets[card] = [p + amount, b + bonus]
        elif kind == "pay":
            card, amount = m.cards[op[1]], op[2]
            p, b = m.buckets[card]
            rid = key()
            got = await reason_of(pay(w, s.grpc_clerk, card, amount, request_id=rid))
            if amount > p + b:
                assert got == "insufficient_balance", (op, got)
                continue
            assert got is None, (op, got)
            fp, fb = proportional(amount, p, b)
            m.buckets[card] = [p - fp, b - fb]
            m.payments.append((rid, card, [fp, fb]))
        elif kind == "refund":
            if not m.payments:
                continue
            rid, card, left = m.payments[op[1] % len(m.payments)]
            want = op[2] or sum(left)
            got = await reason_of(refund(w, s.grpc_clerk, rid, op[2]))
            if sum(left) == 0 and op[2] == 0:
                assert got == "conflict", (op, got)
            elif want > sum(left):
                assert got == "invalid_argument", (op, got)
            else:
                assert got is None, (op, got)
                bp, bb = proportional(want, *left)
                left[0], left[1] = left[0] - bp, left[1] - bb
                m.buckets[card][0] += bp
                m.buckets[card][1] += bb
        elif kind == "fee":
            card, amount, payment = m.cards[op[1]], op[2], op[3]
            r = await post(w, f"/api/v1/cards/{card}/fees", s.clerk,
                           {"fee_type": "service", "amount": amount, "payment": payment})  # fmt: skip
            if payment == "stored_value" and m.buckets[card][0] < amount:
                assert r.status_code == 402 and r.json()["code"] == "insufficient_balance", (op, r.text)
                continue
            assert r.status_code == 201, (op, r.text)
            if payment == "stored_value":
                m.buckets[card][0] -= amount
        elif kind == "adjust":
            card, amount, bucket = m.cards[op[1]], op[2], op[3]
            i = 0 if bucket == "principal" else 1
            got = await reason_of(
                w.wallet.RequestAdjustment(
                    pb.RequestAdjustmentRequest(request_id=key(), card_no=card, amount=amount, bucket=bucket,
                                                reason="property test"),
                    metadata=w.md(hq), timeout=15,
                )
            )  # fmt: skip
            if m.buckets[card][i] + amount < 0:
                assert got == "insufficient_balance", (op, got)
                continue
            assert got is None, (op, got)
            m.buckets[card][i] += amount

    report = await reports.reconcile(w.wallet_service.runtime.db)
    assert report.clean, report.problems
    for card in m.cards:
        want = tuple(m.buckets[card])
        assert await buckets(w, s.clerk, card) == want, (card, ops)
        assert (await cached(w, await account_id(w, s.grpc_clerk, card)) or (0, 0)) == want, (card, ops)


async def test_any_sequence_of_operations_keeps_the_journal_reconciled(wallet_world):
    w = wallet_world
    s = await shop(w)
    await w.wallet.CreateBonusRule(
        pb.BonusRule(name=rand_code("BONUS"), min_amount=BONUS_FROM, bonus_amount=BONUS, scope=s.path),
        metadata=w.md(w.token_for("hq_admin", "HQ")),
        timeout=10,
    )
    loop = asyncio.get_running_loop()

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(opening=OPENING, ops=OPERATIONS)
    def check(opening: tuple[int, int], ops: list[tuple]) -> None:
        asyncio.run_coroutine_threadsafe(play(w, s, opening, ops), loop).result(timeout=120)

    # hypothesis drives from a thread; every call runs on the session's loop, where the clients live
    await asyncio.to_thread(check)


# --- the check sees differences ---------------------------------------------------------------------
async def cli_reconcile(w) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "CHAINCLUB_DATABASE_URL": w.settings.database_url,
        "CHAINCLUB_DB_PREFIX": w.settings.db_prefix,
    }
    env.pop("CHAINCLUB_WALLET_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kit.cli", "wallet", "reconcile",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=ROOT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode()


async def test_reconcile_reports_a_corrupted_cached_balance(wallet_world):
    w = wallet_world
    db = w.wallet_service.runtime.db
    s = await shop(w)
    card = await funded(w, s, 5_000, 700)
    account = await account_id(w, s.grpc_clerk, card)
    assert (await reports.reconcile(db)).clean
    code, out = await cli_reconcile(w)
    assert code == 0, out
    assert "clean" in out

    await execute(w, "UPDATE accounts SET principal = principal + 1 WHERE id = CAST(:id AS uuid)", id=account)
    try:
        report = await reports.reconcile(db)
        assert not report.clean
        assert report.problems == [f"account {account} principal 5001 != postings 5000"], report.problems
        code, out = await cli_reconcile(w)
        assert code != 0, out
        assert f"account {account} principal 5001 != postings 5000" in out, out
    finally:
        await execute(
            w, "UPDATE accounts SET principal = principal - 1 WHERE id = CAST(:id AS uuid)", id=account
        )
    assert (await reports.reconcile(db)).clean


async def test_reconcile_reports_an_unbalanced_transaction(wallet_world):
    w = wallet_world
    db = w.wallet_service.runtime.db
    s = await shop(w)
    card = await funded(w, s, 3_000)
    txn = (await pay(w, s.grpc_clerk, card, 1_000)).transaction_id
    extra = await execute(
        w,
        "INSERT INTO postings (transaction_id, ledger, amount) VALUES (CAST(:t AS uuid), 'store:HQ:clearing:cash', 1) "
        "RETURNING id",
        t=txn,
    )
    try:
        report = await reports.reconcile(db)
        assert f"transaction {txn} postings sum to 1, not 0" in report.problems, report.problems
    finally:
        await execute(w, "DELETE FROM postings WHERE id = :id", id=extra)
    assert (await reports.reconcile(db)).clean
