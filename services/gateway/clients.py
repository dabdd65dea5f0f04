"""gRPC channels to the services, opened once per process (never per request)."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chainclub.loyalty.v1 import loyalty_pb2_grpc
from chainclub.members.v1 import members_pb2_grpc
from chainclub.notify.v1 import notify_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2_grpc
from kit import grpcclient
from kit.auth import Principal
from kit.config import SERVICES, Settings
from kit.errors import from_rpc_error


class ServiceClients:
    def __init__(self, settings: Settings) -> None:
        self.channels: dict[str, grpc.aio.Channel] = {
            name: grpcclient.channel(settings.service_addr(name)) for name in SERVICES
        }

        self.members = members_pb2_grpc.MembersServiceStub(self.channels["members"])
        self.wallet = wallet_pb2_grpc.WalletServiceStub(self.channels["wallet"])
        self.loyalty = loyalty_pb2_grpc.LoyaltyServiceStub(self.channels["loyalty"])
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channels["notify"])

    @staticmethod
    def metadata(principal: Principal) -> tuple[tuple[str, str], ...]:
        """Forward the caller's own token; each service re-checks scope with it."""
        return grpcclient.metadata(principal.token)

    @classmethod
    async def call(cls, method, request, principal: Principal, timeout: float = 15.0):  # type: ignore[no-untyped-def]
        """One RPC with the caller's token; a failed status comes back as the service's error."""
        try:
            return await method(request, metadata=cls.metadata(principal), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None

    async def health(self, timeout: float = 1.5) -> dict[str, str]:
        async def check(name: str, channel: grpc.aio.Channel) -> tuple[str, str]:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=timeout
                )
                return name, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.aio.AioRpcError as exc:
                return name, "UNAVAILABLE" if exc.code() == grpc.StatusCode.UNAVAILABLE else exc.code().name

        return dict(await asyncio.gather(*(check(n, c) for n, c in self.channels.items())))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.channels.values()))
