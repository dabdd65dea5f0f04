"""The organisation console's pure parts (no I/O): the org tree with each node's staff and
store counts, the parent choices indented by depth, and the product form's region price rows
(typed in yuan, one row per region or store) read into the REST body's ``region_prices``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway import schemas
from services.gateway.web.core import N_
from services.gateway.web.i18n import parse_yuan

EMPTY_ROWS = 1  # blank region price rows a new product form offers
INDENT = "\u3000"  # an ideographic space per level of the tree in a <select>


def within(path: str, top: str) -> bool:
    """``path`` is ``top`` or lies below it (materialized paths: ``HQ/EAST/S1``)."""
    return path == top or path.startswith(top + "/")


@dataclass
class Node:
    unit: schemas.OrgUnit
    depth: int
    children: list[Node] = field(default_factory=list)
    staff: int = 0  # accounts in the subtree, distributors not counted
    distributors: int = 0
    stores: int = 0  # stores in the subtree (a store counts itself)


def org_tree(units: list[schemas.OrgUnit], people: list[schemas.User]) -> list[Node]:
    """The caller's units as trees (HQ, or a manager's own unit, at the top), children by
    code, with counts over each subtree: the console shows them nested and collapsible."""
    by_code = {u.code: Node(u, 0) for u in units}
    roots: list[Node] = []
    for node in sorted(by_code.values(), key=lambda n: n.unit.path):
        parent = by_code.get(node.unit.parent or "")
        if parent is None:
            roots.append(node)
        else:
            node.depth = parent.depth + 1
            parent.children.append(node)
    for node in by_code.values():
        node.children.sort(key=lambda n: (n.unit.kind == "store", n.unit.code))
        node.stores = sum(1 for u in units if u.kind == "store" and within(u.path, node.unit.path))
        inside = [s for s in people if within(s.scope, node.unit.path)]
        node.distributors = sum(1 for s in inside if s.role == "distributor")
        node.staff = len(inside) - node.distributors
    return roots


def flatten(roots: list[Node]) -> list[Node]:
    """The tree in reading order (a parent before its children)."""
    out: list[Node] = []
    for node in roots:
        out.append(node)
        out += flatten(node.children)
    return out


def parent_choices(roots: list[Node]) -> list[tuple[str, str]]:
    """(code, label) of every open unit that may hold others, indented by its depth."""
    return [
        (n.unit.code, f"{INDENT * n.depth}{n.unit.code} · {n.unit.name}")
        for n in flatten(roots)
        if n.unit.kind != "store" and n.unit.active
    ]


# --- region price rows --------------------------------------------------------------------------
@dataclass
class PriceRows:
    """The rows as typed (to show again), the prices read from them and the refusals per field
    (``region_unit_2``, ``region_price_2``) as message ids to translate."""

    rows: list[dict[str, str]]
    prices: dict[str, int]
    errors: dict[str, tuple[str, dict[str, Any]]]


def typed_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The region price rows posted as ``region_unit_<i>`` / ``region_price_<i>``."""
    count = int(form["region_rows"]) if form.get("region_rows", "").isdigit() else 0
    return [
        {"unit": form.get(f"region_unit_{i}", ""), "price": form.get(f"region_price_{i}", "")}
        for i in range(min(count, 50))
    ]


def read_rows(rows: list[dict[str, str]], known: set[str]) -> PriceRows:
    """Rows left blank are skipped; a row needs a known region or store (not HQ: its price is
    the retail price) and a price of zero or more yuan, each unit once."""
    prices: dict[str, int] = {}
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        code, text = row["unit"].strip().upper(), row["price"].strip()
        if not code and not text:
            continue
        if not code:
            errors[f"region_unit_{i}"] = (N_("Choose a region or store for this price."), {})
        elif code not in known:
            errors[f"region_unit_{i}"] = (N_("There is no region or store %(code)s."), {"code": code})
        elif code in prices:
            errors[f"region_unit_{i}"] = (N_("%(code)s has a price in another row already."), {"code": code})
        if text.startswith("-"):
            errors[f"region_price_{i}"] = (N_("A price cannot be negative."), {})
            continue
        try:
            fen = parse_yuan(text)
        except (ValueError, ArithmeticError):
            errors[f"region_price_{i}"] = (N_("Enter an amount in yuan, e.g. 12.50."), {})
            continue
        if f"region_unit_{i}" not in errors:
            prices[code] = fen
    return PriceRows(rows, prices, errors)


def row_of(rows: list[dict[str, str]], code: str) -> int | None:
    """The index of the row that names ``code`` (a service's refusal names the unit)."""
    return next((i for i, r in enumerate(rows) if r["unit"].strip().upper() == code), None)


def rows_for(product: schemas.Product) -> list[dict[str, str]]:
    """A stored product's overrides as rows in yuan, one blank row after them to add another."""
    rows = [{"unit": code, "price": yuan(fen)} for code, fen in sorted(product.region_prices.items())]
    return rows + [{"unit": "", "price": ""}] * EMPTY_ROWS


def levels_text(levels: dict[str, int]) -> str:
    """``{"A": 6000, "B": 7050}`` -> ``A=60, B=70.50`` as the wholesale field reads it."""
    return ", ".join(f"{level}={yuan(fen)}" for level, fen in sorted(levels.items()))


def yuan(fen: int) -> str:
    """``1250`` -> ``12.50``, ``1200`` -> ``12`` (the plain number a form field shows)."""
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"
