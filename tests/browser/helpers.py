"""Helpers of the browser tests: viewports, screenshots, page errors, and an HQ admin making
what a page test needs (org units, staff, distributors, products) over the REST API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".run" / "screenshots"  # .run/ is git-ignored
DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "s3cret-pass"


def shot(page: Page, name: str) -> Path:
    """A full-page PNG of ``page`` at ``.run/screenshots/<name>.png``; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_errors(page: Page) -> list[str]:
    """From now on, the page's uncaught script errors and console errors, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return errors


def login(page: Page, username: str, password: str, terminal: bool = False) -> None:
    """Log in through the login page (``/``; ``terminal`` for a store terminal's client id and
    secret) and wait until it has left it."""
    page.goto("/?mode=terminal" if terminal else "/")
    form = page.locator("#login-form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()


def code(prefix: str) -> str:
    """A fresh org unit code (``[A-Z0-9_-]{2,32}``)."""
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


@dataclass(frozen=True)
class User:
    username: str
    password: str
    role: str
    org_unit: str
    price_level: str | None = None


class Admin:
    """The development HQ admin (``admin``/``admin``) on the suite's REST API, synchronous."""

    def __init__(self, base_url: str, username: str = "admin", password: str = "admin") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=20)
        self.token = self.login(username, password)

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def login(self, username: str, password: str) -> str:
        """An access token by the password grant."""
        r = self.http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def _created(self, path: str, body: dict[str, Any]) -> dict:
        r = self.call("POST", path, json=body)
        assert r.status_code == 201, f"POST {path} {body}: {r.status_code} {r.text}"
        return r.json()

    def org_unit(self, kind: str, parent: str, code_: str | None = None, name: str | None = None) -> dict:
        """``POST /api/v1/org-units``: ``{"code","name","kind","parent","path"}``."""
        c = code_ or code(kind[0].upper())
        return self._created(
            "/api/v1/org-units", {"code": c, "name": name or c, "kind": kind, "parent": parent}
        )

    def region(self, code_: str | None = None, name: str | None = None) -> dict:
        return self.org_unit("region", "HQ", code_, name)

    def store(self, region: str, code_: str | None = None, name: str | None = None) -> dict:
        return self.org_unit("store", region, code_, name)

    def region_and_store(self) -> tuple[dict, dict]:
        region = self.region()
        return region, self.store(region["code"])

    def user(
        self,
        role: str,
        org_unit: str,
        price_level: str | None = None,
        username: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        """``POST /api/v1/users``; log in as it with ``user.username``/``user.password``."""
        body = {
            "username": username or f"{role}_{uuid.uuid4().hex[:8]}",
            "password": password,
            "role": role,
            "org_unit": org_unit,
        }
        if price_level:
            body["price_level"] = price_level
        made = self._created("/api/v1/users", body)
        return User(made["username"], password, role, org_unit, price_level)

    def clerk(self, store: str) -> User:
        return self.user("clerk", store)

    def store_manager(self, store: str) -> User:
        return self.user("store_manager", store)

    def distributor(self, org_unit: str = "HQ", price_level: str = "A") -> User:
        return self.user("distributor", org_unit, price_level=price_level)

    def terminal(self, store: str, name: str | None = None) -> tuple[str, str]:
        """``POST /api/v1/terminals``: (client_id, client_secret) of a new store terminal."""
        made = self._created("/api/v1/terminals", {"store": store, "name": name or code("till-")})
        return made["client_id"], made["client_secret"]

    def member(self, home_store: str, **fields: Any) -> dict:
        """``POST /api/v1/members`` at ``home_store``; ``fields`` override a valid body."""
        body = {
            "name": "王小明",
            "phone": f"+86139{uuid.uuid4().int % 10**8:08d}",
            "home_store": home_store,
            **fields,
        }
        return self._created("/api/v1/members", body)

    def product(self, **fields: Any) -> dict:
        """``POST /api/v1/products``; ``fields`` override a valid body with price levels A and B."""
        body = {
            "sku": f"sku_{uuid.uuid4().hex[:10]}",
            "name": "茉莉花茶",
            "category": "tea",
            "retail_price": 9900,
            "price_levels": {"A": 6000, "B": 7000},
            **fields,
        }
        return self._created("/api/v1/products", body)
