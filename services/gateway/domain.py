"""Pure rules of the gateway: org codes and kinds, the role ladder, who may create whom,
and which price a caller is entitled to. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.auth import may_access

ORG_CODE = re.compile(r"^[A-Z0-9_-]{2,32}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
PRICE_LEVEL = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
SKU = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ROOT = "HQ"
MIN_PASSWORD = 8

# The staff ladder: a caller may create or manage staff of its own rank or below.
LADDER = {"hq_admin": 4, "region_manager": 3, "store_manager": 2, "clerk": 1}
USER_ROLES = (*LADDER, "distributor", "auditor")

# Which org unit kinds each user role may sit on.
ROLE_KINDS = {
    "hq_admin": {"hq"},
    "region_manager": {"region"},
    "store_manager": {"store"},
    "clerk": {"store"},
    "auditor": {"hq", "region"},
    "distributor": {"hq", "region", "store"},
}

# Roles outside the ladder and who may create them.
OFF_LADDER_CREATORS = {"auditor": {"hq_admin"}, "distributor": {"hq_admin", "region_manager"}}


class RuleBroken(ValueError):
    """A request that breaks a rule of the org tree or the role ladder."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def child_path(parent_path: str, code: str) -> str:
    return f"{parent_path}/{code}"


def check_new_unit(code: str, kind: str, parent_kind: str) -> None:
    if not ORG_CODE.match(code):
        raise RuleBroken("code", "code must match [A-Z0-9_-]{2,32}")
    if kind not in ("region", "store"):
        raise RuleBroken("kind", "kind must be 'region' or 'store'")
    if parent_kind == "store":
        raise RuleBroken("parent", "a store cannot have units below it")


def may_create_role(caller_role: str, role: str) -> bool:
    if role in OFF_LADDER_CREATORS:
        return caller_role in OFF_LADDER_CREATORS[role]
    if role not in LADDER or caller_role not in LADDER:
        return False
    return LADDER[role] <= LADDER[caller_role]


def may_manage(caller_role: str, target_role: str) -> bool:
    """Disable or reset the password of a user: never one ranked above the caller."""
    if caller_role == "hq_admin":
        return True
    if target_role in OFF_LADDER_CREATORS:
        return caller_role in OFF_LADDER_CREATORS[target_role]
    return target_role in LADDER and caller_role in LADDER and LADDER[target_role] <= LADDER[caller_role]


def check_new_user(username: str, password: str, role: str, unit_kind: str, price_level: str | None) -> None:
    if not USERNAME.match(username):
        raise RuleBroken("username", "username must be 3-64 of letters, digits and _ . @ -")
    check_password(password)
    if role not in USER_ROLES:
        raise RuleBroken("role", f"role must be one of {', '.join(USER_ROLES)}")
    if unit_kind not in ROLE_KINDS[role]:
        raise RuleBroken(
            "org_unit", f"a {role} belongs on a unit of kind {' or '.join(sorted(ROLE_KINDS[role]))}"
        )
    if role == "distributor":
        if not price_level:
            raise RuleBroken("price_level", "a distributor needs a price_level")
        if not PRICE_LEVEL.match(price_level):
            raise RuleBroken(
                "price_level", "price_level must be an upper-case letter then up to 7 letters/digits"
            )
    elif price_level:
        raise RuleBroken("price_level", "only distributors have a price_level")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RuleBroken("password", f"password must have at least {MIN_PASSWORD} characters")


@dataclass(frozen=True)
class Price:
    price: int
    kind: str


def entitled_price(
    *,
    role: str | None,
    scope: str | None,
    price_level: str | None,
    retail: int,
    levels: dict[str, int],
    region_prices: dict[str, int],
) -> Price:
    """The one price a caller sees for a product.

    A distributor sees its own level's wholesale price (falling back to retail when the
    product has none for that level); nobody ever gets another level's price. Staff and
    terminals see retail, overridden by the most specific region price on their path.
    Anonymous callers see the chain-wide retail price.
    """
    if role == "distributor" and price_level:
        if price_level in levels:
            return Price(levels[price_level], f"wholesale_{price_level}")
        return Price(retail, "retail")
    if scope:
        best: tuple[int, int] | None = None
        for path, price in region_prices.items():
            if may_access(path, scope) and (best is None or len(path) > best[0]):
                best = (len(path), price)
        if best is not None:
            return Price(best[1], "retail")
    return Price(retail, "retail")
