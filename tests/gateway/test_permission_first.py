"""The caller's role is checked before its request is read or validated (docs/api.md "Conventions":
no token -> 401, token but not allowed -> 403, then validation -> 422).

Every route that needs a token declares its permission as its first dependency
(``deps.permitted``), which FastAPI solves before it reports the query's or the body's errors.
A body FastAPI cannot even read (JSON that does not parse, a form that does not parse) is
refused before dependencies are solved; the gateway then runs the route's token and role
checks itself, so 401 and 403 still come first and only an allowed caller gets the 400.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from typing import get_args

import pytest
from fastapi.params import Form
from fastapi.routing import APIRoute

from services.gateway import deps, permissions, routes
from services.gateway.permissions import ANYONE, PERMISSIONS
from tests.gateway.helpers import assert_problem, depends_on

pytestmark = pytest.mark.integration

ROUTE_MODULES = [
    importlib.import_module(f"services.gateway.routes.{m.name}")
    for m in pkgutil.iter_modules(routes.__path__)
]
ROUTES = [r for module in ROUTE_MODULES for r in module.router.routes if isinstance(r, APIRoute)]
PRINCIPAL = get_args(deps.CurrentPrincipal)[1].dependency
IDEMPOTENCY_KEY = get_args(deps.IdempotencyKey)[1].dependency


def _id(route: APIRoute) -> str:
    return f"{','.join(sorted(route.methods))} {route.path}"


def _gate(route: APIRoute) -> str | None:
    """The action the route's first dependency checks, None when it is not a ``permitted`` gate."""
    first = route.dependant.dependencies[0] if route.dependant.dependencies else None
    return deps.gate_action(first.call) if first is not None else None


def _may(role: str, action: str) -> bool:
    return ANYONE in PERMISSIONS[action] or role in PERMISSIONS[action]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "X1", path)


GATED = [r for r in ROUTES if depends_on(r, PRINCIPAL)]
JSON_BODY = [r for r in GATED if r.body_field is not None and not isinstance(r.body_field.field_info, Form)]
KEYED = [r for r in GATED if depends_on(r, IDEMPOTENCY_KEY)]


# --- the routes, read as data --------------------------------------------------------------------


def test_every_route_that_needs_a_token_checks_the_role_first():
    assert len(GATED) > 80, "the route modules were not all found"
    ungated = [_id(r) for r in GATED if _gate(r) is None]
    assert ungated == [], f"routes whose first dependency is not deps.permitted(...): {ungated}"


def test_the_routes_without_a_token_are_the_public_ones():
    public = sorted(_id(r) for r in ROUTES if r not in GATED)
    assert public == [
        "GET /.well-known/jwks.json",
        "GET /api/v1/catalog",
        "GET /api/v1/products/{sku}",
        "GET /docs",
        "GET /docs/oauth2-redirect",
        "GET /healthz",
        "GET /metrics",
        "GET /readyz",
        "POST /api/v1/auth/token",
    ]


def test_a_gate_names_an_action_of_the_permission_table():
    with pytest.raises(KeyError):
        deps.permitted("wallet.print_money")
    assert deps.permitted("wallet.adjust") is deps.permitted("wallet.adjust")  # one gate per action
    assert deps.gate_action(deps.permitted("wallet.adjust")) == "wallet.adjust"
    assert deps.gate_action(permissions.require) is None


# --- a body that is not JSON at all --------------------------------------------------------------
@pytest.fixture(scope="module")
async def distributor(gateway) -> str:
    """A distributor's token: the role the fewest routes allow."""
    region = await gateway.unit("region", "HQ")
    _, token = await gateway.user("distributor", region["code"], "A")
    return token


def test_the_json_body_routes_are_found():
    assert len(JSON_BODY) > 30, [_id(r) for r in JSON_BODY]
    assert all(_gate(r) for r in JSON_BODY)


@pytest.mark.parametrize("route", JSON_BODY, ids=[_id(r) for r in JSON_BODY])
async def test_malformed_json_is_refused_after_the_token_and_the_role(gateway, distributor, route):
    (method,) = route.methods
    path, action = _concrete(route.path), _gate(route)
    assert action is not None
    malformed = {"content": b'{"amount": 1', "headers": {"Content-Type": "application/json"}}
    kw = lambda: {**malformed, "headers": {**malformed["headers"], "Idempotency-Key": uuid.uuid4().hex}}  # noqa: E731

    assert_problem(await gateway.call(method, path, None, **kw()), 401, "unauthenticated")
    assert_problem(await gateway.call(method, path, "not.a.token", **kw()), 401, "unauthenticated")
    r = await gateway.call(method, path, distributor, **kw())
    if _may("distributor", action):
        assert_problem(r, 400, "invalid_argument")
    else:
        assert_problem(r, 403, "forbidden")
    body = assert_problem(await gateway.call(method, path, gateway.admin, **kw()), 400, "invalid_argument")
    assert body["title"] == "Malformed JSON", body


async def test_a_form_that_does_not_parse_is_refused_after_the_role(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, clerk = await gateway.user("clerk", store["code"])
    _, manager = await gateway.user("store_manager", store["code"])
    # multipart without a boundary: the form cannot be read at all
    kw = {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data"}}
    assert_problem(await gateway.call("POST", "/api/v1/members/imports", None, **kw), 401, "unauthenticated")
    assert_problem(await gateway.call("POST", "/api/v1/members/imports", clerk, **kw), 403, "forbidden")
    assert_problem(
        await gateway.call("POST", "/api/v1/members/imports", manager, **kw), 400, "invalid_argument"
    )


async def test_a_body_that_is_not_json_at_all_gets_403_then_422(gateway, distributor):
    # Not sent as JSON: FastAPI reads it as bytes and reports it with the validation errors,
    # after the role was checked.
    kw = {"content": b"amount=1000", "headers": {"Content-Type": "text/plain", "Idempotency-Key": "k-1"}}
    r = await gateway.call("POST", "/api/v1/cards/C1/top-ups", distributor, **kw)
    assert_problem(r, 403, "forbidden")
    r = await gateway.call("POST", "/api/v1/cards/C1/top-ups", gateway.admin, **kw)
    assert_problem(r, 422, "invalid_argument")


# --- Idempotency-Key ------------------------------------------------------------------------------
def test_the_keyed_routes_are_found():
    assert len(KEYED) >= 8, [_id(r) for r in KEYED]


@pytest.mark.parametrize("route", KEYED, ids=[_id(r) for r in KEYED])
async def test_a_missing_idempotency_key_is_reported_after_the_role(gateway, distributor, route):
    (method,) = route.methods
    path = _concrete(route.path)
    action = _gate(route)
    assert action is not None and not _may("distributor", action)
    assert_problem(await gateway.call(method, path, distributor, json={}), 403, "forbidden")
    assert_problem(await gateway.call(method, path, gateway.admin, json={}), 400, "idempotency_key_required")
