"""kit.grpcclient: a channel to a name with several addresses spreads its calls over all of
them (two real gRPC servers behind one target), targets become DNS targets, and a service's
own token is reused until shortly before it runs out."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from chainclub.common.v1 import common_pb2
from chainclub.members.v1 import members_pb2_grpc
from kit import grpcclient
from kit.auth import KeySet
from kit.config import Settings
from kit.grpcserver import create_server

pytestmark = pytest.mark.integration


class Named(members_pb2_grpc.MembersServiceServicer):
    def __init__(self, name: str) -> None:
        self.name = name

    async def GetServiceInfo(self, request, context):  # type: ignore[no-untyped-def]
        return common_pb2.ServiceInfo(service=self.name)


@pytest.fixture
async def two_replicas() -> AsyncIterator[tuple[list[int], KeySet]]:
    keys = KeySet.from_settings(Settings(profile="test"))
    servers, ports = [], []
    for name in ("a", "b"):
        srv, port, _ = await create_server(
            "127.0.0.1:0",
            keys,
            [
                (
                    members_pb2_grpc.add_MembersServiceServicer_to_server,
                    Named(name),
                    "chainclub.members.v1.MembersService",
                )
            ],
        )
        servers.append(srv)
        ports.append(port)
    try:
        yield ports, keys
    finally:
        for srv in servers:
            await srv.stop(0)


async def test_calls_are_spread_round_robin_over_every_address(two_replicas) -> None:  # type: ignore[no-untyped-def]
    ports, keys = two_replicas
    token = grpcclient.ServiceToken(keys, {"sub": "t", "role": "service", "scope": "HQ"})
    async with grpcclient.channel(f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}") as channel:
        stub = members_pb2_grpc.MembersServiceStub(channel)
        answered = [
            (
                await stub.GetServiceInfo(
                    common_pb2.GetServiceInfoRequest(), metadata=token.metadata(), timeout=5
                )
            ).service
            for _ in range(10)
        ]
    assert set(answered) == {"a", "b"}
    assert abs(answered.count("a") - answered.count("b")) <= 2  # round robin, not pick-first


def test_host_and_port_become_a_dns_target_and_schemes_are_kept() -> None:
    assert grpcclient.target("members:50051") == "dns:///members:50051"
    assert grpcclient.target("127.0.0.1:50051") == "dns:///127.0.0.1:50051"
    assert grpcclient.target("dns:///members:50051") == "dns:///members:50051"
    assert grpcclient.target("ipv4:10.0.0.1:1,10.0.0.2:1") == "ipv4:10.0.0.1:1,10.0.0.2:1"
    assert grpcclient.target("unix:/tmp/s.sock") == "unix:/tmp/s.sock"


def test_a_service_token_is_reused_then_renewed() -> None:
    keys = KeySet.from_settings(Settings(profile="test"))
    token = grpcclient.ServiceToken(
        keys, {"sub": f"s-{uuid.uuid4().hex[:6]}", "role": "service", "scope": "HQ"}
    )
    first = token.get()
    assert token.get() == first
    assert keys.verify(first).role == "service"
    time.sleep(1.1)  # a new token has another issue time
    token._until = 0.0  # as if its four minutes of use had passed
    renewed = token.get()
    assert renewed != first
    assert keys.verify(renewed).sub == token.claims["sub"]
