"""What the test fixtures share: settings on the session's servers with free ports, and a
real gateway (uvicorn) served on the test's event loop."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

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
