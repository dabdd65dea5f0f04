"""Changing rules from their rows on the console's rules screen (HQ, within its scope, as the
loyalty service allows): edit an earn rule, coupon template or promotion (the tab's form
prefilled, ``?edit=<id>``; validated and previewed as on create), delete an earn rule or
promotion nothing used (after a confirmation; a used one is refused with a message suggesting
to deactivate it), stop or restart a coupon template, and issue a coupon template to every
member with a tag (the result says how many were issued and skipped).

The pages call the REST routes' use cases (services/gateway/loyalty.py). This router is
installed before console_rules' so its paths win over the ``{switch}`` routes there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import loyalty, loyalty_rule_edits
from services.gateway.deps import scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web.console_rules import _change, _fields, _not_there, _page, _require, _with_summary
from services.gateway.web.core import PageContext, PageRoute, field_errors, gate, new_key
from services.gateway.web.rule_edit_forms import as_patch
from services.gateway.web.rule_forms import Reader, Refused, coupon_body, earn_body, promotion_body

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

PARSERS: dict[str, Callable[[Reader], Any]] = {"earn": earn_body, "coupons": coupon_body,
                                               "promotions": promotion_body}  # fmt: skip
LISTS = {"earn": loyalty.earn_rules, "coupons": loyalty.coupon_templates, "promotions": loyalty.promotions}
UPDATES = {"earn": loyalty_rule_edits.update_earn_rule, "coupons": loyalty_rule_edits.update_coupon_template,
           "promotions": loyalty_rule_edits.update_promotion}  # fmt: skip


async def _current(ctx: PageContext, tab: str, rule_id: str) -> dict[str, Any]:
    """The rule as the caller's list shows it ({} when it is not there)."""
    return next((x for x in await LISTS[tab](ctx.state, ctx.p) if x.get("id") == rule_id), {})


async def _named(ctx: PageContext, tab: str, rule_id: str) -> str:
    return str((await _current(ctx, tab, rule_id)).get("name", ""))


def _saved(ctx: PageContext, tab: str, name: str) -> str:
    if tab == "earn":
        return ctx._("Saved earn rule %(name)s.", name=name)
    if tab == "coupons":
        return ctx._("Saved coupon template %(name)s.", name=name)
    return ctx._("Saved promotion %(name)s.", name=name)


def _edit_refusal(ctx: PageContext, tab: str, exc: ChainclubError, current: dict[str, Any]) -> dict[str, str]:
    """A refused edit's message next to its field, in the reader's language where it is one
    the page knows (a fixed face value, a used rule's name)."""
    field = str(exc.extra.get("field", "_"))
    if exc.reason == "conflict" and tab == "coupons":
        return {field: ctx._("Coupons of this template were issued already: its value cannot change. "
                             "Add a new template instead.")}  # fmt: skip
    if field == "total_quantity" and current.get("issued"):
        return {field: ctx._("It cannot be less than the %(count)s coupons issued already.",
                             count=ctx.fmt.number(int(current["issued"])))}  # fmt: skip
    if exc.reason == "conflict" and field == "name":
        return {"name": ctx._("Purchases name this rule already: its name cannot change.")}
    if exc.reason in ("not_found", "out_of_scope", "forbidden"):
        return {"_": _not_there(ctx)(exc)}
    return field_errors(exc)


async def _edit(ctx: PageContext, tab: str, rule_id: str) -> Response:
    _require(ctx, "loyalty.rules.write")
    form = await _fields(ctx)
    current = await _current(ctx, tab, rule_id[:64])
    editing = {
        "id": rule_id[:64],
        "name": current.get("name") or form.get("name", ""),
        "issued": current.get("issued"),
    }
    try:
        patch = as_patch(tab, PARSERS[tab](Reader(ctx, form)))
        saved = await UPDATES[tab](ctx.state, ctx.request, ctx.p, rule_id[:64], patch)
    except Refused as exc:
        errors = exc.errors
    except (ValidationError, RequestValidationError) as exc:
        errors = field_errors(exc)
    except ChainclubError as exc:
        if exc.reason not in ("invalid_argument", "conflict", "not_found", "out_of_scope", "forbidden"):
            raise
        errors = _edit_refusal(ctx, tab, exc, current)
    else:
        return await _page(ctx, tab, done=_saved(ctx, tab, saved["name"]))
    return await _page(ctx, tab, 422, form=form, errors=_with_summary(ctx, errors), editing=editing)


@router.post("/console/rules/earn-rules/{rule_id}/edit")
async def edit_earn_rule(rule_id: str, ctx: Ctx) -> Response:
    return await _edit(ctx, "earn", rule_id)


@router.post("/console/rules/coupon-templates/{template_id}/edit")
async def edit_coupon_template(template_id: str, ctx: Ctx) -> Response:
    return await _edit(ctx, "coupons", template_id)


@router.post("/console/rules/promotions/{promotion_id}/edit")
async def edit_promotion(promotion_id: str, ctx: Ctx) -> Response:
    return await _edit(ctx, "promotions", promotion_id)


# --- deleting what nothing used -----------------------------------------------------------------
def _delete_refusal(ctx: PageContext, tab: str, name: str) -> Callable[[ChainclubError], str]:
    def refused(exc: ChainclubError) -> str:
        if exc.reason == "conflict" and tab == "earn":
            return ctx._("Earn rule %(name)s was not deleted: members have earned points under it, and their "
                         "history names it. Deactivate it instead.", name=name)  # fmt: skip
        if exc.reason == "conflict":
            return ctx._("Promotion %(name)s was not deleted: purchases took its discount, and their history "
                         "names it. Deactivate it instead.", name=name)  # fmt: skip
        return _not_there(ctx)(exc)

    return refused


@router.post("/console/rules/earn-rules/{rule_id}/delete")
async def delete_earn_rule(rule_id: str, ctx: Ctx) -> Response:
    name = await _named(ctx, "earn", rule_id[:64])
    return await _change(ctx, "earn", "loyalty.rules.write",
                         lambda: loyalty.delete_earn_rule(ctx.state, ctx.request, ctx.p, rule_id[:64]),
                         ctx._("Deleted earn rule %(name)s.", name=name), _delete_refusal(ctx, "earn", name))  # fmt: skip


@router.post("/console/rules/promotions/{promotion_id}/delete")
async def delete_promotion(promotion_id: str, ctx: Ctx) -> Response:
    name = await _named(ctx, "promotions", promotion_id[:64])
    return await _change(ctx, "promotions", "loyalty.rules.write",
                         lambda: loyalty.delete_promotion(ctx.state, ctx.request, ctx.p, promotion_id[:64]),
                         ctx._("Deleted promotion %(name)s.", name=name),
                         _delete_refusal(ctx, "promotions", name))  # fmt: skip


# --- stopping and restarting a coupon template -------------------------------------------------
@router.post("/console/rules/coupon-templates/{template_id}/{switch}")
async def switch_coupon_template(template_id: str, switch: str, ctx: Ctx) -> Response:
    if switch not in ("activate", "deactivate"):
        return await _page(ctx, "coupons", 404, problem=_not_there(ctx)(None))
    on = switch == "activate"
    return await _change(ctx, "coupons", "loyalty.rules.write",
                         lambda: loyalty.set_coupon_template_active(ctx.state, ctx.request, ctx.p, template_id[:64], on),
                         ctx._("Restarted the coupon template: it can be issued again.") if on
                         else ctx._("Stopped the coupon template: it is issued no more; coupons members hold stay usable."),
                         _not_there(ctx))  # fmt: skip


# --- issuing to a tag ---------------------------------------------------------------------------
@router.post("/console/rules/issue-tag")
async def issue_to_tag(ctx: Ctx) -> Response:
    """Issue a coupon template to every member tagged so in the caller's scope (one
    Idempotency-Key per form shown: sending the form again issues nothing more)."""
    _require(ctx, "loyalty.coupons.issue")
    form = await _fields(ctx)
    key = str((await ctx.form()).get("key") or "")
    errors: dict[str, str] = {}
    if not form.get("template_id"):
        errors["template_id"] = ctx._("Choose a coupon template.")
    if not form.get("tag") or len(form["tag"]) > 64:
        errors["tag"] = ctx._("Enter a tag of at most 64 characters.")
    if not errors:
        try:
            body = loyalty.IssueBody.model_validate({"tag": form["tag"]})
            reply = await loyalty.issue_coupons(ctx.state, ctx.request, ctx.p, scoped_key(ctx.p, key),
                                                form["template_id"], body)  # fmt: skip
        except ChainclubError as exc:
            if exc.reason not in ("invalid_argument", "not_found", "conflict", "idempotency_key_reused"):
                raise
            if exc.reason == "idempotency_key_reused":  # the tagged members changed since it was sent
                key = new_key()
                errors = {
                    "tag": ctx._(
                        "Members were tagged or untagged since this form was first sent, so "
                        "nothing more was issued. Check the coupons issued, then send the form again."
                    )
                }
            elif exc.reason == "not_found":
                errors = {"template_id": ctx._("There is no such coupon template.")}
            else:
                errors = {"tag": exc.detail}
        else:
            done = ctx._("Issued %(issued)s coupons to the %(members)s members tagged %(tag)s; %(skipped)s skipped "
                         "(a per-member limit or the total quantity was reached).",
                         issued=ctx.fmt.number(reply["issued"]), members=ctx.fmt.number(reply["members"]),
                         tag=form["tag"], skipped=ctx.fmt.number(reply["skipped"]))  # fmt: skip
            if not reply["members"]:
                done = ctx._(
                    "No member in your scope has the tag %(tag)s: nothing was issued.", tag=form["tag"]
                )
            return await _page(ctx, "coupons", 201, done=done)
    return await _page(ctx, "coupons", 422, tag_issue=form, tag_errors=_with_summary(ctx, errors),
                       tag_key=key or new_key())  # fmt: skip
