"""The top-up bonus rules (充值赠送) tab of the console's rules screen
(``/console/rules/bonus``): the rules reaching the caller's scope, a form that previews what a
top-up gets while it is typed, and, on the rules in the caller's scope, edit, deactivate or
activate, and delete (refused with a message once a top-up has applied the rule: it can then
only be deactivated). The pages call the use cases of the REST routes (services/gateway/bonus.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kit.errors import ChainclubError
from services.gateway import bonus_rules as bonus
from services.gateway import org
from services.gateway.deps import Page
from services.gateway.permissions import MANAGERS
from services.gateway.web.console_rules import READ, TABS
from services.gateway.web.core import PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.rule_forms import Reader, Refused, _validate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]
HOME = "/console/rules/bonus"
REFUSALS = {"conflict": 409, "forbidden": 403, "not_found": 404, "out_of_scope": 404, "invalid_argument": 422}


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


def _code(path: str) -> str:
    """An org path's unit code (its last segment: codes are the path's segments)."""
    return path.rsplit("/", 1)[-1]


def _days(ctx: PageContext, rule: dict[str, Any]) -> tuple[str, str]:
    """The rule's window as its first and last day in the chain's time zone (ISO dates; "" open):
    a window ends at the start of the day after its last."""
    zone = ZoneInfo(ctx.state.settings.chain_timezone)

    def local(value: str | None, back: timedelta) -> str:
        if not value:
            return ""
        return (
            (datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone) - back).date().isoformat()
        )

    return local(rule.get("starts_at"), timedelta(0)), local(rule.get("ends_at"), timedelta(microseconds=1))


def rule_form(ctx: PageContext, rule: dict[str, Any]) -> dict[str, str]:
    """A rule as its form shows it, in yuan and days (to edit it)."""

    def yuan(fen: int) -> str:
        return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"

    return {
        "name": rule["name"], "scope": _code(rule["scope"]), "min_amount": yuan(int(rule["min_amount"])),
        "bonus_amount": yuan(int(rule["bonus_amount"])), "bonus_points": str(rule["bonus_points"]),
        "starts_at": _days(ctx, rule)[0], "ends_at": _days(ctx, rule)[1],
    }  # fmt: skip


def _read(ctx: PageContext, form: dict[str, str]) -> dict[str, Any]:
    """The typed rule as a REST body (fen, points, the window as the chain's days), or Refused."""
    r = Reader(ctx, form)
    body = {
        "name": r.text("name"), "scope": r.text("scope") or None, "min_amount": r.yuan("min_amount", required=True),
        "bonus_amount": r.yuan("bonus_amount"), "bonus_points": r.whole("bonus_points", 0, 10**12),
        "starts_at": r.day("starts_at"), "ends_at": r.day("ends_at", end=True),
    }  # fmt: skip
    r.check(body["min_amount"] > 0, "min_amount", ctx._("Enter the top-up from which the rule applies."))
    r.check(body["bonus_amount"] > 0 or body["bonus_points"] > 0, "bonus_amount",
            ctx._("Give a bonus in yuan, in points, or both."))  # fmt: skip
    if body["starts_at"] and body["ends_at"]:
        r.check(
            body["ends_at"] > body["starts_at"], "ends_at", ctx._("The last day cannot be before the first.")
        )
    _validate(bonus.BonusRuleBody, body, r.errors)
    return body


def preview_lines(ctx: PageContext, form: dict[str, str]) -> list[str]:
    """What a top-up at the rule's threshold gets, in the reader's words (empty: not enough typed)."""
    r = Reader(ctx, form)
    least, bonus, points = r.yuan("min_amount"), r.yuan("bonus_amount"), r.whole("bonus_points", 0, 10**12)
    if r.errors or least <= 0 or (bonus <= 0 and points <= 0):
        return []
    money, number = ctx.fmt.money, ctx.fmt.number
    if bonus and points:
        gift = ctx._("%(bonus)s bonus and %(points)s points", bonus=money(bonus), points=number(points))
    elif bonus:
        gift = ctx._("%(bonus)s bonus", bonus=money(bonus))
    else:
        gift = ctx._("%(points)s points", points=number(points))
    lines = [
        ctx._("A top-up of %(amount)s gets %(gift)s.", amount=money(least), gift=gift),
        ctx._("The card then holds %(total)s more stored value; larger top-ups get the same bonus.",
              total=money(least + bonus)),
    ]  # fmt: skip
    if bonus > least:
        lines.append(ctx._("Careful: the bonus is more than the top-up itself."))
    return lines


async def _page(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    tabs = [t for t in TABS if ctx.allowed(READ[t])]
    items = [{**x, "days": _days(ctx, x)} for x in await bonus.bonus_rules(ctx.state, ctx.p)]
    writer = ctx.allowed("wallet.bonus_rules.write")
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items if writer else []
    editable = {x["id"] for x in items if writer and ctx.p.may_access(x["scope"])}
    page: dict[str, Any] = {"form": {}, "errors": {}, "done": None, "problem": None, "editing": None,
                            "key": new_key(), **values}  # fmt: skip
    edit = ctx.request.query_params.get("edit")
    if edit and not page["form"] and edit in editable:
        page["editing"] = edit
        page["form"] = rule_form(ctx, next(x for x in items if x["id"] == edit))
    page.setdefault("preview", preview_lines(ctx, page["form"]))
    return ctx.render("console/rules/rules.html", status=status, tab="bonus", tabs=tabs, items=items,
                      units=units, editable=editable, **page)  # fmt: skip


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k not in ("csrf", "key")}


@router.get(HOME)
async def bonus_rules(ctx: Ctx) -> Response:
    _require(ctx, "wallet.bonus_rules.read")
    return await _page(ctx)


@router.get(HOME + "/preview")
async def preview_fragment(ctx: Ctx) -> Response:
    _require(ctx, "wallet.bonus_rules.read")
    form = {k: v.strip() for k, v in ctx.request.query_params.items()}
    return ctx.render("console/rules/_preview.html", preview=preview_lines(ctx, form), kind="bonus")


async def _save(ctx: PageContext, rule_id: str | None) -> Response:
    _require(ctx, "wallet.bonus_rules.write")
    form = await _fields(ctx)
    try:
        body = _read(ctx, form)
        if rule_id is None:
            made = await bonus.create_bonus_rule(ctx.state, ctx.request, ctx.p, bonus.BonusRuleBody(**body))
        else:
            patch = bonus.BonusRulePatch(**body)
            made = await bonus.update_bonus_rule(ctx.state, ctx.request, ctx.p, rule_id[:64], patch)
    except Refused as exc:
        errors = {"_": ctx._("Nothing was saved: correct the marked fields."), **exc.errors}
        return await _page(ctx, 422, form=form, errors=errors, editing=rule_id)
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        if exc.reason in ("not_found", "out_of_scope") and rule_id is not None:
            return await _page(
                ctx, 404, problem=ctx._("That rule is not there any more; the list shows the rules now.")
            )
        errors = {"_": ctx._("Nothing was saved: correct the marked fields."), **field_errors(exc)}
        return await _page(ctx, 422, form=form, errors=errors, editing=rule_id)
    if rule_id is None:
        return await _page(ctx, 201, done=ctx._("Created top-up bonus rule %(name)s.", name=made["name"]))
    return await _page(ctx, done=ctx._("Saved top-up bonus rule %(name)s.", name=made["name"]))


@router.post(HOME)
async def create(ctx: Ctx) -> Response:
    return await _save(ctx, None)


@router.post(HOME + "/{rule_id}/edit")
async def edit(rule_id: str, ctx: Ctx) -> Response:
    return await _save(ctx, rule_id)


@router.post(HOME + "/{rule_id}/{change}")
async def change(rule_id: str, change: str, ctx: Ctx) -> Response:
    """Deactivate, activate or delete a rule; a refusal is shown above the list."""
    _require(ctx, "wallet.bonus_rules.write")
    rule_id = rule_id[:64]
    try:
        if change == "delete":
            await bonus.delete_bonus_rule(ctx.state, ctx.request, ctx.p, rule_id)
            done = ctx._("Deleted the top-up bonus rule.")
        elif change in ("activate", "deactivate"):
            on = change == "activate"
            await bonus.set_bonus_rule_active(ctx.state, ctx.request, ctx.p, rule_id, on)
            done = (
                ctx._("Activated the top-up bonus rule.")
                if on
                else ctx._("Deactivated the top-up bonus rule: top-ups get no bonus from it.")
            )
        else:
            return await _page(
                ctx, 404, problem=ctx._("That rule is not there any more; the list shows the rules now.")
            )
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        if exc.reason == "conflict":
            problem = ctx._("The rule was not deleted: top-ups have applied it. Deactivate it instead.")
        else:
            problem = ctx._("That rule is not there any more; the list shows the rules now.")
        return await _page(ctx, REFUSALS[exc.reason], problem=problem)
    return await _page(ctx, done=done)
