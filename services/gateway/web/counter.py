"""The store counter (POS): one screen, keyboard first. Identify a card or phone (a barcode
scanner types digits + Enter), then check out, top up, register, serve the card, refund, and
read the member's history; a store manager also sees today's takings of the store.

Every money-moving form carries an Idempotency-Key made when the form is shown (a hidden
field), scoped to the caller exactly as the REST header is, so a double click, a browser retry
or "try again" after a network failure replays the same request instead of charging twice.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError, InvalidArgument
from services.gateway import cards, daily_summary, loyalty, members, wallet
from services.gateway.member_schemas import MemberCreate
from services.gateway.permissions import COUNTER
from services.gateway.web import counter_rewards, counter_sales
from services.gateway.web.core import PageContext, PageRoute, field_errors, gate, new_key
from services.gateway.web.counter_base import WARN, member_view, text
from services.gateway.web.vocabulary import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(COUNTER))]

# What the clerk reads next to a registration field the members service refused.
FIELD_MESSAGES = {
    "phone": N_("Enter a valid mobile number, e.g. 13912345678."),
    "birthday": N_("Enter the birthday as a date in the past."),
    "email": N_("Enter a valid email address."),
    "referrer_member_no": N_("No member has this number."),
    "card_type": N_("Choose a card type headquarters has defined."),
    "name": N_("Enter the member's name (at most 200 characters)."),
}
TABS = ("checkout", "topup", "register", "card", "history", "refund", "redeem")
CARD_NO = re.compile(r"^\d{12,32}$")


def screen(ctx: PageContext, *, member: dict | None, tab: str, status: int = 200, **values: Any) -> Response:
    """The counter: the whole page for a plain request, the grid for htmx."""
    template = "counter/_screen.html" if ctx.htmx else "counter/page.html"
    return ctx.render(
        template, status=status, member=member, tab=tab, warn=WARN,
        is_manager=ctx.p.role == "store_manager", **values,
    )  # fmt: skip


@router.get("/counter")
async def counter(ctx: Ctx) -> Response:
    return screen(ctx, member=None, tab="checkout", **await tab_values(ctx, "checkout", None))


@router.post("/counter/identify")
async def identify(ctx: Ctx) -> Response:
    """A scanned card number or a typed phone number -> the member panel."""
    form = await ctx.form()
    query = re.sub(r"[\s-]", "", text(form, "q", 64))
    if not query:
        return screen(ctx, member=None, tab="checkout", status=422, identify_error=ctx._("Scan a card or type a phone number."),
                      query=query, **await tab_values(ctx, "checkout", None))  # fmt: skip
    try:
        if CARD_NO.match(query):
            member = await members.identify(ctx.state, ctx.p, card_no=query)
        else:
            member = await members.identify(ctx.state, ctx.p, phone=query)
    except ChainclubError as exc:
        if exc.reason not in ("not_found", "out_of_scope", "invalid_argument"):
            raise
        message = (
            ctx._("No member with this card or phone number.")
            if exc.reason != "invalid_argument"
            else exc.detail
        )
        return screen(ctx, member=None, tab="checkout", status=404 if exc.reason != "invalid_argument" else 422,
                      identify_error=message, query=query, **await tab_values(ctx, "checkout", None))  # fmt: skip
    return screen(ctx, member=member, tab="checkout", **await tab_values(ctx, "checkout", member))


@router.post("/counter/tab/{tab}")
async def tab(tab: str, ctx: Ctx) -> Response:
    """One work area of the counter for the chosen card (a fragment)."""
    if tab not in TABS:
        raise InvalidArgument(f"no such counter area {tab!r}", field="tab")
    card_no = text(await ctx.form(), "card_no", 32)
    member = await member_view(ctx, card_no)
    return ctx.render(
        "counter/_work.html", member=member, tab=tab, warn=WARN, **await tab_values(ctx, tab, member)
    )


async def tab_values(ctx: PageContext, tab: str, member: dict | None) -> dict[str, Any]:
    """What a work area shows when it opens."""
    if tab == "checkout":
        return {
            "cart": counter_sales.empty_cart(member),
            "errors": {},
            "products": await counter_sales.products(ctx),
        }
    if tab == "topup":
        return {"values": {}, "errors": {}, "preview": None, "key": new_key()}
    if tab == "register":
        card_types = await cards.card_types(ctx.state, ctx.p)
        return {"values": {}, "errors": {}, "card_types": card_types}
    if tab == "card" and member:
        card = await counter_sales.card_or_none(ctx, member["card"]["card_no"])
        return {"card": card, "errors": {}, "result": None}
    if tab == "history" and member:
        txns = await wallet.transactions(ctx.state, ctx.p, member["card"]["card_no"], limit=20)
        try:
            points = await loyalty.points_history(ctx.state, ctx.p, member["member_no"], limit=20)
        except ChainclubError as exc:
            if exc.reason not in ("not_found", "out_of_scope"):
                raise
            points = {"items": [], "next_cursor": None}
        return {"txns": txns["items"], "points": points["items"]}
    if tab == "redeem":
        return await counter_rewards.redeem_values(ctx, member)
    if tab == "refund":
        return {
            "recent": await counter_sales.recent(ctx, member),
            "found": None,
            "errors": {},
            "result": None,
        }
    return {}


@router.post("/counter/register")
async def register(ctx: Ctx) -> Response:
    form = await ctx.form()
    values = {
        k: text(form, k)
        for k in ("name", "phone", "birthday", "gender", "email", "card_type", "referrer_member_no")
    }
    consents = {c: form.get(f"consent_{c}") == "on" for c in ("sms", "email", "wechat")}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    body["consents"] = consents
    body.setdefault("name", "")
    body.setdefault("phone", "")
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = ctx._("Enter the member's name.")
    if not values["phone"]:
        errors["phone"] = ctx._("Enter the member's mobile number.")
    if not errors:
        try:
            created = await members.register(ctx.state, ctx.request, ctx.p, MemberCreate.model_validate(body))
        except (ValidationError, ChainclubError) as exc:
            if isinstance(exc, ChainclubError) and exc.reason not in (
                "invalid_argument",
                "member_exists",
                "not_found",
                "conflict",
            ):
                raise
            errors = {
                k: ctx._(FIELD_MESSAGES[k]) if k in FIELD_MESSAGES else v
                for k, v in field_errors(exc).items()
            }
            if isinstance(exc, ChainclubError) and exc.reason == "member_exists":
                errors = {
                    "phone": ctx._("This phone number is already registered. Identify the member instead.")
                }
        else:
            member = await members.identify(ctx.state, ctx.p, card_no=created["card"]["card_no"])
            return screen(ctx, member=member, tab="checkout", registered=created,
                          **await tab_values(ctx, "checkout", member))  # fmt: skip
    card_types = await cards.card_types(ctx.state, ctx.p)
    return ctx.render("counter/_register.html", status=422, headers={"HX-Retarget": "#tab-body", "HX-Reswap": "innerHTML"}, values=values | {f"consent_{k}": v for k, v in consents.items()},
                      errors=errors, card_types=card_types, member=None, tab="register")  # fmt: skip


@router.get("/counter/takings")
async def takings(ctx: Ctx) -> Response:
    """Today's takings of the manager's store (top-ups, checkouts, refunds, new members)."""
    if not ctx.allowed("reports.daily_summary"):
        return ctx.render("counter/_takings.html", report=None)
    report = await daily_summary.daily_summary(ctx.state, ctx.p, None, None)
    return ctx.render("counter/_takings.html", report=report)


@router.get("/counter/members/{member_no}")
async def profile(member_no: str, ctx: Ctx) -> Response:
    """The member's profile (PII masked unless the role may see it). Only within the caller's
    scope: a member of another region is "not found", whatever identify showed."""
    member = await members.profile(ctx.state, ctx.p, member_no)
    return ctx.render("counter/profile.html", member=member, warn=WARN)
