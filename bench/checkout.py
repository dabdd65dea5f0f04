"""Checkout through the gateway at N members: ``POST /api/v1/checkouts`` paid in full
from stored value, on random funded cards with a fresh Idempotency-Key per call — the whole
saga (members GetCard, loyalty Quote, wallet CapturePayment, loyalty Confirm with the quote,
the gateway's saga log). Two phases: the maximum throughput with N closed-loop workers, then a paced phase
at half of that throughput (fixed arrival rate, one asyncio task per arrival, latency from the
scheduled arrival) whose p50/p95/p99 is the latency target. pgbench simple-update is measured
in the same run; the wallet journal is reconciled after.
Targets: checkout >= 3 % of pgbench simple-update TPS, p99 < 60 ms at half load, at most
25 ms of CPU per checkout across every process (the load generator included)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx

from bench import anchors, cpu, machine, work
from bench.load import HEADER, Result, ceiling_line, row, run_load
from bench.seed import Seeded, seed
from bench.stack import Stack, say
from bench.wallet import FUND_BONUS, FUND_PRINCIPAL, fund
from kit.auth import KeySet
from kit.config import Settings
from kit.db import Database, asyncpg_dsn
from services.wallet.reports import reconcile

CLAIMS = {"sub": "bench-cashier", "role": "clerk", "scope": "HQ/B/S001", "org_unit": "S001"}
PRICES = (300, 500, 800)  # fen: one product each; a card pays hundreds of checkouts before it runs short
TARGET_SHARE = 0.03  # checkout throughput / pgbench simple-update TPS
TARGET_P99_MS = 60.0  # p99 at half of the maximum throughput
TARGET_CPU_MS = 25.0  # CPU per checkout, every process (load generator included)
COUNTED = 200  # checkouts whose database work is counted before the timed phases


@dataclass
class Options:
    members: int = 10_000
    seconds: float = 10.0
    concurrency: int = 16
    warmup: float = 1.0
    anchors: bool = True
    pgbench_clients: int = 8
    pgbench_threads: int = 2
    pgbench_scale: int = 10


async def open_points_accounts(settings: Settings, seeded: Seeded) -> float:
    """Loyalty's points account of each seeded member, at its home store (COPY): what the
    ``members.member.registered`` events would have opened. Returns the seconds it took."""
    started = time.perf_counter()
    members = await asyncpg.connect(asyncpg_dsn(settings.database_url_for("members")), timeout=30)
    try:
        rows = await members.fetch(
            "SELECT member_no, home_store_path FROM members WHERE member_no = any($1::text[])",
            seeded.member_nos,
        )
    finally:
        await members.close()
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url_for("loyalty")), timeout=30)
    try:
        await conn.copy_records_to_table(
            "points_accounts", records=[tuple(r) for r in rows], columns=["member_no", "home_store_path"]
        )
        await conn.execute("ANALYZE points_accounts")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def run_paced(
    name: str,
    call: Callable[[], Awaitable[None]],
    *,
    rate: float,
    seconds: float,
    warmup: float = 1.0,
) -> Result:
    """Open loop: one call every ``1 / rate`` seconds whatever the answers take (a task per
    arrival), latency counted from the scheduled arrival so queueing is not hidden. Arrivals
    during the warm-up are not counted; the window's throughput is completions / its length."""
    clock = time.perf_counter
    interval = 1.0 / rate
    begin = clock()
    measure_from = begin + warmup
    end = measure_from + seconds
    latencies: list[float] = []
    errors = 0
    first_error = ""
    tasks: set[asyncio.Task] = set()

    async def one(scheduled: float) -> None:
        nonlocal errors, first_error
        try:
            await call()
        except Exception as exc:
            if scheduled >= measure_from:
                errors += 1
                if not first_error:
                    first_error = f"{type(exc).__name__}: {exc}"[:300]
            return
        if scheduled >= measure_from:
            latencies.append((clock() - scheduled) * 1000.0)

    i = 0
    while True:
        scheduled = begin + i * interval
        if scheduled >= end:
            break
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
    if tasks:
        await asyncio.gather(*tasks)
    return Result(name, seconds, len(latencies), errors, latencies, first_error)


async def _products(client: httpx.AsyncClient) -> list[str]:
    """One product per price, created by the admin through the gateway."""
    r = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "admin", "password": "admin"}
    )
    if r.status_code != 200:
        raise RuntimeError(f"admin login: HTTP {r.status_code}: {r.text[:200]}")
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    skus = []
    for price in PRICES:
        sku = f"BENCH-{price}-{uuid.uuid4().hex[:6]}"
        body = {"sku": sku, "name": f"bench product {price}", "category": "food", "retail_price": price}
        r = await client.post("/api/v1/products", json=body, headers=admin)
        if r.status_code != 201:
            raise RuntimeError(f"creating product {sku}: HTTP {r.status_code}: {r.text[:200]}")
        skus.append(sku)
    return skus


async def _quotes(client: httpx.AsyncClient, skus: list[str], card_no: str) -> dict[str, int]:
    """total_due of one unit of each product: every seeded member has the same card type and
    tier, so one quote per product holds for all of them (the load loop never quotes)."""
    due = {}
    for sku in skus:
        r = await client.post(
            "/api/v1/checkouts/quote", json={"card_no": card_no, "lines": [{"sku": sku, "qty": 1}]}
        )
        if r.status_code != 200:
            raise RuntimeError(f"quote of {sku}: HTTP {r.status_code}: {r.text[:200]}")
        due[sku] = r.json()["total_due"]
    return due


def _checkout_call(
    client: httpx.AsyncClient, seeded: Seeded, due: dict[str, int], rng: random.Random
) -> Callable[[], Awaitable[None]]:
    n = len(seeded)
    items = list(due.items())

    async def checkout() -> None:
        card_no = seeded.card_nos[rng.randrange(n)]
        sku, amount = items[rng.randrange(len(items))]
        body = {
            "card_no": card_no,
            "lines": [{"sku": sku, "qty": 1}],
            "payments": [{"method": "stored_value", "amount": amount}],
        }
        r = await client.post("/api/v1/checkouts", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        if r.status_code != 201:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        receipt = r.json()
        if (
            receipt["status"] != "completed"
            or receipt["card_no"] != card_no
            or receipt["total_due"] != amount
        ):
            raise RuntimeError(f"checkout by {card_no} answered {r.text[:200]}")

    return checkout


async def run(opts: Options) -> int:
    """The checkout benchmark alone: its own stack and anchors."""
    stack = Stack()
    try:
        await stack.start()
        machine.print_facts(await stack.postgres_version())
        pg, echo = await anchors.measure(stack, opts) if opts.anchors else (None, None)
        return await measure(stack, opts, pg, echo)
    finally:
        say("stopping: gateway, loyalty, wallet, members, NATS, PostgreSQL")
        await stack.close()


async def measure(
    stack: Stack,
    opts: Options,
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    *,
    tag: str = "",
) -> int:
    """Members, wallet, loyalty and the gateway on a started ``stack``, the seed and funding,
    the products, both phases, the reconciliation and the report; 1 when a checkout failed or
    the journal does not reconcile."""
    stack.db_pool_size = max(10, opts.concurrency + 4)
    print(
        f"checkout at {opts.members:,} funded members: {opts.concurrency} closed-loop workers, then "
        f"half that throughput paced; {opts.seconds:g}s per phase after {opts.warmup:g}s warm-up; the load "
        "generator is one Python process on the same machine; "
        f"each service pools {stack.db_pool_size} database connections",
        flush=True,
    )
    settings = stack.settings(tag)
    await stack.serve_grpc(("members", "wallet", "loyalty"), settings)
    gateway = await stack.serve("gateway", settings)  # starts while we seed

    seeded = await seed(settings, opts.members)
    say(f"seeded {len(seeded):,} members + cards in {seeded.seconds:.1f}s")
    funded = await fund(settings, seeded)
    say(
        f"funded {len(seeded):,} accounts with {FUND_PRINCIPAL} + {FUND_BONUS} bonus fen each in {funded:.1f}s "
        "(balanced journal transactions, COPY)"
    )
    opened = await open_points_accounts(settings, seeded)
    say(f"opened {len(seeded):,} points accounts in {opened:.1f}s (as members' registration events would)")
    base_url = f"http://{settings.host}:{settings.gateway_port}"
    await stack.wait_gateway(gateway, base_url, services=("members", "wallet", "loyalty"))
    say(f"gateway ready on {base_url}")

    token = KeySet.from_settings(settings).sign(CLAIMS, 4 * 3600)
    rng = random.Random(13)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as admin_client:
        skus = await _products(admin_client)
    say(f"products {', '.join(skus)} created by admin through the gateway")

    # The paced phase may have more requests in flight than there are workers: give it room.
    conns = max(64, opts.concurrency * 4)
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        due = await _quotes(client, skus, seeded.card_nos[0])
        say("quoted once per product: " + ", ".join(f"{s} {d} fen" for s, d in due.items()))
        call = _checkout_call(client, seeded, due, rng)
        await call()  # fail fast, before timing anything
        say(f"counting the work of {COUNTED} checkouts (waits for the counters to settle)")
        meter = work.WorkMeter(settings.database_url or "", settings.db_prefix, stack.metrics_ports)
        counted = await meter.measure(call, COUNTED)
        peak = await run_load(
            "HTTP checkout, max (closed loop)",
            call,
            seconds=opts.seconds,
            concurrency=opts.concurrency,
            warmup=opts.warmup,
            meter=stack.cpu_meter(),
        )
        say(f"max: {peak.throughput:,.0f} checkouts/s at {opts.concurrency} workers")
        half_rate = peak.throughput / 2
        if half_rate <= 0:
            half = Result("HTTP checkout, half load (paced)", opts.seconds, 0, 0)
        else:
            half = await run_paced(
                f"HTTP checkout, paced {half_rate:,.0f}/s",
                call,
                rate=half_rate,
                seconds=opts.seconds,
                warmup=opts.warmup,
            )
        say(f"half load: {half.throughput:,.0f} checkouts/s, p99 {half.percentile(99):.1f} ms")
    results = [peak, half]

    db = Database(settings.database_url_for("wallet"), pool_size=1)
    try:
        t0 = time.perf_counter()
        rec = await reconcile(db)
        rec_seconds = time.perf_counter() - t0
    finally:
        await db.dispose()

    _report(seeded, due, pg, echo, peak, half, counted)
    work.report([("HTTP checkout", counted)])
    cpu.report([(peak.name, peak.cpu_ms)])
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
        print(f"ERROR {r.name}: {r.errors} failed checkouts; first: {r.first_error}", file=sys.stderr)
    if not rec.clean:
        print("ERROR the wallet journal does not reconcile after the run", file=sys.stderr)
    return 1 if failed or not rec.clean else 0


def _report(
    seeded: Seeded,
    due: dict[str, int],
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    peak: Result,
    half: Result,
    counted: work.Work,
) -> None:
    print()
    print(
        f"results — checkout through the gateway at {len(seeded):,} funded members "
        f"(one line of {len(due)} products at {'/'.join(str(d) for d in due.values())} fen, paid from stored "
        "value, a fresh Idempotency-Key per call)"
    )
    print(HEADER)
    if echo is not None:
        print(row(echo) + "   (anchor)")
    print(row(peak))
    print(row(half) + "   (latency from the scheduled arrival)")
    if pg is not None:
        print(
            f"  {'pgbench simple-update':34} {pg.tps:9.0f} TPS   latency avg {pg.latency_ms:.2f} ms"
            f"   (anchor: -c {pg.clients} -j {pg.threads} -T {pg.seconds}, scale {pg.scale})"
        )
    print()
    print("targets")
    if pg is not None:
        share = peak.throughput / pg.tps if pg.tps > 0 else 0.0
        verdict = "MET" if share >= TARGET_SHARE else "NOT MET"
        by_echo = (
            f", {peak.throughput / echo.throughput:.1%} of gRPC echo"
            if echo is not None and echo.throughput > 0
            else ""
        )
        print(
            f"  checkout max = {share:.1%} of pgbench simple-update TPS{by_echo} "
            f"(target >= {TARGET_SHARE:.0%}): {verdict}"
        )
        if echo is not None:
            transactions = round(counted.total_transactions)
            calls = 1 + round(sum(counted.rpcs.values()))  # the HTTP request and the RPCs as served
            what = f"a checkout (the HTTP request and {calls - 1} gRPC calls, {transactions} transactions as measured)"
            print(ceiling_line(what, calls, transactions, echo.throughput, pg.tps))
    else:
        print("  checkout / pgbench: - (no anchors)")
    p99 = half.percentile(99)
    verdict = "MET" if half.ok and not half.errors and p99 < TARGET_P99_MS else "NOT MET"
    print(
        f"  p99 at half load ({half.throughput:,.0f}/s) = {p99:.1f} ms "
        f"(p50 {half.percentile(50):.1f}, p95 {half.percentile(95):.1f}; target < {TARGET_P99_MS:g} ms): {verdict}"
    )
    if peak.cpu_ms:
        total = sum(peak.cpu_ms.values())
        services = total - peak.cpu_ms.get("load gen", 0.0)
        verdict = "MET" if total <= TARGET_CPU_MS else "NOT MET"
        print(
            f"  CPU per checkout = {total:.1f} ms, every process ({services:.1f} ms without the load generator; "
            f"target <= {TARGET_CPU_MS:g} ms): {verdict}"
        )
    print(flush=True)
