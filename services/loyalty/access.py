"""Who may do what in loyalty (defence in depth behind the gateway's table)."""

from __future__ import annotations

from kit.auth import Principal
from kit.errors import Forbidden, OutOfScope

STAFF = frozenset({"hq_admin", "region_manager", "store_manager", "clerk"})
COUNTER = STAFF | {"terminal"}
CHECKOUT = COUNTER | {"service"}  # quote, reserve, confirm, cancel, refund
READERS = COUNTER | {"auditor", "service"}
HQ = frozenset({"hq_admin"})
ISSUERS = HQ | {"service"}


def require(p: Principal, roles: frozenset[str], what: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"role {p.role} may not {what}")


def check_member_read(p: Principal, home_store_path: str) -> None:
    """The card works across the chain: counter staff of any store may see a member's points
    and coupons at checkout; auditors only within their scope."""
    if p.role in COUNTER or p.role == "service":
        return
    if not p.may_access(home_store_path):
        raise OutOfScope("no such member in your scope")


def check_scope(p: Principal, org_path: str, what: str = "record") -> None:
    if not p.may_access(org_path):
        raise OutOfScope(f"no such {what} in your scope")
