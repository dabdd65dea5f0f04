"""Helpers of the gateway tests: random ids (tests share one database), problem checks, and
what a route takes as input."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

PASSWORD = "s3cret-pass"
PROBLEM = "application/problem+json"


def rand_code(prefix: str = "T") -> str:
    """A fresh org unit code, valid per [A-Z0-9_-]{2,32}."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def rand_name(prefix: str = "u") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def rand_letters(n: int = 12) -> str:
    """Letters only: ids that can never contain a price's digits."""
    return "".join(random.choices(string.ascii_uppercase, k=n))


def assert_problem(
    r: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with that status (and code, and a field error)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in body, f"problem lacks {key!r}: {body}"
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert any(e["field"] == field for e in body.get("errors", [])), body
    return body


def _dependants(dependant: Dependant) -> list[Dependant]:
    return [dependant, *(d for sub in dependant.dependencies for d in _dependants(sub))]


def takes_input(route: APIRoute) -> bool:
    """The route validates a body or query parameters (its own or its dependencies')."""
    return route.body_field is not None or any(d.query_params for d in _dependants(route.dependant))


def depends_on(route: APIRoute, call: object) -> bool:
    """``call`` is among the route's dependencies, at any depth."""
    return any(d.call is call for d in _dependants(route.dependant))
