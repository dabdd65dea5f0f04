"""The members service (a real grpc.aio server) and a real gateway in front of it, on the
session's PostgreSQL and NATS, each with databases of their own; a wallet beside them, which
members tells of every card block before it commits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from kit.auth import KeySet, Principal
from kit.config import Settings
from kit.runtime import Service
from kit.testing import Infra
from services.members.main import spec
from services.wallet.main import spec as wallet_spec
from tests.support import serving_gateway, settings_for


@dataclass
class World:
    """The running pair plus helpers to build an org tree and staff through the API."""

    url: str
    settings: Settings
    http: httpx.AsyncClient
    service: Service
    admin: str = ""
    wallet_service: Service | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    async def call(self, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.request(method, path, headers=headers, **kw)

    async def login(self, username: str, password: str) -> str:
        r = await self.http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    async def unit(self, kind: str, parent: str) -> str:
        code = f"{kind[0].upper()}{uuid.uuid4().hex[:10].upper()}"
        r = await self.call(
            "POST",
            "/api/v1/org-units",
            self.admin,
            json={"code": code, "name": code, "kind": kind, "parent": parent},
        )
        assert r.status_code == 201, r.text
        return code

    async def staff(self, role: str, org_unit: str, price_level: str | None = None) -> str:
        """A new user of ``role`` on ``org_unit``; returns its access token."""
        username = f"{role}_{uuid.uuid4().hex[:8]}"
        body = {"username": username, "password": "s3cret-pass", "role": role, "org_unit": org_unit}
        if price_level:
            body["price_level"] = price_level
        r = await self.call("POST", "/api/v1/users", self.admin, json=body)
        assert r.status_code == 201, r.text
        return await self.login(username, "s3cret-pass")

    async def terminal(self, store: str) -> str:
        r = await self.call("POST", "/api/v1/terminals", self.admin, json={"store": store, "name": "POS"})
        assert r.status_code == 201, r.text
        creds = r.json()
        r = await self.http.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    async def register(self, token: str, **fields) -> dict:  # type: ignore[no-untyped-def]
        body = {"name": "测试会员", "phone": random_phone(), **fields}
        r = await self.call("POST", "/api/v1/members", token, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def service_token(self, scope: str = "HQ", role: str = "service") -> str:
        """A token as the gateway would sign it (for calling the members gRPC API directly)."""
        return KeySet.from_settings(self.settings).sign(
            {"sub": f"test-{role}", "role": role, "scope": scope}, 600
        )


def random_phone() -> str:
    """A valid, unique-enough Chinese mobile number."""
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


def principal_for(world: World, token: str) -> Principal:
    return KeySet.from_settings(world.settings).verify(token)


@pytest.fixture(scope="session")
async def world(infra: Infra) -> AsyncIterator[World]:
    settings = settings_for(infra, "m")
    service = Service(spec(), settings)
    await service.start(settings.members_addr)
    wallet = Service(wallet_spec(), settings)
    await wallet.start(settings.wallet_addr)
    try:
        async with serving_gateway(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            w = World(url, settings, http, service, wallet_service=wallet)
            w.admin = await w.login("admin", "admin")
            yield w
    finally:
        await wallet.stop()
        await service.stop()


# --- fixtures of the member API tests -----------------------------------------------------
@pytest.fixture
async def store(world):
    region = await world.unit("region", "HQ")
    return region, await world.unit("store", region)


@pytest.fixture
async def clerk(world, store):
    return await world.staff("clerk", store[1])


@pytest.fixture
async def populated(world, store):
    """Three members at a fresh store with distinct names, tags and birthdays."""
    from tests.members.helpers import rand_name  # helpers import this module

    clerk = await world.staff("clerk", store[1])
    tag = f"t{uuid.uuid4().hex[:8]}"
    stem = rand_name("检索")
    a = await world.register(clerk, name=f"{stem}甲", tags=[tag, "common"], birthday="1985-02-14")
    b = await world.register(clerk, name=f"{stem}乙", tags=["common"], birthday="1991-11-30")
    c = await world.register(clerk, name=rand_name("别名"), birthday="1970-02-01")
    return {"store": store[1], "clerk": clerk, "tag": tag, "stem": stem, "members": [a, b, c]}
