"""The console's rules screen (营销规则, ``/console/rules``): a tab per kind of rule, each its
list and a form to add one: membership tiers (HQ; saving a tier's code again edits it), earn
rules, coupon templates (and issuing one to members), promotions, and the stored-value risk
rules (HQ writes, managers and auditors read). A form's refused value comes back next to its
field (422) and nothing is created; where it helps, the form previews the rule's effect.
HQ takes rules back from their rows: deletes a tier no member is on (the refusal shown as a
message), deactivates or activates an earn rule or a promotion.

Typed values are in the reader's units (yuan, percent, "x1.5", minutes, HH:MM) and become the
REST bodies (fen, basis points, seconds) validated by the same request models; the pages call
the use cases the REST routes call (services/gateway/loyalty.py and wallet.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import loyalty, org, wallet
from services.gateway.deps import Page, scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.rule_edit_forms import EDITABLE, rule_form
from services.gateway.web.rule_forms import (
    Reader,
    Refused,
    coupon_body,
    earn_body,
    preview,
    promotion_body,
    risk_body,
    tier_body,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

TABS = ("bonus", "tiers", "earn", "coupons", "promotions", "risk")  # bonus: console_bonus.py
READ = {"bonus": "wallet.bonus_rules.read", "tiers": "loyalty.rules.read", "earn": "loyalty.rules.read", "coupons": "loyalty.rules.read",
        "promotions": "loyalty.rules.read", "risk": "risk.rules.read"}  # fmt: skip
SCOPED = ("earn", "coupons", "promotions")  # forms with an org unit to choose
# Who may change an earn rule or promotion once made: the loyalty service lets HQ admins only
# (within their scope), though REST's loyalty.rules.write admits managers to ask.
CHANGES_RULES = frozenset({"hq_admin"})


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k not in ("csrf", "key")}


async def _page(ctx: PageContext, tab: str, status: int = 200, **values: Any) -> Response:
    tabs = [t for t in TABS if ctx.allowed(READ[t])]
    if tab not in tabs:
        tab = next((t for t in tabs if t != "bonus"), "tiers")  # bonus: its own page
    items: list[dict] = []
    templates: list[dict] = []
    if tab == "tiers":
        items = sorted(await loyalty.tiers(ctx.state, ctx.p), key=lambda t: t.get("rank", 0))
        templates = await loyalty.coupon_templates(ctx.state, ctx.p)  # the birthday gift's choices
    elif tab == "earn":
        items = await loyalty.earn_rules(ctx.state, ctx.p)
    elif tab == "coupons":
        items = templates = await loyalty.coupon_templates(ctx.state, ctx.p)
    elif tab == "promotions":
        items = await loyalty.promotions(ctx.state, ctx.p)
    elif tab == "risk":
        items = await wallet.risk_rules(ctx.state, ctx.p)
    units = (
        (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
        if (tab in SCOPED and ctx.allowed("loyalty.rules.write"))
        or (tab == "risk" and ctx.allowed("risk.rules.write"))
        else []
    )
    page: dict[str, Any] = {"form": {}, "errors": {}, "done": None, "issue": {}, "issue_errors": {},
                            "key": new_key(), **values}  # fmt: skip
    if tab == "tiers" and not page["form"] and (code := ctx.request.query_params.get("edit")):
        found = next((t for t in items if t.get("code") == code), None)
        if found:
            page["form"] = _tier_form(found)
    may_switch = ctx.allowed("loyalty.rules.write") and ctx.p.role in CHANGES_RULES
    switchable = {x.get("id") for x in items if may_switch and ctx.p.may_access(x.get("scope") or "HQ")}
    if tab in EDITABLE and not page["form"] and (rule_id := ctx.request.query_params.get("edit")):
        found = next((x for x in items if x.get("id") == rule_id and rule_id in switchable), None)
        if found:  # an edit of a rule of the caller's scope: its form prefilled (console_rules_edit.py)
            page["form"], page["editing"] = (
                rule_form(tab, found, units, ctx.state.settings.chain_timezone),
                found,
            )
    page.setdefault("editing", None)
    page.setdefault("tag_issue", {})
    page.setdefault("tag_errors", {})
    page.setdefault("tag_key", new_key())
    page.setdefault("preview", preview(ctx, tab, page["form"]))
    page.setdefault("problem", None)
    return ctx.render("console/rules/rules.html", status=status, tab=tab, tabs=tabs, items=items,
                      templates=templates, units=units, switchable=switchable, **page)  # fmt: skip


def _tier_form(t: dict) -> dict[str, str]:
    """A tier as its form shows it (to edit it)."""

    def plain_number(v: Decimal) -> str:
        text = f"{v:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    return {
        "code": t.get("code", ""), "name": t.get("name", ""), "rank": str(t.get("rank", 0)),
        "min_spend_12m": plain_number(Decimal(int(t.get("min_spend_12m") or 0)) / 100),
        "min_points_12m": str(t.get("min_points_12m") or 0),
        "keep_spend_12m": plain_number(Decimal(int(t.get("keep_spend_12m") or 0)) / 100) if t.get("keep_spend_12m") else "",
        "keep_points_12m": str(t.get("keep_points_12m") or ""),
        "discount_bps": plain_number(Decimal(t.get("discount_bps") or 0) / 100),
        "points_multiplier_bps": plain_number(Decimal(t.get("points_multiplier_bps") or 10_000) / 10_000),
        "birthday_points": str(t.get("birthday_points") or ""),
        "birthday_gift_template_id": t.get("birthday_gift_template_id") or "",
    }  # fmt: skip


@router.get("/console/rules")
async def rules(ctx: Ctx, tab: str = "tiers") -> Response:
    _require(ctx, "loyalty.rules.read")
    if tab == "bonus":  # the top-up bonus rules tab has a page of its own (console_bonus.py)
        return RedirectResponse("/console/rules/bonus", status_code=303)
    return await _page(ctx, tab)


@router.get("/console/rules/preview/{kind}")
async def preview_fragment(kind: str, ctx: Ctx) -> Response:
    _require(ctx, "loyalty.rules.read")
    form = {k: v.strip() for k, v in ctx.request.query_params.items()}
    return ctx.render("console/rules/_preview.html", preview=preview(ctx, kind, form), kind=kind)


async def _create(
    ctx: PageContext, tab: str, action: str, parse: Callable[[Reader], Any], make: Callable[[Any], Any],
    done: Callable[[Any], str],
) -> Response:  # fmt: skip
    _require(ctx, action)
    form = await _fields(ctx)
    try:
        body = parse(Reader(ctx, form))
        made = await make(body)
    except Refused as exc:
        return await _page(ctx, tab, 422, form=form, errors=_with_summary(ctx, exc.errors))
    except ChainclubError as exc:
        if exc.reason not in ("invalid_argument", "conflict", "not_found", "out_of_scope"):
            raise
        return await _page(ctx, tab, 422, form=form, errors=_with_summary(ctx, field_errors(exc)))
    return await _page(ctx, tab, 201, done=done(made))


def _with_summary(ctx: PageContext, errors: dict[str, str]) -> dict[str, str]:
    """The messages with a line at the top of the form (the fields hold the details)."""
    return {"_": ctx._("Nothing was saved: correct the marked fields."), **errors}


@router.post("/console/rules/tiers")
async def save_tier(ctx: Ctx) -> Response:
    return await _create(ctx, "tiers", "loyalty.tiers.write", tier_body,
                         lambda b: loyalty.upsert_tier(ctx.state, ctx.request, ctx.p, b),
                         lambda t: ctx._("Saved tier %(name)s.", name=t["name"]))  # fmt: skip


@router.post("/console/rules/earn-rules")
async def create_earn_rule(ctx: Ctx) -> Response:
    return await _create(ctx, "earn", "loyalty.rules.write", earn_body,
                         lambda b: loyalty.create_earn_rule(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created earn rule %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/coupon-templates")
async def create_coupon_template(ctx: Ctx) -> Response:
    return await _create(ctx, "coupons", "loyalty.rules.write", coupon_body,
                         lambda b: loyalty.create_coupon_template(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created coupon template %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/promotions")
async def create_promotion(ctx: Ctx) -> Response:
    return await _create(ctx, "promotions", "loyalty.rules.write", promotion_body,
                         lambda b: loyalty.create_promotion(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created promotion %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/risk-rules")
async def create_risk_rule(ctx: Ctx) -> Response:
    return await _create(ctx, "risk", "risk.rules.write", risk_body,
                         lambda b: wallet.create_risk_rule(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created risk rule %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/issue")
async def issue(ctx: Ctx) -> Response:
    """Issue a coupon template to the member numbers typed (one Idempotency-Key per form shown:
    sending the form again issues nothing more)."""
    _require(ctx, "loyalty.coupons.issue")
    raw = await ctx.form()
    form = await _fields(ctx)
    key = str(raw.get("key") or "")
    numbers = [n for n in re.split(r"[\s,，;；]+", form.get("member_nos", "")) if n]
    errors: dict[str, str] = {}
    if not form.get("template_id"):
        errors["template_id"] = ctx._("Choose a coupon template.")
    if not numbers:
        errors["member_nos"] = ctx._("Enter one or more member numbers.")
    if not errors:
        try:
            body = loyalty.IssueBody.model_validate({"member_nos": numbers})
            reply = await loyalty.issue_coupons(ctx.state, ctx.request, ctx.p, scoped_key(ctx.p, key),
                                                form["template_id"], body)  # fmt: skip
        except ValidationError as exc:
            errors = {"member_nos": "; ".join(field_errors(exc).values())}
        except ChainclubError as exc:
            if exc.reason not in ("invalid_argument", "not_found", "conflict", "failed_precondition",
                                  "idempotency_key_reused", "resource_exhausted"):  # fmt: skip
                raise
            where = str(exc.extra.get("field", ""))
            if where.startswith("member_nos."):
                number = numbers[int(where.split(".")[1])]
                errors = {"member_nos": ctx._("There is no member %(no)s in your scope.", no=number)}
            elif exc.reason == "not_found":
                errors = {"template_id": ctx._("There is no such coupon template.")}
            else:
                errors = {"member_nos": exc.detail}
        else:
            done = ctx._("Issued %(count)s coupons.", count=ctx.fmt.number(int(reply.get("issued", 0))))
            return await _page(ctx, "coupons", 201, done=done)
    return await _page(
        ctx, "coupons", 422, issue=form, issue_errors=_with_summary(ctx, errors), key=key or new_key()
    )


# --- taking rules back --------------------------------------------------------------------------
REFUSALS = {"conflict": 409, "forbidden": 403, "not_found": 404, "out_of_scope": 404, "invalid_argument": 422}
SWITCHES = ("activate", "deactivate")


async def _change(ctx: PageContext, tab: str, action: str, change: Callable[[], Any], done: str,
                  refused: Callable[[ChainclubError], str]) -> Response:  # fmt: skip
    """Run ``change``; the tab again with ``done``, or with why it was refused (its status)."""
    _require(ctx, action)
    try:
        await change()
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        return await _page(ctx, tab, REFUSALS[exc.reason], problem=refused(exc))
    return await _page(ctx, tab, done=done)


@router.post("/console/rules/tiers/{code}/delete")
async def delete_tier(code: str, ctx: Ctx) -> Response:
    def refused(exc: ChainclubError) -> str:
        if exc.reason == "conflict" and exc.extra.get("members"):
            count = int(str(exc.extra["members"]))
            return ctx._("Tier %(name)s was not deleted: %(count)s members are on it. It can be deleted once none is.",
                         name=code, count=ctx.fmt.number(count))  # fmt: skip
        if exc.reason == "conflict":
            return ctx._("Tier %(name)s is where new members start: it cannot be deleted.", name=code)
        return ctx._("There is no tier %(name)s.", name=code)

    return await _change(ctx, "tiers", "loyalty.tiers.write",
                         lambda: loyalty.delete_tier(ctx.state, ctx.request, ctx.p, code[:64]),
                         ctx._("Deleted tier %(name)s.", name=code), refused)  # fmt: skip


def _not_there(ctx: PageContext) -> Callable[[ChainclubError | None], str]:
    def refused(exc: ChainclubError | None) -> str:
        if exc is not None and exc.reason == "forbidden":
            return ctx._("Only HQ changes earn rules and promotions.")
        return ctx._("That rule is not there any more; the list shows the rules now.")

    return refused


@router.post("/console/rules/earn-rules/{rule_id}/{switch}")
async def switch_earn_rule(rule_id: str, switch: str, ctx: Ctx) -> Response:
    if switch not in SWITCHES:
        return await _page(ctx, "earn", 404, problem=_not_there(ctx)(None))
    on = switch == "activate"
    return await _change(ctx, "earn", "loyalty.rules.write",
                         lambda: loyalty.set_earn_rule_active(ctx.state, ctx.request, ctx.p, rule_id[:64], on),
                         ctx._("Activated the earn rule.") if on else ctx._("Deactivated the earn rule: it earns no points."),
                         _not_there(ctx))  # fmt: skip


@router.post("/console/rules/promotions/{promotion_id}/{switch}")
async def switch_promotion(promotion_id: str, switch: str, ctx: Ctx) -> Response:
    if switch not in SWITCHES:
        return await _page(ctx, "promotions", 404, problem=_not_there(ctx)(None))
    on = switch == "activate"
    return await _change(ctx, "promotions", "loyalty.rules.write",
                         lambda: loyalty.set_promotion_active(ctx.state, ctx.request, ctx.p, promotion_id[:64], on),
                         ctx._("Activated the promotion.") if on else ctx._("Deactivated the promotion: it discounts nothing."),
                         _not_there(ctx))  # fmt: skip
