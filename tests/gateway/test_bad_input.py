"""Bad input always gets a 4xx problem and changes nothing; a 500 is a bug (docs/design.md §5 Errors).

Strings the database cannot store (a NUL character) and values it cannot hold must be
refused as invalid, on every surface: path, query and body, with and without a token.
"""

import base64
import json

import pytest

from tests.gateway.helpers import PASSWORD, rand_code, rand_letters

pytestmark = pytest.mark.integration

NUL = "\u0000"


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


CASES = [
    # (id, method, path, as admin?, request kwargs)
    ("product-sku-path-anonymous", "GET", "/api/v1/products/A%00B", False, {}),
    ("catalog-category-anonymous", "GET", "/api/v1/catalog", False, {"params": {"category": f"a{NUL}b"}}),
    ("org-unit-code-path", "GET", "/api/v1/org-units/A%00B", True, {}),
    ("user-path", "GET", "/api/v1/users/a%00b", True, {}),
    ("users-role-filter", "GET", "/api/v1/users", True, {"params": {"role": f"a{NUL}b"}}),
    ("audit-actor-filter", "GET", "/api/v1/audit-log", True, {"params": {"actor": f"a{NUL}b"}}),
    ("org-cursor", "GET", "/api/v1/org-units", True, {"params": {"cursor": _cursor(f"a{NUL}")}}),
    (
        "org-unit-name-body",
        "POST",
        "/api/v1/org-units",
        True,
        {"json": {"code": rand_code("NUL"), "name": f"a{NUL}b", "kind": "region", "parent": "HQ"}},
    ),
    (
        "org-unit-parent-body",
        "POST",
        "/api/v1/org-units",
        True,
        {"json": {"code": rand_code("NUL"), "name": "n", "kind": "region", "parent": f"H{NUL}Q"}},
    ),
    (
        "user-org-unit-body",
        "POST",
        "/api/v1/users",
        True,
        {"json": {"username": "nul_user", "password": PASSWORD, "role": "clerk", "org_unit": f"S{NUL}1"}},
    ),
    (
        "product-name-body",
        "POST",
        "/api/v1/products",
        True,
        {"json": {"sku": rand_letters(), "name": f"Tea{NUL}", "retail_price": 100}},
    ),
    (
        "login-username",
        "POST",
        "/api/v1/auth/token",
        False,
        {"data": {"grant_type": "password", "username": f"ad{NUL}min", "password": "x"}},
    ),
    (
        "product-price-too-big",
        "POST",
        "/api/v1/products",
        True,
        {"json": {"sku": rand_letters(), "name": "T", "retail_price": 2**70}},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "as_admin", "kw"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_is_a_4xx_problem_never_a_500(gateway, method, path, as_admin, kw):
    r = await gateway.call(method, path, gateway.admin if as_admin else None, **kw)
    assert 400 <= r.status_code < 500, f"expected a 4xx, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ("invalid_argument", "not_found", "invalid_credentials")
    assert r.headers.get("X-Request-Id")
