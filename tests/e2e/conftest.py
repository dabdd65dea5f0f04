"""The whole suite started by the real supervisor (`chainclub dev`) as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kit.dev import free_port
from kit.testing import Infra
from tests.support import private_nats_url


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


@pytest.fixture(scope="session")
def suite(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The suite on the session's PostgreSQL and NATS (it must start no embedded ones)."""
    run_dir = tmp_path_factory.mktemp("suite")
    s = start_suite(
        run_dir,
        {
            "CHAINCLUB_DATABASE_URL": infra.database_url,
            "CHAINCLUB_NATS_URL": private_nats_url(infra),
            "CHAINCLUB_DB_PREFIX": f"e2e{uuid.uuid4().hex[:6]}_",
        },
    )
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()
