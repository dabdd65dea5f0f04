"""The console's rewards screen (积分商城, ``/console/rewards``): the gifts members redeem points
for, with their price in points, the stock left, how many were redeemed (in the reader's scope)
and whether they are on offer; and the referral rule (推荐有礼) with a preview sentence of what a
referral gives. HQ admins add and edit rewards (a stock change restocks or takes units out),
deactivate and activate them, delete one never redeemed, and set the referral rule; the other
console roles read. A refused value comes back next to its field (422) and nothing changes.

The pages call the use cases of the REST routes (services/gateway/rewards.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import loyalty, rewards
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import PageContext, PageForbidden, PageRoute, field_errors, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]
REFUSALS = {"conflict": 409, "forbidden": 403, "not_found": 404, "out_of_scope": 404, "invalid_argument": 422}
MAX_STOCK = rewards.MAX_STOCK
MAX_POINTS = 10**12


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}


def _whole(
    ctx: PageContext, form: dict[str, str], name: str, low: int, high: int, errors: dict[str, str]
) -> int:
    """A whole number typed in ``low..high`` (a minus sign allowed when ``low`` is negative)."""
    text = form.get(name, "").replace(",", "").replace("，", "")
    if not text:
        return 0
    if not re.fullmatch(r"[+-]?\d{1,13}", text) or not low <= int(text) <= high:
        errors[name] = ctx._("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return 0
    return int(text)


def _summary(ctx: PageContext, errors: dict[str, str]) -> dict[str, str]:
    return {"_": ctx._("Nothing was saved: correct the marked fields."), **errors}


# --- the referral rule's preview ----------------------------------------------------------------
def _template_name(templates: list[dict], template_id: str) -> str:
    return next((t["name"] for t in templates if t["id"] == template_id), "")


def referral_preview(ctx: PageContext, rule: dict[str, Any], templates: list[dict]) -> list[str]:
    """What a referral gives under ``rule`` (as typed or as saved), in sentences."""
    out: list[str] = []
    points = int(rule.get("referrer_points") or 0)
    referrer_coupon = _template_name(templates, str(rule.get("referrer_coupon_template_id") or ""))
    referee_coupon = _template_name(templates, str(rule.get("referee_coupon_template_id") or ""))
    if not rule.get("active"):
        out.append(ctx._("The rule is off: a referral gives nothing when the new member registers."))
    else:
        gifts = []
        if points:
            gifts.append(ctx._("%(points)s points", points=ctx.fmt.number(points)))
        if referrer_coupon:
            gifts.append(ctx._("a coupon “%(name)s”", name=referrer_coupon))
        if gifts:
            out.append(
                ctx._("Refer a new member: the referrer gets %(gifts)s.", gifts=ctx._(" and ").join(gifts))
            )
        else:
            out.append(ctx._("Refer a new member: the referrer gets nothing when the new member registers."))
        if referee_coupon:
            out.append(ctx._("The new member gets a coupon “%(name)s”.", name=referee_coupon))
        out.append(ctx._("Once per new member, when it registers naming its referrer."))
    first_purchase = ctx.state.settings.loyalty_referral_points
    if first_purchase:
        out.append(
            ctx._(
                "Besides, the referrer gets %(points)s points on the new member's first purchase.",
                points=ctx.fmt.number(first_purchase),
            )
        )
    return out


def _referral_form(rule: dict[str, Any]) -> dict[str, str]:
    return {
        "active": "on" if rule.get("active") else "",
        "referrer_points": str(rule.get("referrer_points") or ""),
        "referrer_coupon_template_id": str(rule.get("referrer_coupon_template_id") or ""),
        "referee_coupon_template_id": str(rule.get("referee_coupon_template_id") or ""),
    }


def _read_referral(ctx: PageContext, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed rule as the REST body, and a message per refused field."""
    errors: dict[str, str] = {}
    body = {
        "active": form.get("active") == "on",
        "referrer_points": _whole(ctx, form, "referrer_points", 0, 10**9, errors),
        "referrer_coupon_template_id": form.get("referrer_coupon_template_id", ""),
        "referee_coupon_template_id": form.get("referee_coupon_template_id", ""),
    }
    gives = (
        body["referrer_points"] or body["referrer_coupon_template_id"] or body["referee_coupon_template_id"]
    )
    if body["active"] and not gives and "referrer_points" not in errors:
        errors["referrer_points"] = ctx._("An active rule must give points or a coupon.")
    return body, errors


# --- the page -----------------------------------------------------------------------------------
def _reward_form(reward: dict[str, Any]) -> dict[str, str]:
    return {
        "id": reward["id"],
        "name": reward["name"],
        "points_cost": str(reward["points_cost"]),
        "stock_delta": "",
    }


async def _page(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    items = await rewards.list_rewards(ctx.state, ctx.p)
    rule = await rewards.referral_rule(ctx.state, ctx.p)
    templates = [t for t in await loyalty.coupon_templates(ctx.state, ctx.p) if t.get("active")]
    page: dict[str, Any] = {"form": {}, "errors": {}, "done": None, "problem": None, "rule_form": None,
                            "rule_errors": {}, **values}  # fmt: skip
    editing = None
    if not page["form"] and (wanted := ctx.request.query_params.get("edit")):
        editing = next((r for r in items if r["id"] == wanted), None)
        if editing:
            page["form"] = _reward_form(editing)
    elif page["form"].get("id"):
        editing = next((r for r in items if r["id"] == page["form"]["id"]), None)
    if page["rule_form"] is None:
        page["rule_form"] = _referral_form(rule)
    typed, _ = _read_referral(ctx, page["rule_form"])
    return ctx.render(
        "console/rewards/rewards.html", status=status, items=items, rule=rule, templates=templates,
        editing=editing, rule_preview=referral_preview(ctx, typed, templates), **page,
    )  # fmt: skip


@router.get("/console/rewards")
async def rewards_page(ctx: Ctx) -> Response:
    _require(ctx, "loyalty.rewards.read")
    return await _page(ctx)


@router.get("/console/rewards/referral-preview")
async def referral_preview_fragment(ctx: Ctx) -> Response:
    _require(ctx, "loyalty.rewards.read")
    form = {k: v.strip() for k, v in ctx.request.query_params.items()}
    typed, _ = _read_referral(ctx, form)
    templates = [t for t in await loyalty.coupon_templates(ctx.state, ctx.p) if t.get("active")]
    return ctx.render("console/rewards/_preview.html", preview=referral_preview(ctx, typed, templates))


@router.post("/console/rewards")
async def save_reward(ctx: Ctx) -> Response:
    """Add a reward, or (with ``id``) edit one: name, price and a stock change."""
    _require(ctx, "loyalty.rewards.write")
    form = await _fields(ctx)
    errors: dict[str, str] = {}
    editing = bool(form.get("id"))
    if not form.get("name") or len(form["name"]) > 100:
        errors["name"] = ctx._("Enter a name of at most 100 characters.")
    cost = _whole(ctx, form, "points_cost", 1, MAX_POINTS, errors)
    if not cost and "points_cost" not in errors:
        errors["points_cost"] = ctx._("Enter the price in points, more than zero.")
    if editing:
        delta = _whole(ctx, form, "stock_delta", -MAX_STOCK, MAX_STOCK, errors)
    else:
        stock = _whole(ctx, form, "stock", 0, MAX_STOCK, errors)
    if errors:
        return await _page(ctx, 422, form=form, errors=_summary(ctx, errors))
    try:
        if editing:
            body = rewards.RewardPatch(name=form["name"], points_cost=cost, stock_delta=delta)
            made = await rewards.update_reward(ctx.state, ctx.request, ctx.p, form["id"][:64], body)
            done = ctx._("Saved reward %(name)s: %(stock)s in stock.", name=made["name"],
                         stock=ctx.fmt.number(int(made["stock"])))  # fmt: skip
        else:
            made = await rewards.create_reward(ctx.state, ctx.request, ctx.p,
                                               rewards.RewardBody(name=form["name"], points_cost=cost, stock=stock))  # fmt: skip
            done = ctx._("Added reward %(name)s.", name=made["name"])
    except ValidationError as exc:
        return await _page(ctx, 422, form=form, errors=_summary(ctx, field_errors(exc)))
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        if exc.reason == "conflict":
            errors = {
                "stock_delta": ctx._("There are not that many in stock: the list shows how many are left.")
            }
        elif exc.reason in ("not_found", "out_of_scope"):
            return await _page(
                ctx, 404, problem=ctx._("That reward is not there any more; the list shows the rewards now.")
            )
        else:
            errors = field_errors(exc)
        return await _page(ctx, REFUSALS[exc.reason], form=form, errors=_summary(ctx, errors))
    return await _page(ctx, 200 if editing else 201, done=done)


@router.post("/console/rewards/{reward_id}/{change}")
async def change_reward(reward_id: str, change: str, ctx: Ctx) -> Response:
    """Deactivate, activate or delete a reward (a redeemed one cannot be deleted: said so)."""
    _require(ctx, "loyalty.rewards.write")
    reward_id = reward_id[:64]
    try:
        if change in ("activate", "deactivate"):
            made = await rewards.set_reward_active(
                ctx.state, ctx.request, ctx.p, reward_id, change == "activate"
            )
            done = (
                ctx._("%(name)s is on offer again.", name=made["name"])
                if change == "activate"
                else ctx._(
                    "%(name)s is off the catalog: it cannot be redeemed until activated.", name=made["name"]
                )
            )
        elif change == "delete":
            await rewards.delete_reward(ctx.state, ctx.request, ctx.p, reward_id)
            done = ctx._("Deleted the reward.")
        else:
            return await _page(
                ctx, 404, problem=ctx._("That reward is not there any more; the list shows the rewards now.")
            )
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        if exc.reason == "conflict":
            problem = ctx._(
                "This reward was redeemed, so it is kept for its redemptions: deactivate it instead."
            )
        else:
            problem = ctx._("That reward is not there any more; the list shows the rewards now.")
        return await _page(ctx, REFUSALS[exc.reason], problem=problem)
    return await _page(ctx, done=done)


@router.post("/console/rewards/referral-rule")
async def save_referral_rule(ctx: Ctx) -> Response:
    _require(ctx, "loyalty.referral.write")
    form = await _fields(ctx)
    body, errors = _read_referral(ctx, form)
    if errors:
        return await _page(ctx, 422, rule_form=form, rule_errors=_summary(ctx, errors))
    try:
        await rewards.set_referral_rule(ctx.state, ctx.request, ctx.p, rewards.ReferralRuleBody(**body))
    except ValidationError as exc:
        return await _page(ctx, 422, rule_form=form, rule_errors=_summary(ctx, field_errors(exc)))
    except ChainclubError as exc:
        if exc.reason != "invalid_argument":
            raise
        where = str(exc.extra.get("field", "_"))
        message = (
            ctx._("Choose a coupon template from the list.") if where.endswith("template_id") else exc.detail
        )
        return await _page(ctx, 422, rule_form=form, rule_errors=_summary(ctx, {where: message}))
    return await _page(ctx, done=ctx._("Saved the referral rule."))
