"""Members + wallet services (real grpc.aio servers) and a real gateway in front of them, on
the session's PostgreSQL and NATS, each with databases of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
import httpx
import pytest

from chainclub.wallet.v1 import wallet_pb2_grpc
from kit.auth import KeySet
from kit.runtime import Service
from kit.testing import Infra
from services.members.main import spec as members_spec
from services.wallet.main import spec as wallet_spec
from tests.members.conftest import World, random_phone
from tests.support import serving_gateway, settings_for


@dataclass
class WalletWorld(World):
    wallet_service: Service | None = None
    channel: grpc.aio.Channel | None = None

    @property
    def wallet(self) -> wallet_pb2_grpc.WalletServiceStub:
        """The wallet's gRPC API (call with ``metadata=world.md(token)``)."""
        return wallet_pb2_grpc.WalletServiceStub(self.channel)

    @staticmethod
    def md(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)

    async def card(self, token: str, **fields) -> str:  # type: ignore[no-untyped-def]
        """Register a member with ``token`` (a store user) and return its card number."""
        member = await self.register(token, **fields)
        return member["card"]["card_no"]

    async def top_up(
        self, token: str, card_no: str, amount: int, channel: str = "cash", key: str | None = None
    ):  # type: ignore[no-untyped-def]
        return await self.call(
            "POST",
            f"/api/v1/cards/{card_no}/top-ups",
            token,
            json={"amount": amount, "channel": channel},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )

    def token_for(self, role: str, scope: str, sub: str | None = None) -> str:
        """A token as the gateway signs them, for calling the wallet over gRPC directly."""
        org_unit = scope.rsplit("/", 1)[-1]
        claims = {
            "sub": sub or f"{role}-{uuid.uuid4().hex[:6]}",
            "role": role,
            "scope": scope,
            "org_unit": org_unit,
        }
        return KeySet.from_settings(self.settings).sign(claims, 900)


@asynccontextmanager
async def serving_wallet_world(infra: Infra, prefix: str, **overrides: object) -> AsyncIterator[WalletWorld]:
    """Members, wallet and a gateway on databases of their own (``prefix``), the admin logged in."""
    settings = settings_for(infra, prefix, **overrides)
    members = Service(members_spec(), settings)
    await members.start(settings.members_addr)
    w = WalletWorld("", settings, None, members)  # type: ignore[arg-type]
    w.wallet_service = Service(wallet_spec(), settings)
    await w.wallet_service.start(settings.wallet_addr)
    w.channel = grpc.aio.insecure_channel(settings.wallet_addr)
    try:
        async with serving_gateway(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            w.url, w.http = url, http
            w.admin = await w.login("admin", "admin")
            yield w
    finally:  # the services the world holds now (a test may have restarted one)
        await w.channel.close()
        await w.wallet_service.stop()
        await w.service.stop()


@pytest.fixture(scope="session")
async def wallet_world(infra: Infra) -> AsyncIterator[WalletWorld]:
    async with serving_wallet_world(infra, "w", wallet_adjustment_approval_threshold=100_000) as w:
        yield w


__all__ = ["WalletWorld", "random_phone"]
