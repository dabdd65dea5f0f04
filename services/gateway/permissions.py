"""Who may do what — the one permission table of the gateway.

Roles grant actions; scope (``kit.auth.may_access``) then limits the records. A role never
grants more than its scope. Tested as a matrix in tests/gateway/test_permissions.py.
"""

from __future__ import annotations

from kit.auth import Principal
from kit.errors import Forbidden

ANYONE = "*"  # any authenticated principal
STAFF = frozenset({"hq_admin", "region_manager", "store_manager", "clerk"})
MANAGERS = frozenset({"hq_admin", "region_manager", "store_manager"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "me.read": frozenset({ANYONE}),
    "org.read": STAFF | {"auditor", "terminal"},
    "org.write": frozenset({"hq_admin", "region_manager"}),
    "users.read": MANAGERS | {"auditor"},
    "users.write": MANAGERS,
    "terminals.read": MANAGERS | {"auditor"},
    "terminals.write": MANAGERS,
    "products.read": frozenset({ANYONE}),
    "products.read_all_prices": frozenset({"hq_admin", "auditor"}),
    "products.write": frozenset({"hq_admin"}),
    "audit.read": frozenset({"hq_admin", "auditor"}),
}


def allowed(principal: Principal, action: str) -> bool:
    roles = PERMISSIONS[action]
    return ANYONE in roles or principal.role in roles


def require(principal: Principal, action: str) -> None:
    if not allowed(principal, action):
        raise Forbidden(f"role {principal.role} may not {action.replace('.', ' ').replace('_', ' ')}")
