"""Who may do what in the wallet (defence in depth behind the gateway's table)."""

from __future__ import annotations

from kit.auth import Principal
from kit.errors import Forbidden

STAFF = frozenset({"hq_admin", "region_manager", "store_manager", "clerk"})
COUNTER = STAFF | {"terminal"}
MOVERS = COUNTER | {"service"}  # top-up, pay, refund
READERS = COUNTER | {"auditor", "service"}
MANAGERS = frozenset({"hq_admin", "region_manager", "store_manager"})
RULE_MAKERS = MANAGERS
HQ = frozenset({"hq_admin"})
RISK_READERS = MANAGERS | {"auditor"}
RISK_HANDLERS = MANAGERS
CARD_TELLERS = frozenset({"service", "hq_admin"})  # any card state to wallet's copy (staff: blocks)


def require(p: Principal, roles: frozenset[str], what: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"role {p.role} may not {what}")
