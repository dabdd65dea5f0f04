"""What the test fixtures share: settings on the session's servers with free ports, a real
gateway (uvicorn) served on the test's event loop, and the whole suite started by the real
supervisor (`chainclub dev`) as a user would (the e2e and browser tiers)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kit.config import Settings
from kit.dev import free_port
from kit.testing import Infra, NatsServer
from services.gateway.main import server

_private_nats: list[NatsServer] = []


def private_nats_url(infra: Infra) -> str:
    """A NATS server of this fixture's own. Stream and durable consumer names are global on a
    server, so two running worlds (each with its own loyalty, say) would otherwise share
    consumers and take each other's events. With CHAINCLUB_NATS_URL set, the shared server."""
    if os.environ.get("CHAINCLUB_NATS_URL"):
        return infra.nats_url
    server = NatsServer(Path(tempfile.mkdtemp(prefix="chainclub-nats-"))).start()
    _private_nats.append(server)
    return server.url


def stop_private_nats() -> None:
    while _private_nats:
        server = _private_nats.pop()
        server.stop()
        shutil.rmtree(server.store, ignore_errors=True)


def settings_for(infra: Infra, prefix: str, **overrides: Any) -> Settings:
    """Settings for one fixture: its own databases (``<prefix><hex>_``), its own NATS server
    and free ports."""
    values: dict[str, Any] = {
        "profile": "test",
        "database_url": infra.database_url,
        "db_prefix": f"{prefix}{uuid.uuid4().hex[:8]}_",
        "nats_url": overrides.pop("nats_url", None) or private_nats_url(infra),
        "gateway_port": free_port(),
        "login_ip_max_failures": 100000,
        **{f"{name}_addr": f"127.0.0.1:{free_port()}" for name in ("members", "wallet", "loyalty", "notify")},
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def serving_gateway(settings: Settings) -> AsyncIterator[str]:
    """The gateway on ``settings.gateway_port``; yields its base URL."""
    srv = server(settings, settings.gateway_port)
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.gateway_port}"
    finally:
        srv.should_exit = True
        await task


@dataclass
class Suite:
    proc: subprocess.Popen[bytes]
    url: str
    run_dir: Path
    env: dict[str, str]
    output: Path

    def wait_ready(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"supervisor exited with {self.proc.returncode}:\n{self.output.read_text()}"
                )
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                last = (r.status_code, r.text)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.2)
        raise AssertionError(f"/readyz not 200 within {timeout}s; last: {last}\n{self.output.read_text()}")

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def start_suite(run_dir: Path, extra_env: dict[str, str] | None = None) -> Suite:
    """`chainclub dev` on free ports; no CHAINCLUB_* from the caller's environment leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINCLUB_")}
    gateway_port = free_port()
    env.update(
        CHAINCLUB_RUN_DIR=str(run_dir),
        CHAINCLUB_GATEWAY_PORT=str(gateway_port),
        CHAINCLUB_NATS_PORT=str(free_port()),
        CHAINCLUB_METRICS_BASE_PORT="0",
        CHAINCLUB_MEMBERS_ADDR=f"127.0.0.1:{free_port()}",
        CHAINCLUB_WALLET_ADDR=f"127.0.0.1:{free_port()}",
        CHAINCLUB_LOYALTY_ADDR=f"127.0.0.1:{free_port()}",
        CHAINCLUB_NOTIFY_ADDR=f"127.0.0.1:{free_port()}",
        CHAINCLUB_LOGIN_IP_MAX_FAILURES="100000",
    )
    env.update(extra_env or {})
    run_dir.mkdir(parents=True, exist_ok=True)
    output = run_dir / "supervisor.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kit.cli", "dev"],
        env=env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Suite(proc, f"http://127.0.0.1:{env['CHAINCLUB_GATEWAY_PORT']}", run_dir, env, output)


@contextmanager
def suite_on(
    infra: Infra, run_dir: Path, prefix: str = "e2e", extra_env: dict[str, str] | None = None
) -> Iterator[Suite]:
    """The suite on the session's PostgreSQL and NATS (it must start no embedded ones), ready;
    stopped afterwards. ``extra_env``: settings of its own (CHAINCLUB_*)."""
    s = start_suite(
        run_dir,
        {
            "CHAINCLUB_DATABASE_URL": infra.database_url,
            "CHAINCLUB_NATS_URL": private_nats_url(infra),
            "CHAINCLUB_DB_PREFIX": f"{prefix}{uuid.uuid4().hex[:6]}_",
            **(extra_env or {}),
        },
    )
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


async def consumed(js, stream: str, durable: str, seq: int, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """The durable consumer has been given the stream's message ``seq`` (and everything before
    it) and acknowledged all it was given: the event was handled, whether or not its handler
    wrote anything (one whose work was already done writes nothing)."""
    deadline = time.monotonic() + timeout
    info = None
    while time.monotonic() < deadline:
        info = await js.consumer_info(stream, durable)
        if info.delivered.stream_seq >= seq and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{durable} did not acknowledge message {seq} of {stream} within {timeout}s: {info}")
