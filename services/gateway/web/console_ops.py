"""The console's operations screens: approvals (审批) of stored-value adjustments by a second HQ
admin (or their rejection with a reason), and risk alerts (风险) with the exact transactions
behind them and the acknowledgement note kept with each; the risk rules' changes from the rules
page's risk tab. The reports (报表) are in console_reports.py.

Every figure comes from the use cases the REST routes call (services/gateway/wallet.py); the
services keep each caller inside its scope."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import wallet
from services.gateway.deps import scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web import console_rules
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.i18n import parse_yuan
from services.gateway.web.rule_forms import Reader, Refused, risk_body

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ApprovalsCtx = Annotated[PageContext, Depends(gate("hq_admin", "auditor"))]
ManagersCtx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

REFUSALS = {
    "forbidden": N_("You requested this adjustment: another HQ admin must approve it."),
    "conflict": N_("This adjustment is no longer waiting for approval."),
    "not_found": N_("There is no such adjustment."),
}


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}


# --- approvals (审批) ------------------------------------------------------------------------------
async def _approvals(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    pending = await wallet.adjustments(ctx.state, ctx.p, "pending_approval")
    applied = (await wallet.adjustments(ctx.state, ctx.p, "applied"))[:20]
    page = {"form": {}, "errors": {}, "key": new_key(), "done": None, "refused": None, "reject_errors": {},
            "reject_reasons": {}, **values}  # fmt: skip
    return ctx.render("console/ops/approvals.html", status=status, pending=pending, applied=applied, **page)


@router.get("/console/approvals")
async def approvals(ctx: ApprovalsCtx) -> Response:
    return await _approvals(ctx)


@router.post("/console/approvals/request")
async def request_adjustment(ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    form = await _fields(ctx)
    errors: dict[str, str] = {}
    text = form.get("amount", "")
    try:
        amount = -parse_yuan(text[1:]) if text.startswith("-") else parse_yuan(text)
        if amount == 0:
            raise ValueError(text)
    except (ValueError, ArithmeticError):
        errors["amount"] = ctx._("Enter a non-zero amount in yuan, e.g. 1200 or -50.50.")
        amount = 0
    if not form.get("card_no"):
        errors["card_no"] = ctx._("Enter the card number.")
    if not form.get("reason"):
        errors["reason"] = ctx._("Say why the balance is adjusted.")
    if not errors:
        try:
            body = wallet.AdjustmentBody.model_validate(
                {"card_no": form["card_no"], "amount": amount, "reason": form["reason"],
                 "bucket": form.get("bucket") or "principal"}
            )  # fmt: skip
            key = scoped_key(ctx.p, form.get("key", ""))
            adj = await wallet.request_adjustment(ctx.state, ctx.request, ctx.p, key, body)
        except ValidationError as exc:
            errors = field_errors(exc)
        except ChainclubError as exc:
            if exc.reason == "not_found":
                errors = {"card_no": ctx._("There is no card %(card)s in your scope.", card=form["card_no"])}
            elif exc.reason in ("invalid_argument", "conflict", "forbidden", "idempotency_key_reused"):
                errors = field_errors(exc)
            else:
                raise
        else:
            if adj["status"] == "applied":
                done = ctx._("Applied at once: %(amount)s on card %(card)s.", amount=ctx.fmt.money(adj["amount"]),
                             card=adj["card_no"])  # fmt: skip
            else:
                done = ctx._("Over the approval threshold: %(amount)s on card %(card)s waits for another HQ admin.",
                             amount=ctx.fmt.money(adj["amount"]), card=adj["card_no"])  # fmt: skip
            return await _approvals(ctx, 201, done=done)
    if errors.get("_") is None and set(errors) - {"card_no", "amount", "reason", "bucket"}:
        errors["_"] = "; ".join(
            v for k, v in errors.items() if k not in ("card_no", "amount", "reason", "bucket")
        )
    return await _approvals(ctx, 422, form=form, errors=errors, key=form.get("key") or new_key())


@router.post("/console/approvals/{adjustment_id}/approve")
async def approve(adjustment_id: str, ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    try:
        adj = await wallet.approve_adjustment(ctx.state, ctx.request, ctx.p, adjustment_id)
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        status = {"forbidden": 403, "conflict": 409, "not_found": 404}[exc.reason]
        return await _approvals(ctx, status, refused=ctx._(REFUSALS[exc.reason]), refused_detail=exc.detail)
    done = ctx._("Approved: %(amount)s on card %(card)s is applied.", amount=ctx.fmt.money(adj["amount"]),
                 card=adj["card_no"])  # fmt: skip
    return await _approvals(ctx, done=done)


@router.post("/console/approvals/{adjustment_id}/reject")
async def reject(adjustment_id: str, ctx: ApprovalsCtx) -> Response:
    _require(ctx, "wallet.adjust")
    reason = (await _fields(ctx)).get("reason", "")
    if not reason or len(reason) > 1000:
        message = ctx._("Say why the adjustment is rejected (at most 1000 characters).")
        return await _approvals(ctx, 422, reject_errors={adjustment_id: message},
                                reject_reasons={adjustment_id: reason})  # fmt: skip
    try:
        adj = await wallet.reject_adjustment(ctx.state, ctx.request, ctx.p, adjustment_id, reason)
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        status = {"forbidden": 403, "conflict": 409, "not_found": 404}[exc.reason]
        refused = ctx._("Only an HQ admin may reject an adjustment.") if exc.reason == "forbidden" else None
        return await _approvals(
            ctx, status, refused=refused or ctx._(REFUSALS[exc.reason]), refused_detail=exc.detail
        )
    done = ctx._("Rejected: %(amount)s on card %(card)s; nothing was moved.", amount=ctx.fmt.money(adj["amount"]),
                 card=adj["card_no"])  # fmt: skip
    return await _approvals(ctx, done=done)


# --- risk (风险) ---------------------------------------------------------------------------------
async def _risk(ctx: PageContext, status: int = 200, **values: Any) -> Response:
    show = ctx.request.query_params.get("show")
    show = show if show in ("open", "acknowledged") else "open"
    cursor = ctx.request.query_params.get("cursor") or None
    alerts = await wallet.risk_alerts(ctx.state, ctx.p, show, 50, cursor[:128] if cursor else None)
    page = {"errors": {}, "notes": {}, "done": None, **values}
    return ctx.render("console/ops/risk.html", status=status, alerts=alerts["items"],
                      next_cursor=alerts["next_cursor"], show=show, **page)  # fmt: skip


@router.get("/console/risk")
async def risk(ctx: ManagersCtx) -> Response:
    return await _risk(ctx)


@router.get("/console/risk/transactions")
async def alert_transactions(ctx: ManagersCtx, card_no: str = "", ids: str = "", at: str = "") -> Response:
    """The exact transactions an alert names (the wallet stores their ids with it), oldest
    first, the one that raised it marked (it happened at the alert's instant)."""
    _require(ctx, "wallet.transactions")
    wanted = [i for i in ids.split(",") if i][:50]
    items: list[dict] = []
    refused = None
    try:
        page = await wallet.transactions(ctx.state, ctx.p, card_no[:32], 500) if wanted else {"items": []}
    except ChainclubError as exc:
        if exc.reason not in ("not_found", "forbidden", "invalid_argument"):
            raise
        refused = ctx._("The card's transactions are outside your scope.")
    else:
        when = _instant(at)
        found = {t["transaction_id"]: t for t in page["items"]}
        items = [
            {**found[i], "raised": when is not None and _instant(found[i]["created_at"]) == when}
            for i in wanted
            if i in found
        ]
    return ctx.render(
        "console/ops/_alert_transactions.html", items=items, refused=refused, card_no=card_no[:32]
    )


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@router.post("/console/risk/alerts/{alert_id}/ack")
async def acknowledge(alert_id: str, ctx: ManagersCtx) -> Response:
    _require(ctx, "risk.alerts.ack")
    form = await _fields(ctx)
    note = form.get("note", "")
    if not note or len(note) > 500:
        message = ctx._("Write a note of what was checked (at most 500 characters).")
        return await _risk(ctx, 422, errors={alert_id: message}, notes={alert_id: note})
    try:
        alert = await wallet.acknowledge_alert(ctx.state, ctx.request, ctx.p, alert_id, note)
    except ChainclubError as exc:
        if exc.reason not in ("conflict", "not_found"):
            raise
        return await _risk(ctx, 409 if exc.reason == "conflict" else 404, errors={alert_id: exc.detail})
    return await _risk(ctx, done=ctx._("Acknowledged the alert of rule %(rule)s.", rule=alert["rule_name"]))


# --- risk rules: changed, turned off and on, deleted (from the rules page's risk tab) ----------------
RULE_REFUSALS = {
    "conflict": N_("Alerts name this rule, so it cannot be deleted: deactivate it instead."),
    "not_found": N_("That rule is not there any more; the list shows the rules now."),
}


def _risk_rule_form(rule: dict) -> dict[str, str]:
    """A rule as the risk form shows it (yuan, minutes, HH:MM), to edit it."""
    amount = rule["kind"] in ("single_amount", "sum_in_window")
    threshold = (
        str(Decimal(int(rule.get("threshold") or 0)) / 100) if amount else str(rule.get("threshold") or "")
    )
    clock = lambda m: f"{int(m or 0) // 60:02d}:{int(m or 0) % 60:02d}"  # noqa: E731
    timed = rule["kind"] == "time_of_day"
    return {
        "name": rule["name"], "kind": rule["kind"], "applies_to": rule.get("applies_to") or "any",
        "action": rule["action"], "threshold": "" if timed else threshold,
        "window_minutes": str(int(rule.get("window_seconds") or 0) // 60) if rule.get("window_seconds") else "",
        "start_minute": clock(rule.get("start_minute")) if timed else "",
        "end_minute": clock(rule.get("end_minute")) if timed else "", "scope": rule.get("scope") or "HQ",
    }  # fmt: skip


@router.get("/console/rules/risk-rules/{rule_id}/edit")
async def edit_risk_rule(rule_id: str, ctx: ManagersCtx) -> Response:
    """The risk tab with the rule's form prefilled (saving it changes that rule)."""
    _require(ctx, "risk.rules.write")
    try:
        rule = await wallet.risk_rule(ctx.state, ctx.p, rule_id[:64])
    except ChainclubError as exc:
        if exc.reason != "not_found":
            raise
        return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
    return await console_rules._page(ctx, "risk", form=_risk_rule_form(rule), editing=rule)


@router.post("/console/rules/risk-rules/{rule_id}/edit")
async def save_risk_rule(rule_id: str, ctx: ManagersCtx) -> Response:
    """Save the edited rule: every field of the form replaces the rule's (validated as a new
    rule is); a refused value comes back next to its field and nothing changes."""
    _require(ctx, "risk.rules.write")
    form = await _fields(ctx)
    form.pop("key", None)
    try:
        rule = await wallet.risk_rule(ctx.state, ctx.p, rule_id[:64])
        body = risk_body(Reader(ctx, form))
        patch = wallet.RiskRulePatch.model_validate(body.model_dump(exclude={"active"}))
        saved = await wallet.update_risk_rule(ctx.state, ctx.request, ctx.p, rule["id"], patch)
    except Refused as exc:
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, exc.errors))  # fmt: skip
    except ValidationError as exc:
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, field_errors(exc)))  # fmt: skip
    except ChainclubError as exc:
        if exc.reason == "not_found":
            return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
        if exc.reason != "invalid_argument":
            raise
        errors = {str(exc.extra.get("field") or "_"): exc.detail}
        return await console_rules._page(ctx, "risk", 422, form=form, editing={"id": rule_id},
                                         errors=console_rules._with_summary(ctx, errors))  # fmt: skip
    return await console_rules._page(ctx, "risk", done=ctx._("Saved risk rule %(name)s.", name=saved["name"]))


@router.post("/console/rules/risk-rules/{rule_id}/{change}")
async def change_risk_rule(rule_id: str, change: str, ctx: ManagersCtx) -> Response:
    """Deactivate (it stops watching; its alerts stay), activate, or delete a rule no alert names."""
    refused = lambda exc: ctx._(RULE_REFUSALS.get(exc.reason, RULE_REFUSALS["not_found"]))  # noqa: E731
    rid = rule_id[:64]
    if change == "delete":
        run = lambda: wallet.delete_risk_rule(ctx.state, ctx.request, ctx.p, rid)  # noqa: E731
        done = ctx._("Deleted the risk rule.")
    elif change in ("activate", "deactivate"):
        on = change == "activate"
        run = lambda: wallet.set_risk_rule_active(ctx.state, ctx.request, ctx.p, rid, on)  # noqa: E731
        done = (
            ctx._("Activated the risk rule.")
            if on
            else ctx._("Deactivated the risk rule: it raises no alerts.")
        )
    else:
        return await console_rules._page(ctx, "risk", 404, problem=ctx._(RULE_REFUSALS["not_found"]))
    return await console_rules._change(ctx, "risk", "risk.rules.write", run, done, refused)
