"""The role is checked before the request is validated: the endpoints of the services' permission
matrix (test_permissions_services.py) sent an invalid body or query answer 401 and 403 where the
table says so, and 422 (never reaching a service) where it says ``ok``."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute

from tests.gateway.helpers import takes_input
from tests.gateway.test_permissions_services import (
    ROLES,
    ROUTERS,
    ROWS,
    Case,
    Request,
    World,
    _requests,
)
from tests.gateway.test_permissions_services import world as services_world

pytestmark = pytest.mark.integration
world = services_world  # the matrix's World (tokens per role, dummy ids), as a fixture here too

NOT_AN_OBJECT = ["not", "an", "object"]  # where every body expects a JSON object
# Endpoints that read the body themselves (no body parameter FastAPI could see).
READS_ITS_BODY = {("POST", "/wallet/batch-top-ups")}
# One invalid query per endpoint that takes query parameters, over its valid request's.
INVALID_QUERY: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/members"): {"birthday_month": 13},
    ("GET", "/members/{member_no}/visits"): {"limit": 0},
    ("GET", "/members/{member_no}/feedback"): {"limit": 0},
    ("GET", "/members/export.xlsx"): {"birthday_month": 0},
    ("GET", "/cards/{card_no}/transactions"): {"limit": 501},
    ("GET", "/wallet/adjustments"): {"status": "withdrawn"},
    ("GET", "/wallet/settlement"): {"from": "last week"},
    ("GET", "/wallet/settlement.xlsx"): {"to": "tomorrow"},
    ("GET", "/wallet/liability"): {"org_unit": "U" * 301},
    ("GET", "/risk/alerts"): {"status": "closed"},
    ("GET", "/members/{member_no}/points/history"): {"limit": 0},
    ("GET", "/members/{member_no}/coupons"): {"status": "lost"},
    ("GET", "/members/{member_no}/purchases"): {"limit": 0},
    ("GET", "/loyalty/rewards"): {"active_only": "maybe"},
    ("GET", "/analytics/rfm"): {"limit": 0},
    ("GET", "/analytics/quadrants"): {"quadrant": "whale"},
    ("GET", "/analytics/lifecycle"): {"stage": "reborn"},
    ("GET", "/reports/sales"): {"group_by": "week"},
    ("GET", "/reports/sales.xlsx"): {"from": "2026-13-01"},
    ("GET", "/reports/daily-summary"): {"date": "2026-11-23T00"},
    ("GET", "/reports/daily-summary.xlsx"): {"org_unit": "U" * 301},
    ("GET", "/reports/top-ups"): {"from": "yesterday"},
    ("GET", "/reports/top-ups.xlsx"): {"to": "2026-02-30"},
    ("GET", "/reports/points-liability"): {"group_by": "day"},
    ("GET", "/reports/points-liability.xlsx"): {"org_unit": "U" * 301},
    ("GET", "/notifications"): {"limit": 0},
    ("GET", "/notify/templates"): {"locale": "x" * 17},
    ("GET", "/notify/templates/{event}/{channel}"): {"locale": "x" * 17},
    ("GET", "/follow-ups"): {"due_before": "soon"},
    ("GET", "/announcements"): {"limit": 201},
}


def _routes() -> dict[tuple[str, str], APIRoute]:
    return {
        (method, route.path.removeprefix("/api/v1")): route
        for module in ROUTERS
        for route in module.router.routes
        for method in route.methods
    }


def _invalid(w: World, method: str, path: str) -> Request:
    """The endpoint's valid request made invalid: a body that is not an object, or one bad
    query parameter."""
    concrete, kw = _requests(w)[(method, path)]()
    if (method, path) in INVALID_QUERY:
        return concrete, {"params": {**kw.get("params", {}), **INVALID_QUERY[(method, path)]}}
    return concrete, {"json": NOT_AN_OBJECT}


INVALID_ENDPOINTS = sorted(
    {key for key, route in _routes().items() if route.body_field is not None}
    | READS_ITS_BODY
    | set(INVALID_QUERY)
)
INVALID_CASES = [
    Case(r.method, r.path, role, "422" if cell == "ok" else cell)
    for r in ROWS
    if (r.method, r.path) in INVALID_ENDPOINTS
    for role, cell in r.cells.items()
]


def test_every_endpoint_that_takes_input_has_an_invalid_request():
    taking = {key for key, route in _routes().items() if takes_input(route)}
    assert taking | READS_ITS_BODY == set(INVALID_ENDPOINTS)
    assert {key for key, route in _routes().items() if route.body_field is None} >= READS_ITS_BODY
    assert len(INVALID_CASES) == len(INVALID_ENDPOINTS) * len(ROLES)


@pytest.mark.parametrize("case", INVALID_CASES, ids=[c.id for c in INVALID_CASES])
async def test_role_is_checked_before_the_request_is_validated(gateway, world, case):
    path, kw = _invalid(world, case.method, case.path)
    kw["headers"] = {"Idempotency-Key": uuid.uuid4().hex}
    r = await gateway.call(case.method, f"/api/v1{path}", world.tokens[case.role], **kw)
    got = f"{case.id}: got {r.status_code}: {r.text[:300]}"
    assert r.status_code == int(case.expected), got
    assert r.headers["content-type"].startswith("application/problem+json"), got
    codes = {"401": "unauthenticated", "403": "forbidden", "422": "invalid_argument"}
    assert r.json()["code"] == codes[case.expected], got
