"""Identify a member by card and by phone at N members: gRPC ``IdentifyMember`` on
the members service, and ``POST /api/v1/members/identify`` through the gateway, each for a fixed
time with concurrent workers on random existing members. Anchors in the same run."""

from __future__ import annotations

import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import httpx

from bench import anchors, cpu, machine
from bench.load import HEADER, Result, ratio, row
from bench.seed import Seeded, seed
from bench.stack import Stack, say
from chainclub.members.v1 import members_pb2 as pb
from chainclub.members.v1 import members_pb2_grpc
from kit.auth import KeySet

CLAIMS = {"sub": "bench", "role": "clerk", "scope": "HQ/B/S001", "org_unit": "S001"}


@dataclass
class Options:
    members: int = 100_000
    seconds: float = 10.0
    concurrency: int = 16
    warmup: float = 1.0
    anchors: bool = True
    pgbench_clients: int = 8
    pgbench_threads: int = 2
    pgbench_scale: int = 10


def _grpc_cases(
    stub: members_pb2_grpc.MembersServiceStub, token: str, seeded: Seeded, rng: random.Random
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    md = (("authorization", f"Bearer {token}"),)
    n = len(seeded)

    async def by_card() -> None:
        i = rng.randrange(n)
        reply = await stub.IdentifyMember(
            pb.IdentifyMemberRequest(card_no=seeded.card_nos[i]), metadata=md, timeout=30
        )
        if reply.member_no != seeded.member_nos[i]:
            raise RuntimeError(f"card {seeded.card_nos[i]} identified {reply.member_no!r}")

    async def by_phone() -> None:
        i = rng.randrange(n)
        reply = await stub.IdentifyMember(
            pb.IdentifyMemberRequest(phone=seeded.phones[i]), metadata=md, timeout=30
        )
        if reply.member_no != seeded.member_nos[i] or reply.card_no != seeded.card_nos[i]:
            raise RuntimeError(f"phone {seeded.phones[i]} identified {reply.member_no!r}")

    return [("gRPC IdentifyMember by card_no", by_card), ("gRPC IdentifyMember by phone", by_phone)]


def _http_cases(
    client: httpx.AsyncClient, seeded: Seeded, rng: random.Random
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    n = len(seeded)

    async def post(body: dict[str, str], i: int) -> None:
        r = await client.post("/api/v1/members/identify", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        if r.json()["member_no"] != seeded.member_nos[i]:
            raise RuntimeError(f"{body} identified {r.json()['member_no']!r}")

    async def by_card() -> None:
        i = rng.randrange(n)
        await post({"card_no": seeded.card_nos[i]}, i)

    async def by_phone() -> None:
        i = rng.randrange(n)
        await post({"phone": seeded.phones[i]}, i)

    return [("HTTP /members/identify by card_no", by_card), ("HTTP /members/identify by phone", by_phone)]


async def run(opts: Options) -> int:
    """The identify benchmark alone: its own stack and anchors."""
    stack = Stack()
    try:
        await stack.start()
        machine.print_facts(await stack.postgres_version())
        pg, echo = await anchors.measure(stack, opts) if opts.anchors else (None, None)
        return await measure(stack, opts, pg, echo)
    finally:
        say("stopping: gateway, members, NATS, PostgreSQL")
        await stack.close()


async def measure(
    stack: Stack,
    opts: Options,
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    *,
    tag: str = "",
) -> int:
    """Members and the gateway on a started ``stack`` (databases ``<prefix><tag>…``), the
    seed, the four cases and the report; 1 when a call failed."""
    stack.db_pool_size = max(10, opts.concurrency + 4)  # every worker's call can hold one
    print(
        f"identify at {opts.members:,} members: {opts.concurrency} concurrent workers, "
        f"{opts.seconds:g}s per case after {opts.warmup:g}s warm-up; the load generator is one "
        "Python process on the same machine; "
        f"each service pools {stack.db_pool_size} database connections",
        flush=True,
    )
    settings = stack.settings(tag)
    members = await stack.serve("members", settings)
    await stack.wait_grpc_health(members, settings.members_addr)
    say(f"members service SERVING on {settings.members_addr} (migrated)")
    gateway = await stack.serve("gateway", settings)  # starts while we seed

    seeded = await seed(settings, opts.members)
    say(
        f"seeded {len(seeded):,} members + cards in {seeded.seconds:.1f}s "
        f"({len(seeded) / seeded.seconds:,.0f} members/s with their cards, COPY in batches of 5000)"
    )
    base_url = f"http://{settings.host}:{settings.gateway_port}"
    await stack.wait_gateway(gateway, base_url)
    say(f"gateway ready on {base_url}")

    token = KeySet.from_settings(settings).sign(CLAIMS, 4 * 3600)
    rng = random.Random(7)
    results: list[Result] = []
    async with grpc.aio.insecure_channel(settings.members_addr) as channel:
        stub = members_pb2_grpc.MembersServiceStub(channel)
        results += await stack.run_cases(_grpc_cases(stub, token, seeded, rng), opts)
    async with stack.http_client(base_url, token, opts.concurrency) as client:
        results += await stack.run_cases(_http_cases(client, seeded, rng), opts)

    _report(opts, seeded, pg, echo, results)
    cpu.report([(r.name, r.cpu_ms) for r in results])
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"ERROR {r.name}: {r.errors} failed calls; first: {r.first_error}", file=sys.stderr)
    return 1 if failed else 0


def _report(
    opts: Options,
    seeded: Seeded,
    pg: anchors.PgbenchResult | None,
    echo: Result | None,
    results: list[Result],
) -> None:
    print()
    print(f"results — identify at {len(seeded):,} members (seeded in {seeded.seconds:.1f}s)")
    print(HEADER)
    if echo is not None:
        print(row(echo) + "   (anchor)")
    for r in results:
        print(row(r))
    if pg is not None:
        print(
            f"  {'pgbench simple-update':34} {pg.tps:9.0f} TPS   latency avg {pg.latency_ms:.2f} ms"
            f"   (anchor: -c {pg.clients} -j {pg.threads} -T {pg.seconds}, scale {pg.scale})"
        )
    if pg is not None and echo is not None:
        print()
        print("ratios (throughput / anchor)")
        print(f"  {'case':34} {'/ echo':>8} {'/ pgbench':>10}")
        for r in results:
            print(
                f"  {r.name:34} {ratio(r.throughput, echo.throughput):>8} {ratio(r.throughput, pg.tps):>10}"
            )
        card = results[0]
        print(
            f"  identify-by-card gRPC = {card.throughput / echo.throughput:.2f} x the grpc.aio echo ceiling, "
            f"{card.throughput / pg.tps:.2f} x pgbench simple-update TPS"
        )
    print(flush=True)
