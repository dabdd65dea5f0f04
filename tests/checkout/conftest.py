"""Members + wallet + loyalty services (real grpc.aio servers) and a real gateway in front
of them, on the session's PostgreSQL and a NATS of the fixture's own."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from kit.auth import KeySet
from kit.db import Database
from kit.runtime import Service
from kit.testing import Infra
from services.gateway.clients import ServiceClients
from services.gateway.state import GatewayState
from services.loyalty.main import spec as loyalty_spec
from services.members.main import spec as members_spec
from services.wallet.main import spec as wallet_spec
from tests.members.conftest import World, principal_for
from tests.support import serving_gateway, settings_for


@dataclass
class CheckoutWorld(World):
    loyalty_service: Service | None = None
    store: str = ""
    store_path: str = ""
    other_store: str = ""
    clerk: str = ""
    other_clerk: str = ""
    gw: GatewayState | None = None  # the gateway's use cases, driven directly by the resume test

    async def product(self, price: int, category: str = "food") -> str:
        sku = f"SKU-{uuid.uuid4().hex[:10]}"
        body = {"sku": sku, "name": f"product {sku}", "category": category, "retail_price": price}
        r = await self.call("POST", "/api/v1/products", self.admin, json=body)
        assert r.status_code == 201, r.text
        return sku

    async def member(self, balance: int = 0) -> dict:
        """A member of the store with a card topped up by ``balance``."""
        m = await self.register(self.clerk)
        card = m["card"]["card_no"]
        if balance:
            r = await self.call("POST", f"/api/v1/cards/{card}/top-ups", self.clerk,
                                json={"amount": balance, "channel": "cash"},
                                headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
            assert r.status_code == 201, r.text
        return {"member_no": m["member_no"], "card_no": card}

    async def balance(self, card_no: str) -> int:
        r = await self.call("GET", f"/api/v1/cards/{card_no}/balance", self.clerk)
        assert r.status_code == 200, r.text
        return r.json()["total"]

    async def points(self, member_no: str) -> int:
        """The member's usable points (held ones excluded)."""
        r = await self.call("GET", f"/api/v1/members/{member_no}/points", self.clerk)
        assert r.status_code == 200, r.text
        return r.json()["balance"] - r.json()["reserved"]  # what the member can still use

    async def grant_points(self, m: dict, points: int) -> None:
        """Give the member ``points``: earn them with a cash purchase at the default 1 point per yuan."""
        before = await self.points(m["member_no"])
        sku = await self.product(points * 100)
        q = await self.quote({"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]})
        r = await self.checkout({"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}],
                                 "payments": [{"method": "cash", "amount": q["total_due"]}]})  # fmt: skip
        assert r.status_code == 201, r.text
        for _ in range(100):
            if await self.points(m["member_no"]) >= before + points:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("points were not earned")

    async def coupon(self, m: dict, amount_off: int) -> str:
        r = await self.call("POST", "/api/v1/loyalty/coupon-templates", self.admin,
                            json={"name": "test", "kind": "amount_off", "amount_off": amount_off, "valid_days": 30})  # fmt: skip
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        r = await self.call("POST", f"/api/v1/loyalty/coupon-templates/{tid}/issue", self.admin,
                            json={"member_nos": [m["member_no"]]}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()["codes"][0]

    async def quote(self, body: dict, token: str | None = None) -> dict:
        r = await self.call("POST", "/api/v1/checkouts/quote", token or self.clerk, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    async def checkout(self, body: dict, key: str | None = None, token: str | None = None) -> httpx.Response:
        return await self.call("POST", "/api/v1/checkouts", token or self.clerk, json=body,
                               headers={"Idempotency-Key": key or uuid.uuid4().hex})  # fmt: skip

    def key_hash(self, token: str, key: str) -> str:
        """What the gateway's IdempotencyKey dependency makes of ``key`` for this caller."""
        return hashlib.sha256(f"{principal_for(self, token).sub}\n{key}".encode()).hexdigest()


@pytest.fixture(scope="session")
async def checkout_world(infra: Infra) -> AsyncIterator[CheckoutWorld]:
    settings = settings_for(infra, "co")
    members = Service(members_spec(), settings)
    await members.start(settings.members_addr)
    wallet = Service(wallet_spec(), settings)
    await wallet.start(settings.wallet_addr)
    loyalty = Service(loyalty_spec(), settings)
    await loyalty.start(settings.loyalty_addr)
    gw_db = None
    try:
        async with serving_gateway(settings) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
            w = CheckoutWorld(url, settings, http, members, loyalty_service=loyalty)
            w.admin = await w.login("admin", "admin")
            region = await w.unit("region", "HQ")
            w.store = await w.unit("store", region)
            w.store_path = f"HQ/{region}/{w.store}"
            w.other_store = await w.unit("store", await w.unit("region", "HQ"))
            w.clerk = await w.staff("clerk", w.store)
            w.other_clerk = await w.staff("clerk", w.other_store)
            gw_db = Database(settings.database_url_for("gateway"))
            w.gw = GatewayState(
                settings, gw_db, KeySet.from_settings(settings), ServiceClients(settings), None
            )  # type: ignore[arg-type]
            yield w
    finally:
        if gw_db is not None:
            await w.gw.clients.close()
            await gw_db.dispose()
        if w.loyalty_service is not None:
            await w.loyalty_service.stop()
        await wallet.stop()
        await members.stop()
