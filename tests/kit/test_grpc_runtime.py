"""A real service process life: migrations, gRPC with health, reflection and token checks,
graceful stop — the members service started in this test process."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import text

from chainclub.common.v1 import common_pb2
from chainclub.members.v1 import members_pb2_grpc
from kit.auth import KeySet
from kit.config import Settings
from kit.db import ensure_database
from kit.errors import from_rpc_error
from kit.migrations import head_revision
from kit.runtime import Service, ServiceSpec
from kit.testing import Infra
from services.members.main import SERVICE_NAME
from services.members.main import spec as members_spec
from tests.kit.helpers import drop_database

pytestmark = pytest.mark.integration

CALLER = {"sub": "staff-9", "role": "region_manager", "scope": "HQ/EAST"}


def service_settings(infra: Infra) -> Settings:
    return Settings(
        database_url=infra.database_url,
        db_prefix=f"t{uuid.uuid4().hex[:12]}_",
        nats_url=infra.nats_url,
        profile="test",
        grpc_grace_seconds=2,
    )


def spec() -> ServiceSpec:
    """The members service as composed in its main, without its background jobs: they are
    members' business, and ``Service.stop`` waits 10 s for jobs that never return."""
    return dataclasses.replace(members_spec(), background=[])


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="module")
async def members(infra: Infra) -> AsyncIterator[Service]:
    """One members service for the read-only tests of this module."""
    settings = service_settings(infra)
    service = Service(spec(), settings)
    try:
        await service.start("127.0.0.1:0")
        yield service
    finally:
        await service.stop()
        await drop_database(settings.database_url_for("members"))


@pytest.fixture
async def channel(members: Service) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{members.port}") as ch:
        yield ch


async def info(channel: grpc.aio.Channel, token: str | None) -> common_pb2.ServiceInfo:
    stub = members_pb2_grpc.MembersServiceStub(channel)
    return await stub.GetServiceInfo(
        common_pb2.GetServiceInfoRequest(), metadata=bearer(token) if token else None, timeout=5
    )


@pytest.mark.parametrize("service_name", ["", SERVICE_NAME])
async def test_health_reports_serving(channel: grpc.aio.Channel, service_name: str) -> None:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service_name), timeout=5
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_members_service(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = [s.name for reply in [r async for r in call] for s in reply.list_services_response.service]
    assert "chainclub.members.v1.MembersService" in names
    assert "grpc.health.v1.Health" in names


async def test_a_call_without_a_token_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await info(channel, None)
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert from_rpc_error(failed.value).reason == "unauthenticated"


async def test_a_verified_caller_gets_the_service_info(channel: grpc.aio.Channel, members: Service) -> None:
    token = KeySet.from_settings(members.settings).sign(CALLER, ttl=300)
    reply = await info(channel, token)
    assert reply.service == "members"
    assert reply.schema_revision == head_revision("members") != ""
    assert (reply.caller_sub, reply.caller_role, reply.caller_scope) == (
        "staff-9",
        "region_manager",
        "HQ/EAST",
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda s: KeySet(Ed25519PrivateKey.generate()).sign(CALLER, ttl=300), id="another-key"),
        pytest.param(
            lambda s: KeySet.from_settings(s).sign(CALLER, ttl=60, now=time.time() - 10_000), id="expired"
        ),
        pytest.param(
            lambda s: KeySet.from_settings(s).sign({**CALLER, "role": "root"}, ttl=60), id="unknown-role"
        ),
        pytest.param(lambda s: "not.a.token", id="garbage"),
    ],
)
async def test_a_bad_token_is_unauthenticated(channel: grpc.aio.Channel, members: Service, token) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await info(channel, token(members.settings))
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert from_rpc_error(failed.value).reason == "unauthenticated"


async def test_a_stopped_service_no_longer_reports_serving(infra: Infra) -> None:
    settings = service_settings(infra)
    service = Service(spec(), settings)
    try:
        port = await service.start("127.0.0.1:0")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            serving = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert serving.status == health_pb2.HealthCheckResponse.SERVING
            await service.stop()
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
            else:
                assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        await service.stop()
        await drop_database(settings.database_url_for("members"))


async def test_two_replicas_starting_at_once_share_one_migrated_database(infra: Infra) -> None:
    settings = service_settings(infra)
    # the database exists (as after the first deployment); the race under test is the migration
    await ensure_database(settings.database_url_for("members"))
    replicas = [Service(spec(), settings), Service(spec(), settings)]
    try:
        ports = await asyncio.gather(*(r.start("127.0.0.1:0") for r in replicas))
        assert len(set(ports)) == 2
        token = KeySet.from_settings(settings).sign(CALLER, ttl=300)
        for port in ports:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                assert (await info(ch, token)).schema_revision == head_revision("members")
        async with replicas[0].runtime.db.sessions() as session:  # type: ignore[union-attr]
            versions = (
                (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            )
            tables = (
                (
                    await session.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                    )
                )
                .scalars()
                .all()
            )
        assert versions == [head_revision("members")]
        assert {"alembic_version", "outbox", "inbox", "dead_letter"} <= set(tables)
    finally:
        await asyncio.gather(*(r.stop() for r in replicas))
        await drop_database(settings.database_url_for("members"))


async def test_replicas_creating_their_database_at_once_all_succeed(infra: Infra) -> None:
    url = infra.fresh_database_url("race")
    try:
        created = await asyncio.gather(*(ensure_database(url) for _ in range(4)))
        assert sorted(created) == [False, False, False, True]
    finally:
        await drop_database(url)
