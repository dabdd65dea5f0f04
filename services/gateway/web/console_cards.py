"""The console's card screens (卡务管理): the card types (``/console/card-types``: fees, validity,
holders, the card discount, where a card works and its stored-value limits; HQ creates or
redefines one by code), one card's lifecycle and holders (``/console/cards/{card_no}``: report
loss, cancel loss, freeze, unfreeze as the role may) and the store terminals of the scope
(``/console/terminals``: register one, its secret shown once; disable and enable; rotate its
secret, the new one shown once).

Typed values are in yuan, percent and months and become the REST bodies (fen, basis points)
validated by the same request models; the pages call the use cases the REST routes call
(services/gateway/cards.py and identity.py), and the services keep each caller in its scope."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import cards, org, schemas
from services.gateway import terminals as terminal_uses
from services.gateway.deps import Page
from services.gateway.member_schemas import CardTypeBody
from services.gateway.permissions import MANAGERS
from services.gateway.web import vocabulary
from services.gateway.web.core import PageContext, PageForbidden, PageRoute, field_errors, gate
from services.gateway.web.rule_forms import Reader

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

KINDS = ("personal", "family", "group", "co_branded")
FEES = ("joining_fee", "annual_fee", "replacement_fee", "max_balance", "max_single_top_up")
# card status -> the actions that apply to it (cards.STATUS_ACTIONS holds their permissions)
NEXT = {"active": ("report_loss", "freeze"), "lost": ("cancel_loss",), "frozen": ("unfreeze",)}
CARD_NO = re.compile(r"[0-9A-Za-z_-]{1,40}")


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}


def _summary(ctx: PageContext, errors: dict[str, str]) -> dict[str, str]:
    return {"_": ctx._("Nothing was saved: correct the marked fields."), **errors}


def _plain(fen_or_bps: int, per: int) -> str:
    """``1250`` fen -> ``12.5`` (the form shows what was stored, in the reader's units)."""
    text = f"{fen_or_bps / per:.2f}"
    return text.rstrip("0").rstrip(".")


# --- card types ---------------------------------------------------------------------------------
async def _units(ctx: PageContext) -> list[Any]:
    return (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items


async def _types_page(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    _require(ctx, "card_types.read")
    items = sorted(await cards.card_types(ctx.state, ctx.p), key=lambda t: t.get("code", ""))
    units = await _units(ctx) if ctx.allowed("card_types.write") else []
    codes = {u.path: u.code for u in units}
    page: dict[str, Any] = {"form": {}, "errors": {}, "done": None, "find": {}, "find_errors": {}, **values}
    if not page["form"] and (code := ctx.request.query_params.get("edit")):
        found = next((t for t in items if t.get("code") == code), None)
        if found:
            page["form"] = _type_form(found, codes)
    scopes = [("", ctx._("The whole chain"))] + [(u.code, f"{u.code} · {u.name}") for u in units]
    kinds = [(k, vocabulary.label(ctx.locale, k)) for k in KINDS]
    return ctx.render("console/cards/card_types.html", status=status, items=items, scopes=scopes,
                      kinds=kinds, **page)  # fmt: skip


def _type_form(t: dict, codes: dict[str, str]) -> dict[str, str]:
    """A card type as its form shows it (to redefine it)."""
    form = {
        "code": t.get("code", ""), "name": t.get("name", ""), "kind": t.get("kind", "personal"),
        "validity_months": str(t.get("validity_months") or 0), "max_holders": str(t.get("max_holders") or 1),
        "discount_bps": _plain(int(t.get("discount_bps") or 0), 100),
        "home_scope": codes.get(t.get("home_scope") or "", ""),
        "is_default": "on" if t.get("is_default") else "", "active": "on" if t.get("active") else "",
    }  # fmt: skip
    for name in FEES:
        form[name] = _plain(int(t.get(name) or 0), 100)
    return form


def _card_type(ctx: PageContext, form: dict[str, str]) -> CardTypeBody:
    """The typed card type as the REST body; ``_Refused`` with a message per refused field."""
    r = Reader(ctx, form)
    body: dict[str, Any] = {
        "code": r.text("code"), "name": r.text("name"), "kind": r.text("kind"),
        "validity_months": r.whole("validity_months", 0, 1200),
        "max_holders": r.whole("max_holders", 1, 100, default=1),
        "home_scope": r.text("home_scope") or None,
        "is_default": r.text("is_default") == "on", "active": r.text("active") == "on",
    }  # fmt: skip
    for name in FEES:
        if r.text(name).startswith("-"):
            r.errors[name] = ctx._("Enter zero or more yuan, e.g. 20 (it cannot be negative).")
        else:
            body[name] = r.yuan(name)
    text = r.text("discount_bps")
    body["discount_bps"] = r.percent("discount_bps")
    if "discount_bps" in r.errors or body["discount_bps"] > 9999:
        r.errors["discount_bps"] = ctx._("Enter a discount from 0 to 99.99 %%, e.g. 5 (%(typed)s is not).",
                                         typed=text)  # fmt: skip
    r.check(bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", body["code"])), "code",
            ctx._("Use 1 to 32 letters, digits, _ . or -."))  # fmt: skip
    r.check(bool(body["name"]), "name", ctx._("Enter the card type's name."))
    r.check(body["kind"] in KINDS, "kind", ctx._("Choose a kind of card."))
    try:
        made = CardTypeBody.model_validate(body)
    except ValidationError as exc:
        found = {**field_errors(exc), **r.errors}
        if r.errors:
            found.pop("_", None)
        raise _Refused(found) from None
    if r.errors:
        raise _Refused(r.errors)
    return made


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@router.get("/console/card-types")
async def card_types(ctx: Ctx) -> Response:
    return await _types_page(ctx)


@router.post("/console/card-types")
async def save_card_type(ctx: Ctx) -> Response:
    _require(ctx, "card_types.write")
    form = await _fields(ctx)
    try:
        body = _card_type(ctx, form)
        made = await cards.put_card_type(ctx.state, ctx.request, ctx.p, body)
    except _Refused as exc:
        return await _types_page(ctx, 422, form=form, errors=_summary(ctx, exc.errors))
    except ChainclubError as exc:
        if exc.reason not in ("invalid_argument", "conflict", "failed_precondition"):
            raise
        errors = field_errors(exc)
        if "home_scope" in errors:
            errors["home_scope"] = ctx._("Choose a region or store of your scope.")
        return await _types_page(ctx, 422, form=form, errors=_summary(ctx, errors))
    return await _types_page(ctx, 201, done=ctx._("Saved card type %(name)s.", name=made.get("name", "")))


@router.post("/console/cards/find")
async def find_card(ctx: Ctx) -> Response:
    """The card number typed in the "find a card" box (posted, never in a URL until found)."""
    _require(ctx, "cards.read")
    form = await _fields(ctx)
    number = form.get("card_no", "").replace(" ", "")
    if not CARD_NO.fullmatch(number):
        error = ctx._("Enter a card number.")
    else:
        try:
            await cards.card_in_scope(ctx.state, ctx.p, number)
        except ChainclubError as exc:
            if exc.reason not in ("not_found", "invalid_argument", "out_of_scope"):
                raise
            error = ctx._("There is no card %(no)s in your scope.", no=number)
        else:
            return ctx.redirect(f"/console/cards/{quote(number)}")
    return await _types_page(ctx, 422, find=form, find_errors={"card_no": error})


# --- one card -----------------------------------------------------------------------------------
async def _card_page(ctx: PageContext, card_no: str, status: int = 200, **values: Any) -> Response:
    card = await cards.card_in_scope(ctx.state, ctx.p, card_no)
    types = {t["code"]: t for t in await cards.card_types(ctx.state, ctx.p)} if ctx.allowed(
        "card_types.read"
    ) else {}  # fmt: skip
    actions = [a for a in NEXT.get(card["status"], ()) if ctx.allowed(cards.STATUS_ACTIONS[a])]
    page: dict[str, Any] = {"done": None, "refused": None, "reason": "", **values}
    return ctx.render("console/cards/card.html", status=status, card=card, card_type=types.get(card["card_type"]),
                      actions=actions, **page)  # fmt: skip


@router.get("/console/cards/{card_no}")
async def card_page(card_no: str, ctx: Ctx) -> Response:
    _require(ctx, "cards.read")
    return await _card_page(ctx, card_no)


@router.post("/console/cards/{card_no}/{action}")
async def change_status(card_no: str, action: str, ctx: Ctx) -> Response:
    if action not in {a for pair in NEXT.values() for a in pair}:
        raise PageForbidden(ctx.p.role)
    _require(ctx, cards.STATUS_ACTIONS[action])
    form = await _fields(ctx)
    reason = form.get("reason", "")[:500]
    await cards.card_in_scope(ctx.state, ctx.p, card_no)  # another scope's card is "not found" here too
    try:
        card = await cards.change_status(ctx.state, ctx.request, ctx.p, card_no, action, reason)
    except ChainclubError as exc:
        if exc.reason not in ("failed_precondition", "conflict", "invalid_argument"):
            raise
        return await _card_page(ctx, card_no, 409, refused=exc.detail, reason=reason)
    done = ctx._("Done: the card is now %(status)s.", status=vocabulary.label(ctx.locale, card["status"]))
    return await _card_page(ctx, card_no, done=done)


# --- terminals ----------------------------------------------------------------------------------
async def _terminals_page(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    _require(ctx, "terminals.read")
    items = (await terminal_uses.list_terminals(ctx.state, ctx.p, Page(500, None))).items
    units = await _units(ctx) if ctx.allowed("terminals.write") else []
    stores = [(u.code, f"{u.code} · {u.name}") for u in units if u.kind == "store" and u.active]
    page: dict[str, Any] = {
        "form": {},
        "errors": {},
        "done": None,
        "created": None,
        "rotated": False,
        **values,
    }
    return ctx.render("console/cards/terminals.html", status=status, items=items, stores=stores, **page)


@router.get("/console/terminals")
async def terminals(ctx: Ctx) -> Response:
    return await _terminals_page(ctx)


@router.post("/console/terminals")
async def register_terminal(ctx: Ctx) -> Response:
    _require(ctx, "terminals.write")
    form = await _fields(ctx)
    errors: dict[str, str] = {}
    if not form.get("store"):
        errors["store"] = ctx._("Choose the store.")
    if not form.get("name"):
        errors["name"] = ctx._("Name the terminal, e.g. Till 1.")
    if not errors:
        try:
            made = await terminal_uses.create_terminal(
                ctx.state, ctx.request, ctx.p,
                schemas.TerminalCreate.model_validate({"store": form["store"], "name": form["name"]}),
            )  # fmt: skip
        except (ValidationError, ChainclubError) as exc:
            if isinstance(exc, ChainclubError) and exc.reason not in ("invalid_argument", "conflict"):
                raise
            errors = field_errors(exc)
        else:
            return await _terminals_page(ctx, 201, created=made)
    return await _terminals_page(ctx, 422, form=form, errors=_summary(ctx, errors))


@router.post("/console/terminals/{client_id}/rotate-secret")
async def rotate_terminal_secret(client_id: str, ctx: Ctx) -> Response:
    """A new secret, shown once on the page; the old one stops working at once."""
    _require(ctx, "terminals.write")
    made = await terminal_uses.rotate_terminal_secret(ctx.state, ctx.request, ctx.p, client_id)
    return await _terminals_page(ctx, created=made, rotated=True)


@router.post("/console/terminals/{client_id}/{change}")
async def switch_terminal(client_id: str, change: str, ctx: Ctx) -> Response:
    _require(ctx, "terminals.write")
    if change not in ("enable", "disable"):
        raise PageForbidden(ctx.p.role)
    body = schemas.TerminalUpdate(active=change == "enable")
    made = await terminal_uses.patch_terminal(ctx.state, ctx.request, ctx.p, client_id, body)
    done = (
        ctx._("Terminal %(name)s is enabled.", name=made.name)
        if made.active
        else ctx._("Terminal %(name)s is disabled: it can no longer log in.", name=made.name)
    )
    return await _terminals_page(ctx, done=done)
