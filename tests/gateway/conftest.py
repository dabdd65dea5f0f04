"""A real gateway (uvicorn on a free port) over the session's real PostgreSQL, with a database
of its own; tests talk to it over real HTTP with httpx."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from kit.config import Settings
from kit.testing import Infra
from tests.gateway.helpers import PASSWORD, rand_name
from tests.support import serving_gateway, settings_for


@dataclass
class Gateway:
    url: str
    settings: Settings
    http: httpx.AsyncClient
    admin: str  # an hq_admin access token

    async def login(self, username: str, password: str) -> httpx.Response:
        """The raw answer of the password grant."""
        return await self.http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )

    async def token(self, username: str, password: str) -> str:
        r = await self.login(username, password)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    async def terminal_token(self, client_id: str, secret: str) -> str:
        r = await self.http.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    async def call(self, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.request(method, path, headers=headers, **kw)

    async def unit(self, kind: str, parent: str, code: str | None = None) -> dict:
        code = code or f"{kind[0].upper()}{uuid.uuid4().hex[:10].upper()}"
        r = await self.call(
            "POST",
            "/api/v1/org-units",
            self.admin,
            json={"code": code, "name": code, "kind": kind, "parent": parent},
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def user(self, role: str, org_unit: str, price_level: str | None = None) -> tuple[str, str]:
        """Create a user as HQ admin; returns (username, access token)."""
        username = f"{role}_{uuid.uuid4().hex[:8]}"
        body = {"username": username, "password": PASSWORD, "role": role, "org_unit": org_unit}
        if price_level:
            body["price_level"] = price_level
        r = await self.call("POST", "/api/v1/users", self.admin, json=body)
        assert r.status_code == 201, r.text
        return username, await self.token(username, PASSWORD)

    async def terminal(self, store: str, token: str | None = None) -> tuple[str, str]:
        """Register a terminal on a store (as HQ admin unless a token is given): (client_id, secret)."""
        r = await self.call(
            "POST", "/api/v1/terminals", token or self.admin, json={"store": store, "name": rand_name("till")}
        )
        assert r.status_code == 201, r.text
        return r.json()["client_id"], r.json()["client_secret"]

    async def product(self, **fields) -> dict:  # type: ignore[no-untyped-def]
        """Create a product as HQ admin; fields override a random valid body."""
        body = {
            "sku": rand_name("sku"),
            "name": "Tea",
            "category": rand_name("cat"),
            "retail_price": 9900,
            **fields,
        }
        r = await self.call("POST", "/api/v1/products", self.admin, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def audit(self, **filters: str) -> list[dict]:
        """Audit entries (newest first) matching the filters, read as HQ admin."""
        r = await self.call("GET", "/api/v1/audit-log", self.admin, params={"limit": 500, **filters})
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture(scope="session")
async def gateway(infra: Infra) -> AsyncIterator[Gateway]:
    # No services run here: readiness must report them unavailable.
    settings = settings_for(infra, "gw")
    async with serving_gateway(settings) as url, httpx.AsyncClient(base_url=url, timeout=20) as http:
        gw = Gateway(url, settings, http, "")
        gw.admin = await gw.token("admin", "admin")
        yield gw
