"""Who may do what in the members service (defence in depth behind the gateway's table):
roles first, then scope with ``kit.auth.may_access``."""

from __future__ import annotations

from kit.auth import Principal
from kit.errors import Forbidden

STAFF = frozenset({"hq_admin", "region_manager", "store_manager", "clerk"})
COUNTER = STAFF | {"terminal"}
READERS = COUNTER | {"auditor", "service"}
WRITERS = COUNTER
MANAGERS = frozenset({"hq_admin", "region_manager", "store_manager"})
HQ = frozenset({"hq_admin"})
# Roles that see PII of members in their scope; everyone else gets masked values.
PII_ROLES = STAFF | {"service"}
# Identify and report loss work from any store of the chain (通存通兑).
CHAIN_WIDE = COUNTER | {"service"}


def require(p: Principal, roles: frozenset[str], what: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"role {p.role} may not {what}")


def sees_pii(p: Principal, home_store_path: str) -> bool:
    return p.role in PII_ROLES and p.may_access(home_store_path)
