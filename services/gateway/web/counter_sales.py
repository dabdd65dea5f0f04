"""The counter's money: check out (cart, live quote, split payment, receipt), top up (with the
bonus the active rule gives shown first), refund a checkout of this store, and card service.

The cart lives in the form itself (hidden ``sku``/``qty`` fields), so the server keeps no
per-screen state; every change re-prices it through the same quote use case as
``POST /api/v1/checkouts/quote``, and the pay button carries a fresh Idempotency-Key for the
cart as priced (a changed cart is a different request, hence a new key).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import cards, catalog, checkout, checkout_refunds, wallet
from services.gateway.checkout_requests import CheckoutBody, QuoteBody, RefundBody
from services.gateway.deps import Page, scoped_key
from services.gateway.models import checkouts
from services.gateway.permissions import COUNTER
from services.gateway.web.core import PageContext, PageRoute, field_errors, gate, new_key
from services.gateway.web.counter_base import WARN, member_view, text
from services.gateway.web.i18n import parse_yuan
from services.gateway.web.vocabulary import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(COUNTER))]

OTHER_METHODS = ("bank_card", "wechat_pay", "alipay")
PICK_LIST = 500  # products offered by name in the scan field
# Tells the page to reload a manager's takings panel after money moved.
TAKINGS_CHANGED = {"HX-Trigger": "takings-changed"}
# Refusals a clerk can act on: shown next to the form, which stays as it was.
COUNTER_REASONS = frozenset({
    "invalid_argument", "insufficient_balance", "insufficient_points", "card_lost", "card_frozen",
    "invalid_card_state", "coupon_unavailable", "payment_mismatch", "limit_exceeded", "blocked_by_risk_rule",
    "not_found", "out_of_scope", "idempotency_key_reused", "forbidden", "conflict", "pin_required",
    "pin_invalid", "pin_locked", "rate_limited",
})  # fmt: skip


# What the clerk reads for a service's refusal (its detail is for engineers, in English).
REASON_MESSAGES = {
    "card_lost": N_("This card was reported lost. It cannot pay."),
    "card_frozen": N_("This card is frozen. It cannot pay."),
    "invalid_card_state": N_("The card cannot be used in its present state."),
    "insufficient_balance": N_(
        "The card's balance is not enough: lower the stored-value part and take the rest another way."
    ),
    "insufficient_points": N_("The member does not have that many points."),
    "coupon_unavailable": N_("This coupon cannot be used for this purchase."),
    "payment_mismatch": N_("The payments do not add up to the amount to pay."),
    "limit_exceeded": N_("This would pass a limit of the card."),
    "blocked_by_risk_rule": N_("Blocked by a risk rule. Ask a manager."),
    "idempotency_key_reused": N_("This form was already used for another request. Open the task again."),
    "pin_required": N_("This card needs its payment PIN."),
    "pin_invalid": N_("The payment PIN is wrong."),
    "pin_locked": N_("Too many wrong PINs: stored-value payment is locked for a while."),
    "rate_limited": N_("Too many requests. Wait a moment and try again."),
    "forbidden": N_("Your role or store may not do this."),
    "not_found": N_("Not found in your store's records."),
    "out_of_scope": N_("Not found in your store's records."),
}


def refusal(ctx: PageContext, exc: Exception) -> dict[str, str]:
    """A refused request as messages per field, re-raising what the clerk cannot act on."""
    if isinstance(exc, ChainclubError) and exc.reason not in COUNTER_REASONS:
        raise exc
    errors = field_errors(exc)
    if isinstance(exc, ChainclubError) and exc.reason in REASON_MESSAGES:
        errors = {"_": ctx._(REASON_MESSAGES[exc.reason])}
    return errors


def empty_cart(member: dict | None) -> dict[str, Any]:
    return {"lines": [], "quote": None, "coupon_code": "", "points_to_use": 0, "key": new_key(),
            "pay": {"stored_value": "", "cash": "", "other": "", "other_method": "bank_card"},
            "card_no": member["card"]["card_no"] if member else ""}  # fmt: skip


# --- check out -------------------------------------------------------------------------------
def _cart_from(form: Any) -> dict[str, Any]:
    """The cart as the form holds it; a scanned ``add_sku`` is added as one more line."""
    skus, qtys, names = form.getlist("sku"), form.getlist("qty"), form.getlist("name")
    remove = text(form, "remove", 64)
    lines: list[dict[str, Any]] = []
    for i, sku in enumerate(skus):
        sku = str(sku).strip()
        if not sku or sku == remove:
            continue
        raw = str(qtys[i]).strip() if i < len(qtys) else "1"
        lines.append({"sku": sku, "qty": raw, "name": str(names[i]) if i < len(names) else ""})
    added = text(form, "add_sku", 64)
    if added:
        existing = next((ln for ln in lines if ln["sku"] == added), None)
        if existing is not None and str(existing["qty"]).isdigit():
            existing["qty"] = str(int(existing["qty"]) + 1)
        else:
            lines.append({"sku": added, "qty": "1", "name": ""})
    return {
        "card_no": text(form, "card_no", 32),
        "lines": lines,
        "coupon_code": text(form, "coupon_code", 64),
        "points_to_use": text(form, "points_to_use", 12) or "0",
        "pay": {
            "stored_value": text(form, "pay_stored_value", 20),
            "cash": text(form, "pay_cash", 20),
            "other": text(form, "pay_other", 20),
            "other_method": text(form, "pay_other_method", 20) or "bank_card",
        },
        "key": text(form, "idempotency_key", 255),
    }


def _quote_body(ctx: PageContext, cart: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    lines = []
    for i, ln in enumerate(cart["lines"]):
        if not str(ln["qty"]).isdigit() or not 1 <= int(ln["qty"]) <= 9999:
            errors[f"lines.{i}.qty"] = ctx._("A quantity is a whole number from 1 to 9999.")
            continue
        lines.append({"sku": ln["sku"], "qty": int(ln["qty"])})
    points = str(cart["points_to_use"])
    if not points.isdigit():
        errors["points_to_use"] = ctx._("Points are a whole number.")
    if errors:
        raise _FormErrors(errors)
    return {
        "card_no": cart["card_no"] or None,
        "lines": lines,
        "coupon_code": cart["coupon_code"] or None,
        "points_to_use": int(points),
    }


class _FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


async def _priced(ctx: PageContext, cart: dict[str, Any]) -> dict[str, str]:
    """Price the cart (sets ``cart["quote"]`` and line names); the messages when it cannot be."""
    cart["quote"] = None
    if not cart["lines"]:
        return {}
    try:
        body = QuoteBody.model_validate(_quote_body(ctx, cart))
        cart["quote"] = await checkout.quote(ctx.state, ctx.p, body)
    except _FormErrors as exc:
        return exc.errors
    except (ValidationError, ChainclubError) as exc:
        return refusal(ctx, exc)
    names = {ln["sku"]: ln.get("name", "") for ln in cart["quote"]["lines"]}
    for ln in cart["lines"]:
        ln["name"] = names.get(ln["sku"]) or ln["name"]
    return {}


def _suggest_payments(cart: dict[str, Any], member: dict | None) -> None:
    """A changed cart is split anew: stored value first (what an active card holds), cash for the rest."""
    quote = cart["quote"]
    pay = cart["pay"]
    pay.update(stored_value="", cash="", other="")
    if quote is None:
        return
    due = quote["total_due"]
    available = (member or {}).get("balance") or {}
    usable = member is not None and member["card"]["status"] == "active"
    from_card = min(due, available.get("total", 0)) if usable else 0
    pay["stored_value"] = f"{from_card / 100:.2f}" if from_card else ""
    pay["cash"] = f"{(due - from_card) / 100:.2f}" if due - from_card else ""


async def products(ctx: PageContext) -> list[Any]:
    """The catalog at the counter's retail prices, to pick a product by name (the first page)."""
    return (await catalog.catalog(ctx.state, ctx.p, Page(PICK_LIST, None), None)).items


async def _render_checkout(
    ctx: PageContext, cart: dict, member: dict | None, errors: dict, status: int = 200
) -> Response:
    return ctx.render("counter/_checkout.html", status=status, cart=cart, member=member, errors=errors,
                      warn=WARN, products=await products(ctx))  # fmt: skip


@router.post("/counter/checkout/quote")
async def quote(ctx: Ctx) -> Response:
    """Re-price the cart after a scan, a quantity, a coupon or points changed."""
    cart = _cart_from(await ctx.form())
    member = await member_view(ctx, cart["card_no"])
    errors = await _priced(ctx, cart)
    if "lines.0.sku" in errors or any(k.endswith(".sku") for k in errors):
        # An unknown scanned SKU: say so at the scan field and keep the rest of the cart.
        bad = next(k for k in errors if k.endswith(".sku"))
        index = int(bad.split(".")[1])
        if index < len(cart["lines"]):
            unknown = cart["lines"].pop(index)
            errors = {"add_sku": ctx._("Unknown SKU %(sku)s.", sku=unknown["sku"])}
            errors |= await _priced(ctx, cart)
    cart["key"] = new_key()  # a different cart is a different checkout
    _suggest_payments(cart, member)
    return await _render_checkout(ctx, cart, member, errors, 422 if errors else 200)


def _payments(ctx: PageContext, pay: dict[str, str]) -> list[dict[str, Any]]:
    errors: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for field, method in (("stored_value", "stored_value"), ("cash", "cash"), ("other", pay["other_method"])):
        text = pay[field]
        if not text:
            continue
        try:
            amount = parse_yuan(text)
        except (ValueError, ArithmeticError):
            errors[f"pay_{field}"] = ctx._("Enter an amount in yuan, e.g. 12.50.")
            continue
        if amount:
            out.append({"method": method, "amount": amount})
    if pay["other_method"] not in OTHER_METHODS:
        errors["pay_other"] = ctx._("Choose how the rest was paid.")
    if errors:
        raise _FormErrors(errors)
    return out


@router.post("/counter/checkout/pay")
async def pay(ctx: Ctx) -> Response:
    """Take the payment: the saga with the form's Idempotency-Key (a replay gets the same receipt)."""
    cart = _cart_from(await ctx.form())
    member = await member_view(ctx, cart["card_no"])
    if not cart["lines"]:
        return await _render_checkout(
            ctx, cart, member, {"add_sku": ctx._("Scan or pick at least one product.")}, 422
        )
    try:
        values = _quote_body(ctx, cart) | {"payments": _payments(ctx, cart["pay"])}
        body = CheckoutBody.model_validate(values)
        key = scoped_key(ctx.p, cart["key"])
        receipt = await checkout.create(ctx.state, ctx.request, ctx.p, key, body)
    except _FormErrors as exc:
        await _priced(ctx, cart)
        return await _render_checkout(ctx, cart, member, exc.errors, 422)
    except (ValidationError, ChainclubError) as exc:
        errors = refusal(ctx, exc)
        await _priced(ctx, cart)
        status = exc.spec.http_status if isinstance(exc, ChainclubError) else 422
        return await _render_checkout(ctx, cart, member, errors, status)
    member = await member_view(ctx, cart["card_no"])
    names = {ln["sku"]: ln["name"] for ln in cart["lines"]}
    return ctx.render("counter/_receipt.html", status=201, receipt=receipt, names=names, member=member,
                      kind="checkout", warn=WARN, headers=TAKINGS_CHANGED)  # fmt: skip


# --- top up ----------------------------------------------------------------------------------
def _top_up_values(
    ctx: PageContext, form: Any
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any] | None]:
    values = {"amount": text(form, "amount", 20), "channel": text(form, "channel", 20) or "cash"}
    errors: dict[str, str] = {}
    body = None
    try:
        amount = parse_yuan(values["amount"])
        if amount <= 0:
            raise ValueError
        body = {"amount": amount, "channel": values["channel"]}
    except (ValueError, ArithmeticError):
        errors["amount"] = ctx._("Enter an amount in yuan greater than 0, e.g. 500.")
    return values, errors, body


@router.post("/counter/topup/preview")
async def top_up_preview(ctx: Ctx) -> Response:
    """The bonus the active rule gives for the amount typed (充值赠送), before confirming."""
    form = await ctx.form()
    card_no = text(form, "card_no", 32)
    member = await member_view(ctx, card_no)
    values, errors, body = _top_up_values(ctx, form)
    preview = None
    if body is not None and member is not None:
        try:
            preview = await wallet.preview_top_up(
                ctx.state, ctx.p, card_no, wallet.TopUpBody.model_validate(body)
            )
        except (ValidationError, ChainclubError) as exc:
            errors = refusal(ctx, exc)
    key = new_key()  # a new amount or channel is a new top-up
    return ctx.render("counter/_topup.html", status=422 if errors else 200, member=member, values=values,
                      errors=errors, preview=preview, key=key, warn=WARN)  # fmt: skip


@router.post("/counter/topup")
async def top_up(ctx: Ctx) -> Response:
    form = await ctx.form()
    card_no = text(form, "card_no", 32)
    member = await member_view(ctx, card_no)
    values, errors, body = _top_up_values(ctx, form)
    key = text(form, "idempotency_key", 255)
    if body is not None and member is not None:
        try:
            result = await wallet.top_up(ctx.state, ctx.request, ctx.p, scoped_key(ctx.p, key), card_no,
                                         wallet.TopUpBody.model_validate(body))  # fmt: skip
        except (ValidationError, ChainclubError) as exc:
            errors = refusal(ctx, exc)
        else:
            member = await member_view(ctx, card_no)
            return ctx.render("counter/_receipt.html", status=201, receipt=result, member=member, kind="topup",
                              channel=values["channel"], warn=WARN, headers=TAKINGS_CHANGED)  # fmt: skip
    if member is None:
        errors["_"] = ctx._("Identify a member first.")
    return ctx.render("counter/_topup.html", status=422, member=member, values=values, errors=errors,
                      preview=None, key=key or new_key(), warn=WARN)  # fmt: skip


# --- refunds ---------------------------------------------------------------------------------
async def recent(ctx: PageContext, member: dict | None, limit: int = 10) -> list[dict[str, Any]]:
    """The newest checkouts of the caller's store (of the member's card when one is chosen)."""
    query = (
        select(
            checkouts.c.checkout_id,
            checkouts.c.status,
            checkouts.c.card_no,
            checkouts.c.total_due,
            checkouts.c.created_at,
        )
        .where(checkouts.c.store_path == ctx.p.scope, checkouts.c.status == "completed")
        .order_by(checkouts.c.created_at.desc())
        .limit(limit)
    )
    if member is not None:
        query = query.where(checkouts.c.card_no == member["card"]["card_no"])
    async with ctx.state.db.sessions() as session:
        rows = (await session.execute(query)).all()
    return [r._asdict() | {"checkout_id": str(r.checkout_id)} for r in rows]


@router.post("/counter/refund/find")
async def refund_find(ctx: Ctx) -> Response:
    form = await ctx.form()
    member = await member_view(ctx, text(form, "card_no", 32))
    checkout_id = text(form, "checkout_id", 64)
    errors: dict[str, str] = {}
    found = None
    try:
        if not checkout_id:
            raise InvalidArgument(ctx._("Enter or pick a checkout number."), field="checkout_id")
        found = await checkout_refunds.get(ctx.state, ctx.p, checkout_id)
    except ChainclubError as exc:
        errors = refusal(ctx, exc)
        if exc.reason in ("not_found", "out_of_scope"):
            errors = {"checkout_id": ctx._("No checkout with this number at your store.")}
    return ctx.render("counter/_refund.html", status=200 if found else 404 if "checkout_id" in errors else 422,
                      member=member, found=found, errors=errors, result=None, key=new_key(),
                      recent=await recent(ctx, member), values={"checkout_id": checkout_id})  # fmt: skip


@router.post("/counter/refund")
async def refund(ctx: Ctx) -> Response:
    form = await ctx.form()
    member = await member_view(ctx, text(form, "card_no", 32))
    checkout_id = text(form, "checkout_id", 64)
    key = text(form, "idempotency_key", 255)
    lines = []
    for sku, qty in zip(form.getlist("refund_sku"), form.getlist("refund_qty"), strict=False):
        if str(qty).strip() not in ("", "0"):
            lines.append({"sku": str(sku), "qty": int(qty) if str(qty).strip().isdigit() else -1})
    errors: dict[str, str] = {}
    result = None
    try:
        body = RefundBody.model_validate({"lines": lines} if form.get("scope") == "lines" else {})
        result = await checkout_refunds.refund(
            ctx.state, ctx.request, ctx.p, scoped_key(ctx.p, key), checkout_id, body
        )
    except (ValidationError, ChainclubError) as exc:
        errors = refusal(ctx, exc)
    found = await checkout_refunds.get(ctx.state, ctx.p, checkout_id) if checkout_id else None
    member = await member_view(ctx, text(form, "card_no", 32))
    return ctx.render("counter/_refund.html", status=201 if result else 422, member=member, found=found,
                      headers=TAKINGS_CHANGED if result else None, oob=member is not None,
                      errors=errors, result=result, key=key if errors else new_key(),
                      recent=await recent(ctx, member), values={"checkout_id": checkout_id})  # fmt: skip


# --- card service ----------------------------------------------------------------------------
@router.post("/counter/card/{action}")
async def card_action(action: str, ctx: Ctx) -> Response:
    """Report loss, cancel loss, freeze, unfreeze (the member's home scope for all but
    report-loss, as in REST), or replace with the card type's fee."""
    form = await ctx.form()
    card_no = text(form, "card_no", 32)
    errors: dict[str, str] = {}
    result = None
    try:
        if action == "replace":
            fee_payment = "stored_value" if form.get("fee_payment") == "stored_value" else "cash"
            result = await cards.replace(ctx.state, ctx.request, ctx.p, card_no, fee_payment)
            card_no = result["card_no"]
        else:
            await cards.change_status(
                ctx.state, ctx.request, ctx.p, card_no, action, text(form, "reason", 500)
            )
    except ChainclubError as exc:
        errors = refusal(ctx, exc)
        if exc.reason in ("not_found", "out_of_scope"):
            errors = {"_": ctx._("Only the member's home store (or its region, or HQ) may do this.")}
    member = await member_view(ctx, card_no)
    card = await card_or_none(ctx, card_no)
    return ctx.render("counter/_card.html", status=422 if errors else 200, member=member, card=card,
                      errors=errors, result=result, action=action, oob=True, warn=WARN)  # fmt: skip


async def card_or_none(ctx: PageContext, card_no: str) -> dict[str, Any] | None:
    """The card's details, or None outside the caller's scope (identify still shows the masked view)."""
    try:
        return await cards.get_card(ctx.state, ctx.p, card_no)
    except ChainclubError as exc:
        if exc.reason in ("not_found", "out_of_scope"):
            return None
        raise
