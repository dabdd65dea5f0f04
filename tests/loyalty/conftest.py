"""The loyalty service (a real grpc.aio server) on the session's PostgreSQL and NATS, with a
database of its own, and helpers to call it with tokens as the gateway signs them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
import pytest

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from kit.auth import KeySet
from kit.bus import Bus, StreamSpec
from kit.config import Settings
from kit.runtime import Service
from kit.testing import Infra
from services.loyalty.main import spec as loyalty_spec
from tests.support import settings_for

STORE = "HQ/EAST/SH001"


def random_member_no() -> str:
    return "M" + uuid.uuid4().hex[:12].upper()


@dataclass
class LoyaltyWorld:
    settings: Settings
    service: Service
    channel: grpc.aio.Channel
    bus: Bus

    @property
    def stub(self) -> loyalty_pb2_grpc.LoyaltyServiceStub:
        return loyalty_pb2_grpc.LoyaltyServiceStub(self.channel)

    def md(self, role: str = "clerk", scope: str = STORE) -> tuple[tuple[str, str], ...]:
        claims = {"sub": f"{role}-{uuid.uuid4().hex[:6]}", "role": role, "scope": scope}
        return (("authorization", f"Bearer {KeySet.from_settings(self.settings).sign(claims, 600)}"),)

    @property
    def hq(self) -> tuple[tuple[str, str], ...]:
        return self.md("hq_admin", "HQ")

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.service.runtime.db

    async def give_points(self, member_no: str, points: int) -> None:
        """Points as a top-up bonus would bring them (the use case the consumer calls)."""
        from services.loyalty import points as points_uc

        ctx = self.service.context
        async with self.db.transaction() as session:
            account = await points_uc.ensure_account(session, member_no, STORE)
            await points_uc.add_lot(
                ctx, session, account, points, source="bonus", reference="test", now=ctx.now()
            )

    def quote_request(self, member_no: str = "", lines=None, **kw) -> pb.QuoteRequest:  # type: ignore[no-untyped-def]
        lines = lines or [pb.Line(sku="A", name="apple", category="food", qty=2, unit_price=5_000)]
        return pb.QuoteRequest(
            member_no=member_no,
            card_no=("C" + member_no) if member_no else "",
            store_path=STORE,
            lines=lines,
            **kw,
        )


@asynccontextmanager
async def serving_loyalty(infra: Infra, prefix: str) -> AsyncIterator[LoyaltyWorld]:
    # The background jobs run once at start only: tests call them with a chosen ``now``.
    settings = settings_for(infra, prefix, loyalty_jobs_interval_seconds=86_400)
    bus = Bus(settings.nats_url, name="loyalty-tests")
    bus.start()
    await bus.wait_connected()
    for name in ("wallet", "members"):
        await bus.ensure_stream(StreamSpec.for_service(name))
    service = Service(loyalty_spec(), settings)
    await service.start(settings.loyalty_addr)
    channel = grpc.aio.insecure_channel(settings.loyalty_addr)
    try:
        yield LoyaltyWorld(settings, service, channel, bus)
    finally:
        await channel.close()
        await service.stop()
        await bus.close()


@pytest.fixture(scope="session")
async def loyalty_world(infra: Infra) -> AsyncIterator[LoyaltyWorld]:
    async with serving_loyalty(infra, "l") as world:
        yield world


@pytest.fixture(scope="session")
async def jobs_world(infra: Infra) -> AsyncIterator[LoyaltyWorld]:
    """A loyalty service with a database of its own: the jobs and campaigns tests move clocks,
    tiers and campaign templates that would disturb the other tests."""
    async with serving_loyalty(infra, "lj") as world:
        yield world
