"""What a caller sees when a handler fails unexpectedly: a real PostgreSQL deadlock (or an
outage) is UNAVAILABLE with reason ``unavailable`` — the work rolled back, try again — while
any other exception stays INTERNAL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from chainclub.common.v1 import common_pb2
from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit.auth import KeySet
from kit.config import Settings
from kit.db import asyncpg_dsn, ensure_database, is_retryable
from kit.errors import from_rpc_error
from kit.grpcserver import create_server
from kit.testing import Infra
from tests.kit.helpers import drop_database

pytestmark = pytest.mark.integration


async def deadlock(dsn: str) -> None:
    """Two transactions taking two rows in opposite orders: PostgreSQL aborts one of them
    with ``deadlock_detected``, which is raised here."""
    a, b = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        await a.execute("SET deadlock_timeout = '100ms'")
        await b.execute("SET deadlock_timeout = '100ms'")
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await tb.start()
        await a.execute("UPDATE pair SET n = n + 1 WHERE id = 1")
        await b.execute("UPDATE pair SET n = n + 1 WHERE id = 2")
        results = await asyncio.gather(
            a.execute("UPDATE pair SET n = n + 1 WHERE id = 2"),
            b.execute("UPDATE pair SET n = n + 1 WHERE id = 1"),
            return_exceptions=True,
        )
        await ta.rollback()
        await tb.rollback()
        for r in results:
            if isinstance(r, BaseException):
                raise r
        raise AssertionError("no deadlock was detected")
    finally:
        await a.close()
        await b.close()


class Failing(members_pb2_grpc.MembersServiceServicer):
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def GetServiceInfo(self, request, context):  # type: ignore[no-untyped-def]
        if request.ListFields():  # never: the request has no fields
            return common_pb2.ServiceInfo()
        await deadlock(self.dsn)

    async def GetCard(self, request, context):  # type: ignore[no-untyped-def]
        raise RuntimeError("a plain bug")


@pytest.fixture
async def server(infra: Infra) -> AsyncIterator[tuple[str, KeySet]]:
    settings = Settings(
        database_url=infra.database_url, db_prefix=f"t{uuid.uuid4().hex[:12]}_", profile="test"
    )
    url = settings.database_url_for("errors")
    await ensure_database(url)
    dsn = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE pair (id int PRIMARY KEY, n int NOT NULL)")
    await conn.execute("INSERT INTO pair VALUES (1, 0), (2, 0)")
    await conn.close()
    keys = KeySet.from_settings(settings)
    srv, port, _ = await create_server(
        "127.0.0.1:0",
        keys,
        [
            (
                members_pb2_grpc.add_MembersServiceServicer_to_server,
                Failing(dsn),
                "chainclub.members.v1.MembersService",
            )
        ],
    )
    try:
        yield f"127.0.0.1:{port}", keys
    finally:
        await srv.stop(0)
        await drop_database(url)


async def test_a_deadlock_is_unavailable_and_a_bug_is_internal(server: tuple[str, KeySet]) -> None:
    addr, keys = server
    md = (("authorization", "Bearer " + keys.sign({"sub": "t", "role": "hq_admin", "scope": "HQ"}, 60)),)
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = members_pb2_grpc.MembersServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetServiceInfo(common_pb2.GetServiceInfoRequest(), metadata=md, timeout=20)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert from_rpc_error(failed.value).reason == "unavailable"

        with pytest.raises(grpc.aio.AioRpcError) as bug:
            await stub.GetCard(members_pb2.GetCardRequest(card_no="1"), metadata=md, timeout=20)
        assert bug.value.code() == grpc.StatusCode.INTERNAL


def test_retryable_errors_are_told_apart() -> None:
    assert is_retryable(asyncpg.DeadlockDetectedError("deadlock detected"))
    assert is_retryable(asyncpg.SerializationError("could not serialize access"))
    assert is_retryable(ConnectionRefusedError())
    assert not is_retryable(asyncpg.UniqueViolationError("duplicate key"))
    assert not is_retryable(RuntimeError("a bug"))
