"""Checkout requests: their bodies, the ids derived from idempotency keys, pricing lines from
the catalog for the acting store, the card check and the quote (no saga state here).
The routes check the caller's role before calling these use cases (deps.permitted)."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import Field, StrictInt

from chainclub.loyalty.v1 import loyalty_pb2 as lpb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument
from services.gateway import catalog_cache
from services.gateway.domain import entitled_price
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

NAMESPACE = uuid.UUID("6c1b9f0e-3d0a-5c55-9d55-8a3f6b0c4a11")
LEASE_SECONDS = 60
CONFIRM_ATTEMPTS = 3
MAX_FEN = 10**11
ACTIVE = ("started", "reserved", "paid")
# A downstream error that says nothing about whether the step happened: retry, never compensate.
TRANSIENT = frozenset({"unavailable", "internal", "rate_limited"})
CARD_STATES = {
    "lost": "card_lost",
    "frozen": "card_frozen",
    "replaced": "card_replaced",
    "expired": "card_expired",
    "cancelled": "card_cancelled",
}

Method = Literal["stored_value", "cash", "bank_card", "wechat_pay", "alipay"]


# --- request bodies ------------------------------------------------------------------------
class LineBody(Strict):
    sku: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(ge=1, le=9999)


class QuoteBody(Strict):
    card_no: str | None = Field(default=None, min_length=1, max_length=32)
    lines: list[LineBody] = Field(min_length=1, max_length=200)
    coupon_code: str | None = Field(default=None, min_length=1, max_length=64)
    points_to_use: StrictInt = Field(default=0, ge=0, le=10**9)


class PaymentBody(Strict):
    method: Method
    amount: StrictInt = Field(gt=0, le=MAX_FEN, description="fen")


class CheckoutBody(QuoteBody):
    payments: list[PaymentBody] = Field(default_factory=list, max_length=10)


class RefundLineBody(Strict):
    sku: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(ge=1, le=9999)


class RefundBody(Strict):
    lines: list[RefundLineBody] | None = Field(default=None, min_length=1, max_length=200)


# --- helpers -------------------------------------------------------------------------------
def checkout_id_for(key: str) -> uuid.UUID:
    """The checkout id of a (caller-unique) idempotency key: the same key is the same checkout."""
    return uuid.uuid5(NAMESPACE, f"checkout\n{key}")


def refund_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"refund\n{key}")


def saga_refund_request_id(checkout_id: uuid.UUID) -> str:
    """The wallet request id of the compensating refund of a checkout's payment."""
    return str(uuid.uuid5(NAMESPACE, f"saga-refund\n{checkout_id}"))


def body_hash(body: Strict) -> str:
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole`` rounded half-up to the fen (0 when ``whole`` is 0)."""
    if whole <= 0:
        return 0
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _merge(lines: list[LineBody]) -> list[tuple[int, str, int]]:
    """(first index, sku, qty) with repeated skus added up."""
    seen: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if line.sku in seen:
            seen[line.sku][1] += line.qty
        else:
            seen[line.sku] = [i, line.qty]
    out = []
    for sku, (i, qty) in seen.items():
        if qty > 9999:
            raise InvalidArgument(f"at most 9999 of {sku!r} in one checkout", field=f"lines.{i}.qty")
        out.append((i, sku, qty))
    return out


async def price_lines(state: GatewayState, p: Principal, lines: list[LineBody]) -> list[dict[str, Any]]:
    """The lines at the retail price the acting store's staff sees (region overrides on
    their path); an unknown or inactive sku is a 422 on ``lines.N.sku``. The catalog comes
    from the process's cache (services/gateway/catalog_cache.py) when there is one."""
    merged = _merge(lines)
    skus = [sku for _, sku, _ in merged]
    rows = await (
        state.catalog.priced(skus) if state.catalog is not None else catalog_cache.read(state.db, skus)
    )
    regions = {sku: row.region_prices for sku, row in rows.items()}
    out = []
    for i, sku, qty in merged:
        row = rows.get(sku)
        if row is None:
            raise InvalidArgument(f"unknown sku {sku!r}", field=f"lines.{i}.sku")
        price = entitled_price(
            role=p.role, scope=p.scope, price_level=None, retail=row.retail_price, levels={},
            region_prices=regions[sku],
        )  # fmt: skip
        out.append(
            {"sku": sku, "name": row.name, "category": row.category, "qty": qty, "unit_price": price.price}
        )
    return out


async def identify_card(state: GatewayState, p: Principal, card_no: str) -> dict[str, Any]:
    """The card as checkout needs it; a card that cannot pay is a 409 with its state."""
    card = await state.clients.call(state.clients.members.GetCard, mpb.GetCardRequest(card_no=card_no), p)
    if card.status != "active":
        reason = CARD_STATES.get(card.status, "invalid_card_state")
        raise ChainclubError(f"card {card_no} is {card.status}", reason=reason)
    return {
        "card_no": card.card_no,
        "member_no": card.member_no,
        "card_type": card.card_type,
        "discount_bps": card.discount_bps,
        "home_store_path": card.member_home_store_path,
    }


def quote_request(store_path: str, lines: list[dict], card: dict | None, coupon_code: str | None,
                  points_to_use: int) -> lpb.QuoteRequest:  # fmt: skip
    return lpb.QuoteRequest(
        card_no=card["card_no"] if card else "",
        member_no=card["member_no"] if card else "",
        card_type=card["card_type"] if card else "",
        card_discount_bps=card["discount_bps"] if card else 0,
        store_path=store_path,
        lines=[
            lpb.Line(
                sku=ln["sku"],
                name=ln["name"],
                category=ln["category"],
                qty=ln["qty"],
                unit_price=ln["unit_price"],
            )
            for ln in lines
        ],
        coupon_code=coupon_code or "",
        points_to_use=points_to_use,
        member_home_store_path=card.get("home_store_path", "") if card else "",
    )


async def quick_quote(
    state: GatewayState, p: Principal, lines: list[dict], card_no: str | None
) -> lpb.QuotedCheckout:
    """A checkout that holds nothing (no coupon, no points), priced: the card identified and
    loyalty's quote, which loyalty confirms the purchase from."""
    card = await identify_card(state, p, card_no) if card_no else None
    req = quote_request(p.scope, lines, card, None, 0)
    return lpb.QuotedCheckout(
        request=req, quote=await state.clients.call(state.clients.loyalty.Quote, req, p)
    )


def quote_json(q: lpb.PriceQuote) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": ln.sku,
                "qty": ln.qty,
                "unit_price": ln.unit_price,
                "discount": ln.discount,
                "amount": ln.amount,
            }
            for ln in q.lines
        ],
        "subtotal": q.subtotal,
        "discounts": [
            {"kind": d.kind, "rule": d.rule, "amount": d.amount, **({"sku": d.sku} if d.sku else {})}
            for d in q.discounts
        ],
        "points_used": q.points_used,
        "points_value": q.points_value,
        "total_due": q.total_due,
        "points_to_earn": q.points_to_earn,
        "tier": q.tier or None,
    }


async def quote(state: GatewayState, p: Principal, body: QuoteBody) -> dict[str, Any]:
    lines = await price_lines(state, p, body.lines)
    if body.card_no is None and (body.coupon_code or body.points_to_use):
        raise InvalidArgument("coupons and points need a member card", field="card_no")
    card = await identify_card(state, p, body.card_no) if body.card_no else None
    req = quote_request(p.scope, lines, card, body.coupon_code, body.points_to_use)
    out = quote_json(await state.clients.call(state.clients.loyalty.Quote, req, p))
    names = {ln["sku"]: ln["name"] for ln in lines}
    for line in out["lines"]:
        line["name"] = names.get(line["sku"], "")
    return out
