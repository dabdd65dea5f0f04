"""The gateway's last line: an exception nobody handled is a 500 problem (a bug, logged),
except a database outage or a lost deadlock, which is a 503 `unavailable` with Retry-After.
Served over real HTTP by uvicorn with the gateway's own problem handlers installed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from kit.dev import free_port, port_open
from services.gateway import problems

pytestmark = pytest.mark.integration


def app() -> FastAPI:
    a = FastAPI()
    problems.install(a)

    @a.get("/deadlock")
    async def deadlock() -> None:
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    @a.get("/gone")
    async def gone() -> None:
        raise ConnectionRefusedError("connection refused")

    @a.get("/bug")
    async def bug() -> None:
        raise KeyError("oops")

    return a


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app(), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if port_open("127.0.0.1", port):
                break
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.mark.parametrize("path", ["/deadlock", "/gone"])
async def test_a_lost_race_or_a_missing_database_is_503_unavailable(base_url: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.get(path)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "1"
    assert r.json()["code"] == "unavailable"


async def test_any_other_unhandled_exception_is_a_500_problem(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.get("/bug")
    assert r.status_code == 500
    assert r.json()["code"] == "internal"
    assert "oops" not in r.text  # nothing of the exception leaks
