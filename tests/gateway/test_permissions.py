"""THE permission matrix (docs/design.md §5): every role × every endpoint × in / out of scope.

The world: HQ -> R1 -> S1 and HQ -> R2 -> S2. Every principal sits on R1 or S1 (the HQ admin
on HQ); "in" targets live in R1/S1, "out" targets in R2/S2. Expected statuses are derived
from docs/api.md ("No token → 401; token but not allowed → 403; a record outside the caller's
scope → 404") and services/gateway/permissions.py:

- no token -> 401, except the public GET /catalog and GET /products/{sku};
- role not allowed -> 403 (whatever the target);
- allowed, but the record is out of scope -> 404 for reads and patches of one record,
  422 for creates whose parent / org_unit / store is out of scope;
- allowed and in scope -> 2xx. HQ's scope is everything, so "out" is in scope for it.

Every request body is valid, so only permission and scope decide.

The role is checked before the request is validated: an invalid body or query (INVALID) gets
401 without a token and 403 from a role that may not use the endpoint, whatever it holds;
only the roles that may use it learn that it is invalid (422).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from kit.auth import may_access
from services.gateway.routes import audit, auth, catalog, org, users
from tests.gateway.helpers import PASSWORD, rand_code, rand_letters, rand_name, takes_input

pytestmark = pytest.mark.integration

ROLES = (
    "hq_admin",
    "region_manager",
    "store_manager",
    "clerk",
    "terminal",
    "distributor",
    "auditor",
    "anonymous",
)

# One row per endpoint, one column per role. A cell "in/out" gives the status for an
# in-scope and an out-of-scope target; a single status holds for both. Rows marked
# scoped have targets; the others have none ("-").
MATRIX = """
endpoint                     scoped  hq_admin  region_manager  store_manager  clerk    terminal  distributor  auditor  anonymous
GET   /me                    no      200       200             200            200      200       200          200      401
GET   /org-units             no      200       200             200            200      200       403          200      401
POST  /org-units             yes     201       201/422         403            403      403       403          403      401
GET   /org-units/{code}      yes     200       200/404         200/404        200/404  200/404   403          200/404  401
PATCH /org-units/{code}      yes     200       200/404         403            403      403       403          403      401
GET   /users                 no      200       200             200            403      403       403          200      401
POST  /users                 yes     201       201/422         201/422        403      403       403          403      401
GET   /users/{username}      yes     200       200/404         200/404        403      403       403          200/404  401
PATCH /users/{username}      yes     200       200/404         200/404        403      403       403          403      401
GET   /terminals             no      200       200             200            403      403       403          200      401
POST  /terminals             yes     201       201/422         201/422        403      403       403          403      401
PATCH /terminals/{client_id} yes     200       200/404         200/404        403      403       403          403      401
POST  /terminals/{client_id}/rotate-secret yes 200 200/404    200/404        403      403       403          403      401
GET   /products              no      200       403             403            403      403       403          403      401
POST  /products              no      201       403             403            403      403       403          403      401
GET   /products/{sku}        no      200       200             200            200      200       200          200      200
PATCH /products/{sku}        no      200       403             403            403      403       403          403      401
GET   /catalog               no      200       200             200            200      200       200          200      200
GET   /audit-log             no      200       403             403            403      403       403          200      401
GET   /audit-log/export.csv  no      200       403             403            403      403       403          200      401
"""


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    role: str
    scope: str  # "in", "out" or "-"
    expected: int

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} | {self.role} | {self.scope} -> {self.expected}"


def _cases() -> list[Case]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[2:]) == ROLES, header
    cases = []
    for method, path, scoped, *cells in rows:
        assert len(cells) == len(ROLES), (method, path)
        for role, cell in zip(ROLES, cells, strict=True):
            statuses = [int(s) for s in cell.split("/")]
            if scoped == "yes":
                inside, outside = statuses if len(statuses) == 2 else statuses * 2
                cases += [Case(method, path, role, "in", inside), Case(method, path, role, "out", outside)]
            else:
                assert len(statuses) == 1, (method, path, role)
                cases.append(Case(method, path, role, "-", statuses[0]))
    return cases


CASES = _cases()


# --- the world ---------------------------------------------------------------------------------
@dataclass
class World:
    r1: dict
    s1: dict
    r2: dict
    s2: dict
    tokens: dict[str, str | None] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # "in"/"out" -> a clerk's username
    terminals: dict[str, str] = field(default_factory=dict)  # "in"/"out" -> client_id
    rotated: dict[str, str] = field(default_factory=dict)  # "in"/"out" -> a terminal to rotate
    sku: str = ""

    def store(self, scope: str) -> dict:
        return self.s1 if scope == "in" else self.s2

    def region(self, scope: str) -> dict:
        return self.r1 if scope == "in" else self.r2


@pytest.fixture(scope="module")
async def world(gateway) -> World:
    r1 = await gateway.unit("region", "HQ")
    r2 = await gateway.unit("region", "HQ")
    w = World(r1, await gateway.unit("store", r1["code"]), r2, await gateway.unit("store", r2["code"]))
    w.tokens["hq_admin"], w.scopes["hq_admin"] = gateway.admin, "HQ"
    on = {
        "region_manager": w.r1,
        "store_manager": w.s1,
        "clerk": w.s1,
        "distributor": w.r1,
        "auditor": w.r1,
    }
    for role, unit in on.items():
        _, w.tokens[role] = await gateway.user(role, unit["code"], "A" if role == "distributor" else None)
        w.scopes[role] = unit["path"]
    w.tokens["terminal"] = await gateway.terminal_token(*await gateway.terminal(w.s1["code"]))
    w.scopes["terminal"] = w.s1["path"]
    w.tokens["anonymous"] = None
    for scope in ("in", "out"):
        username = rand_name("target")
        r = await gateway.call(
            "POST",
            "/api/v1/users",
            gateway.admin,
            json={
                "username": username,
                "password": PASSWORD,
                "role": "clerk",
                "org_unit": w.store(scope)["code"],
            },
        )
        assert r.status_code == 201, r.text
        w.users[scope] = username
        w.terminals[scope], _ = await gateway.terminal(w.store(scope)["code"])
        w.rotated[scope], _ = await gateway.terminal(w.store(scope)["code"])
    w.sku = (await gateway.product(sku=rand_letters(), price_levels={"A": 500}))["sku"]
    return w


# --- one valid request per endpoint ------------------------------------------------------------
Request = tuple[str, dict]  # concrete path, httpx kwargs


def _request(case: Case, w: World) -> Request:
    scope = case.scope
    build: dict[tuple[str, str], Callable[[], Request]] = {
        ("GET", "/me"): lambda: ("/api/v1/me", {}),
        ("GET", "/org-units"): lambda: ("/api/v1/org-units", {"params": {"limit": 500}}),
        ("POST", "/org-units"): lambda: (
            "/api/v1/org-units",
            {
                "json": {
                    "code": rand_code("P"),
                    "name": "New",
                    "kind": "store",
                    "parent": w.region(scope)["code"],
                }
            },
        ),
        ("GET", "/org-units/{code}"): lambda: (f"/api/v1/org-units/{w.store(scope)['code']}", {}),
        ("PATCH", "/org-units/{code}"): lambda: (
            f"/api/v1/org-units/{w.store(scope)['code']}",
            {"json": {"name": f"Store {rand_letters(4)}"}},
        ),
        ("GET", "/users"): lambda: ("/api/v1/users", {"params": {"limit": 500}}),
        ("POST", "/users"): lambda: (
            "/api/v1/users",
            {
                "json": {
                    "username": rand_name("new"),
                    "password": PASSWORD,
                    "role": "clerk",
                    "org_unit": w.store(scope)["code"],
                }
            },
        ),
        ("GET", "/users/{username}"): lambda: (f"/api/v1/users/{w.users[scope]}", {}),
        ("PATCH", "/users/{username}"): lambda: (
            f"/api/v1/users/{w.users[scope]}",
            {"json": {"active": True}},
        ),
        ("GET", "/terminals"): lambda: ("/api/v1/terminals", {"params": {"limit": 500}}),
        ("POST", "/terminals"): lambda: (
            "/api/v1/terminals",
            {"json": {"store": w.store(scope)["code"], "name": "Till"}},
        ),
        ("PATCH", "/terminals/{client_id}"): lambda: (
            f"/api/v1/terminals/{w.terminals[scope]}",
            {"json": {"name": f"Till {rand_letters(4)}"}},
        ),
        ("POST", "/terminals/{client_id}/rotate-secret"): lambda: (
            f"/api/v1/terminals/{w.rotated[scope]}/rotate-secret",
            {},
        ),
        ("GET", "/products"): lambda: ("/api/v1/products", {}),
        ("POST", "/products"): lambda: (
            "/api/v1/products",
            {"json": {"sku": rand_letters(), "name": "Tea", "retail_price": 100}},
        ),
        ("GET", "/products/{sku}"): lambda: (f"/api/v1/products/{w.sku}", {}),
        ("PATCH", "/products/{sku}"): lambda: (f"/api/v1/products/{w.sku}", {"json": {"name": "Tea"}}),
        ("GET", "/catalog"): lambda: ("/api/v1/catalog", {}),
        ("GET", "/audit-log"): lambda: ("/api/v1/audit-log", {"params": {"limit": 500}}),
        ("GET", "/audit-log/export.csv"): lambda: ("/api/v1/audit-log/export.csv", {}),
    }
    return build[(case.method, case.path)]()


# What a successful list may contain: nothing outside the caller's scope.
def _listed_paths(case: Case, body: dict | str, w: World) -> list[str]:
    if case.path == "/org-units":
        return [u["path"] for u in body["items"]]
    if case.path == "/users":
        return [u["scope"] for u in body["items"]]
    if case.path == "/audit-log":
        return [e["org_path"] for e in body["items"]]
    if case.path == "/audit-log/export.csv":
        rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
        return [row["org_path"] for row in rows]
    if case.path == "/terminals":
        stores = {w.s1["code"]: w.s1["path"], w.s2["code"]: w.s2["path"]}
        return [stores[t["store"]] for t in body["items"] if t["store"] in stores]
    return []


def test_matrix_covers_every_role_for_every_endpoint():
    endpoints = {(c.method, c.path) for c in CASES}
    for method, path in endpoints:
        roles = {c.role for c in CASES if (c.method, c.path) == (method, path)}
        assert roles == set(ROLES), (method, path)


def test_matrix_has_a_row_for_every_route_of_these_routers():
    # A new endpoint in these routers needs its row in the matrix before it lands.
    routes = {
        (method, route.path.removeprefix("/api/v1"))
        for module in (auth, org, users, catalog, audit)
        for route in module.router.routes
        for method in route.methods
    }
    routes.discard(("POST", "/auth/token"))  # public by nature; tested in test_auth.py
    assert routes == {(c.method, c.path) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_permission(gateway, world, case):
    path, kw = _request(case, world)
    r = await gateway.call(case.method, path, world.tokens[case.role], **kw)
    assert r.status_code == case.expected, f"{case.id}: got {r.status_code}: {r.text}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        expected_code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 422: "invalid_argument"}
        assert r.json()["code"] == expected_code[r.status_code], r.text
        return
    if case.method == "GET" and case.role not in ("hq_admin", "anonymous"):
        scope = world.scopes[case.role]
        is_json = r.headers["content-type"].startswith("application/json")
        paths = _listed_paths(case, r.json() if is_json else r.text, world)
        if case.path in ("/org-units", "/users", "/terminals", "/audit-log"):
            assert paths, f"{case.id}: the list shows nothing of the caller's own scope"
        outside = [p for p in paths if not may_access(scope, p)]
        assert outside == [], f"{case.role} ({scope}) was shown records outside its scope: {outside}"


# --- invalid input: the role is checked first --------------------------------------------------
# One invalid request per endpoint that takes a body or query parameters (no scope needed:
# it is refused before any record is looked up).
INVALID: dict[tuple[str, str], Request] = {
    ("GET", "/org-units"): ("/api/v1/org-units", {"params": {"kind": "planet"}}),
    ("POST", "/org-units"): ("/api/v1/org-units", {"json": {}}),
    ("PATCH", "/org-units/{code}"): ("/api/v1/org-units/S1", {"json": {"active": "maybe"}}),
    ("GET", "/users"): ("/api/v1/users", {"params": {"cursor": "%%not-a-cursor%%"}}),
    ("POST", "/users"): ("/api/v1/users", {"json": {"username": 5}}),
    ("PATCH", "/users/{username}"): ("/api/v1/users/someone", {"json": {"active": "maybe"}}),
    ("GET", "/terminals"): ("/api/v1/terminals", {"params": {"limit": 0}}),
    ("POST", "/terminals"): ("/api/v1/terminals", {"json": {}}),
    ("PATCH", "/terminals/{client_id}"): ("/api/v1/terminals/t-1", {"json": {"name": ""}}),
    ("GET", "/products"): ("/api/v1/products", {"params": {"limit": 501}}),
    ("POST", "/products"): (
        "/api/v1/products",
        {"json": {"sku": "X", "name": "Tea", "retail_price": "cheap"}},
    ),
    ("PATCH", "/products/{sku}"): ("/api/v1/products/X", {"json": ["not", "an", "object"]}),
    ("GET", "/catalog"): ("/api/v1/catalog", {"params": {"category": "c" * 101}}),
    ("GET", "/audit-log"): ("/api/v1/audit-log", {"params": {"since": "yesterday"}}),
    ("GET", "/audit-log/export.csv"): ("/api/v1/audit-log/export.csv", {"params": {"since": "yesterday"}}),
}


def _invalid_expected(method: str, path: str, role: str) -> int:
    """401 and 403 as for a valid request (its in-scope cell); any other answer becomes 422."""
    cell = next(c for c in CASES if (c.method, c.path, c.role) == (method, path, role) and c.scope != "out")
    return cell.expected if cell.expected in (401, 403) else 422


INVALID_CASES = [
    Case(method, path, role, "invalid", _invalid_expected(method, path, role))
    for method, path in INVALID
    for role in ROLES
]


def test_every_endpoint_that_takes_input_has_an_invalid_request():
    routes = [
        (method, route)
        for module in (auth, org, users, catalog, audit)
        for route in module.router.routes
        for method in route.methods
    ]
    taking = {(m, r.path.removeprefix("/api/v1")) for m, r in routes if takes_input(r)}
    taking.discard(("POST", "/auth/token"))  # public, form-encoded; tested in test_auth.py
    assert taking == set(INVALID)


def test_invalid_requests_forbid_and_allow_someone():
    # Each endpoint's invalid request is seen both as 403 (or 401) and as 422, or it proves nothing.
    for method, path in INVALID:
        statuses = {c.expected for c in INVALID_CASES if (c.method, c.path) == (method, path)}
        assert 422 in statuses, (method, path, statuses)


@pytest.mark.parametrize("case", INVALID_CASES, ids=[c.id for c in INVALID_CASES])
async def test_role_is_checked_before_the_request_is_validated(gateway, world, case):
    path, kw = INVALID[(case.method, case.path)]
    r = await gateway.call(case.method, path, world.tokens[case.role], **kw)
    assert r.status_code == case.expected, f"{case.id}: got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json")
    expected_code = {401: "unauthenticated", 403: "forbidden", 422: "invalid_argument"}
    assert r.json()["code"] == expected_code[case.expected], r.text
