"""Stored value at N funded cards: gRPC ``TopUp`` and ``CapturePayment`` on the wallet
service (which reads the card from its own copy, seeded here), and ``POST /api/v1/cards/{card_no}/
top-ups`` through the gateway, each for a fixed time with concurrent workers on random cards
and a fresh idempotency key per call. Anchors in the same run; the journal is reconciled after.
Targets: gRPC payments at >= 15 % and top-ups through the gateway at >= 8 % of pgbench
simple-update TPS."""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import grpc
import httpx

from bench import anchors, cpu, machine, work
from bench.load import HEADER, Result, ceiling_line, ratio, row
from bench.seed import Seeded, seed
from bench.stack import Stack, say
from chainclub.wallet.v1 import wallet_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2_grpc
from kit.auth import KeySet
from kit.config import Settings
from kit.db import Database, asyncpg_dsn
from services.members.models import cards
from services.wallet.domain import bonus_expense_ledger, clearing_ledger, member_ledger
from services.wallet.models import accounts, postings, transactions
from services.wallet.reports import reconcile

CLAIMS = {"sub": "bench-clerk", "role": "clerk", "scope": "HQ/B/S001", "org_unit": "S001"}
FUND_PRINCIPAL = 200_000  # fen per account: 2 000 yuan paid in ...
FUND_BONUS = 20_000  # ... and 200 yuan given, so payments draw on both buckets
PAYMENT = 100  # fen: thousands of payments per card before it runs short
TOP_UP = 1_000  # fen: far below the 500 000 fen balance limit however often a card is hit
TARGET = 0.15  # gRPC payments / pgbench simple-update TPS
TARGET_TOP_UP = 0.08  # top-ups through the gateway / pgbench simple-update TPS
COUNTED = 200  # calls of each case whose database work is counted before it is timed


@dataclass
class Options:
    cards: int = 10_000
    seconds: float = 10.0
    concurrency: int = 16
    warmup: float = 1.0
    anchors: bool = True
    pgbench_clients: int = 8
    pgbench_threads: int = 2
    pgbench_scale: int = 10


async def fund(settings: Settings, seeded: Seeded) -> float:
    """One stored-value account per seeded card, funded by a balanced journal transaction
    (a batch top-up written straight into the wallet database with COPY), so the wallet's
    reconciliation holds from the start, and wallet's copy of each card, as members' card
    events would have filled it. Returns the seconds it took."""
    started = time.perf_counter()
    members = await asyncpg.connect(asyncpg_dsn(settings.database_url_for("members")), timeout=30)
    try:
        rows = await members.fetch(
            f"SELECT card_no, account_id, home_store_path FROM {cards.name} WHERE card_no = any($1::text[])",
            seeded.card_nos,
        )
        # What members' card events would have brought wallet (its copy of each card).
        copies = await members.fetch(
            "SELECT c.card_no, c.account_id, m.member_no, c.status, m.home_store_path, c.card_type,"
            " coalesce(t.home_scope, ''), t.max_balance, t.max_single_top_up, t.joining_fee, t.annual_fee,"
            " t.replacement_fee FROM cards c JOIN members m ON m.id = c.member_id"
            " LEFT JOIN card_types t ON t.code = c.card_type WHERE c.card_no = any($1::text[])",
            seeded.card_nos,
        )
    finally:
        await members.close()
    member_of = dict(zip(seeded.card_nos, seeded.member_nos, strict=True))
    now = datetime.now(UTC)
    account_rows, txn_rows, posting_rows = [], [], []
    for card_no, account_id, home in rows:
        txn_id = uuid.uuid4()
        account_rows.append(
            (account_id, card_no, member_of[card_no], home, FUND_PRINCIPAL, FUND_BONUS, "open")
        )
        txn_rows.append(
            (txn_id, "topup", account_id, card_no, FUND_PRINCIPAL, FUND_PRINCIPAL, FUND_BONUS, "batch", home,
             home, f"bench-fund-{card_no}", "bench funding", "bench", now)
        )  # fmt: skip
        posting_rows += [
            (txn_id, member_ledger(account_id, "principal"), FUND_PRINCIPAL, now),
            (txn_id, clearing_ledger(home, "batch"), -FUND_PRINCIPAL, now),
            (txn_id, member_ledger(account_id, "bonus"), FUND_BONUS, now),
            (txn_id, bonus_expense_ledger(home), -FUND_BONUS, now),
        ]
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url_for("wallet")), timeout=30)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                accounts.name,
                records=account_rows,
                columns=["id", "card_no", "member_no", "home_store_path", "principal", "bonus", "status"],
            )
            await conn.copy_records_to_table(
                transactions.name,
                records=txn_rows,
                columns=[
                    "id", "kind", "account_id", "card_no", "amount", "principal_delta", "bonus_delta",
                    "channel", "acting_store_path", "home_store_path", "request_id", "note", "actor", "created_at",
                ],
            )  # fmt: skip
            await conn.copy_records_to_table(
                postings.name,
                records=posting_rows,
                columns=["transaction_id", "ledger", "amount", "created_at"],
            )
            await conn.copy_records_to_table(
                "cards",
                records=[(*c[:7], 0, *c[7:]) for c in copies],
                columns=["card_no", "account_id", "member_no", "status", "home_store_path", "card_type",
                         "card_type_home_scope", "version", "max_balance", "max_single_top_up", "joining_fee",
                         "annual_fee", "replacement_fee"],
            )  # fmt: skip
        for table in (accounts, transactions, postings):
            await conn.execute(f"ANALYZE {table.name}")
    finally:
        await conn.close()
    return time.perf_counter() - started


def _grpc_cases(
    stub: wallet_pb2_grpc.WalletServiceStub, token: str, seeded: Seeded, rng: random.Random
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    md = (("authorization", f"Bearer {token}"),)
    n = len(seeded)

    async def top_up() -> None:
        card_no = seeded.card_nos[rng.randrange(n)]
        reply = await stub.TopUp(
            pb.TopUpRequest(request_id=uuid.uuid4().hex, card_no=card_no, amount=TOP_UP, channel="cash"),
            metadata=md,
            timeout=30,
        )
        if reply.kind != "topup" or reply.card_no != card_no or reply.principal != TOP_UP:
            raise RuntimeError(f"top-up of {card_no} answered {reply.kind} {reply.card_no} {reply.principal}")

    async def pay() -> None:
        card_no = seeded.card_nos[rng.randrange(n)]
        reply = await stub.CapturePayment(
            pb.CapturePaymentRequest(
                request_id=uuid.uuid4().hex, card_no=card_no, amount=PAYMENT, reference="bench"
            ),
            metadata=md,
            timeout=30,
        )
        if reply.kind != "payment" or reply.card_no != card_no or reply.principal + reply.bonus != -PAYMENT:
            raise RuntimeError(
                f"payment by {card_no} answered {reply.kind} {reply.card_no} {reply.principal}+{reply.bonus}"
            )

    return [("gRPC TopUp", top_up), ("gRPC CapturePayment", pay)]


def _http_cases(
    client: httpx.AsyncClient, seeded: Seeded, rng: random.Random
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    n = len(seeded)

    async def top_up() -> None:
        card_no = seeded.card_nos[rng.randrange(n)]
        r = await client.post(
            f"/api/v1/cards/{card_no}/top-ups",
            json={"amount": TOP_UP, "channel": "cash"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if r.status_code != 201:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        if r.json()["amount"] != TOP_UP:
            raise RuntimeError(f"top-up of {card_no} answered {r.text[:200]}")

    return [("HTTP POST /cards/{no}/top-ups", top_up)]


async def run(opts: Options) -> int:
    """The wallet benchmark alone: its own stack and anchors."""
    stack = Stack()
    try:
        await stack.start()
        machine.print_facts(await stack.postgres_version())
        pg, echo = await anchors.measure(stack, opts) if opts.anchors else (None, None)
        return await measure(stack, opts, pg, echo)
    finally:
        say("stopping: gateway, wallet, members, NATS, PostgreSQL")
        await stack.close()


async def measure(
    stack: Stack,
    opts: Options,
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    *,
    tag: str = "",
) -> int:
    """Members, wallet and the gateway on a started ``stack``, the seed, the cases, the
    reconciliation and the report; 1 when a call failed or the journal does not reconcile."""
    stack.db_pool_size = max(10, opts.concurrency + 4)  # every worker's call can hold one
    print(
        f"stored value at {opts.cards:,} funded cards: {opts.concurrency} concurrent workers, "
        f"{opts.seconds:g}s per case after {opts.warmup:g}s warm-up; the load generator is one "
        "Python process on the same machine; "
        f"each service pools {stack.db_pool_size} database connections",
        flush=True,
    )
    settings = stack.settings(tag)
    members = await stack.serve("members", settings)
    wallet = await stack.serve("wallet", settings)
    await stack.wait_grpc_health(members, settings.members_addr)
    say(f"members service SERVING on {settings.members_addr} (migrated)")
    await stack.wait_grpc_health(wallet, settings.wallet_addr)
    say(f"wallet service SERVING on {settings.wallet_addr} (migrated)")
    gateway = await stack.serve("gateway", settings)  # starts while we seed

    seeded = await seed(settings, opts.cards)
    say(f"seeded {len(seeded):,} members + cards in {seeded.seconds:.1f}s")
    funded = await fund(settings, seeded)
    say(
        f"funded {len(seeded):,} accounts with {FUND_PRINCIPAL} + {FUND_BONUS} bonus fen each in {funded:.1f}s "
        "(balanced journal transactions, COPY)"
    )
    base_url = f"http://{settings.host}:{settings.gateway_port}"
    await stack.wait_gateway(gateway, base_url, services=("members", "wallet"))
    say(f"gateway ready on {base_url}")

    token = KeySet.from_settings(settings).sign(CLAIMS, 4 * 3600)
    rng = random.Random(11)
    results: list[Result] = []
    meter = work.WorkMeter(settings.database_url or "", settings.db_prefix, stack.metrics_ports)
    counted: list[tuple[str, work.Work]] = []

    async def count(cases: list[tuple[str, Callable[[], Awaitable[None]]]]) -> None:
        for name, call in cases:
            await call()  # fail fast
            say(f"counting the work of {COUNTED} calls of {name} (waits for the counters to settle)")
            counted.append((name, await meter.measure(call, COUNTED)))

    async with grpc.aio.insecure_channel(settings.wallet_addr) as channel:
        stub = wallet_pb2_grpc.WalletServiceStub(channel)
        await count(_grpc_cases(stub, token, seeded, rng))
        results += await stack.run_cases(_grpc_cases(stub, token, seeded, rng), opts)
    async with stack.http_client(base_url, token, opts.concurrency) as client:
        await count(_http_cases(client, seeded, rng))
        results += await stack.run_cases(_http_cases(client, seeded, rng), opts)

    db = Database(settings.database_url_for("wallet"), pool_size=1)
    try:
        t0 = time.perf_counter()
        rec = await reconcile(db)
        rec_seconds = time.perf_counter() - t0
    finally:
        await db.dispose()

    _report(opts, seeded, pg, echo, results, dict(counted))
    work.report(counted)
    status = "clean" if rec.clean else f"{len(rec.problems)} PROBLEMS"
    print(
        f"reconcile (services.wallet.reports.reconcile): {status} — {rec.checked_transactions:,} transactions, "
        f"{rec.checked_accounts:,} accounts checked in {rec_seconds:.1f}s",
        flush=True,
    )
    for problem in rec.problems[:20]:
        print(f"  {problem}", file=sys.stderr)
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"ERROR {r.name}: {r.errors} failed calls; first: {r.first_error}", file=sys.stderr)
    if not rec.clean:
        print("ERROR the wallet journal does not reconcile after the run", file=sys.stderr)
    return 1 if failed or not rec.clean else 0


def _report(
    opts: Options,
    seeded: Seeded,
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    results: list[Result],
    counted: dict[str, work.Work],
) -> None:
    print()
    print(
        f"results — stored value at {len(seeded):,} funded cards "
        f"(payments of {PAYMENT} fen, top-ups of {TOP_UP} fen, a fresh idempotency key per call)"
    )
    print(HEADER)
    if echo is not None:
        print(row(echo) + "   (anchor)")
    for r in results:
        print(row(r))
    print(f"  {'HTTP payment':34} {'-':>9}   no REST endpoint: payments come from checkout (bench checkout)")
    if pg is not None:
        print(
            f"  {'pgbench simple-update':34} {pg.tps:9.0f} TPS   latency avg {pg.latency_ms:.2f} ms"
            f"   (anchor: -c {pg.clients} -j {pg.threads} -T {pg.seconds}, scale {pg.scale})"
        )
    if pg is not None:
        print()
        print("ratios (throughput / anchor)")
        print(f"  {'case':34} {'/ echo':>8} {'/ pgbench':>10}")
        for r in results:
            by_echo = ratio(r.throughput, echo.throughput) if echo is not None else "     -"
            print(f"  {r.name:34} {by_echo:>8} {ratio(r.throughput, pg.tps):>10}")
        pay = next(r for r in results if r.name == "gRPC CapturePayment")
        share = pay.throughput / pg.tps if pg.tps > 0 else 0.0
        verdict = "MET" if share >= TARGET else "NOT MET"
        print(
            f"  gRPC payments = {share:.1%} of pgbench simple-update TPS (target >= {TARGET:.0%}): {verdict}"
        )
        http = next((r for r in results if r.name.startswith("HTTP POST")), None)
        if http is not None:
            share = http.throughput / pg.tps if pg.tps > 0 else 0.0
            verdict = "MET" if share >= TARGET_TOP_UP else "NOT MET"
            print(
                f"  top-ups through the gateway = {share:.1%} of pgbench simple-update TPS "
                f"(target >= {TARGET_TOP_UP:.0%}): {verdict}"
            )
        if echo is not None:
            paid = counted["gRPC CapturePayment"]
            transactions = max(1, round(paid.total_transactions))
            calls = max(1, round(sum(paid.rpcs.values())))  # as served, measured below
            what = f"a payment ({calls} gRPC calls served, {transactions} transactions as measured below)"
            print(ceiling_line(what, calls, transactions, echo.throughput, pg.tps))
    print(flush=True)
    cpu.report([(r.name, r.cpu_ms) for r in results])
