"""Stored value use cases the REST routes (routes/wallet.py) and the pages share: top-up, its
bonus preview (充值赠送), balance, transactions, HQ adjustments and their approval or rejection,
risk alerts, the inter-store settlement (and its XLSX), stored value outstanding (the liability). The wallet moves the money; these map JSON <-> gRPC."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from pydantic import BaseModel, Field, StrictBool, StrictInt
from sqlalchemy import select

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument, NotFound
from services.gateway import audit, reports
from services.gateway.models import org_units
from services.gateway.protojson import plain, timestamp
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

MAX_FEN = 10**11  # the wallet refuses larger amounts too; past int64 they could not even travel
Fen = Annotated[StrictInt, Field(le=MAX_FEN)]
Channel = Literal["cash", "bank_card", "co_branded", "telecom", "terminal", "online", "batch"]


class TopUpBody(Strict):
    amount: Fen = Field(gt=0, description="fen")
    channel: Channel = "cash"


# --- answers (the JSON of the routes, field for field) -------------------------------------------
class Buckets(BaseModel):
    principal: int
    bonus: int
    total: int


class CardBalance(Buckets):
    status: str = Field(description="the card's status")


class TopUpResult(BaseModel):
    transaction_id: str
    amount: int
    bonus: int
    bonus_points: int
    balance: Buckets
    alerts: list[str] = Field(description="risk rules that raised an alert on it")


class BonusRuleRef(BaseModel):
    id: str
    name: str


class TopUpPreview(BaseModel):
    amount: int
    bonus: int = Field(description="fen the active bonus rule adds")
    bonus_points: int
    rule: BonusRuleRef | None = Field(description="the bonus rule that applies; null: none")


class TransactionOut(BaseModel):
    transaction_id: str
    kind: str
    card_no: str
    amount: int
    principal: int
    bonus: int
    bonus_points: int
    channel: str | None
    acting_store_path: str
    home_store_path: str
    created_at: str
    related_transaction_id: str | None
    note: str | None


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


def balance_json(b: pb.Balance) -> dict:
    return {"principal": b.principal, "bonus": b.bonus, "total": b.total}


def txn_json(t: pb.Transaction) -> dict:
    return {
        "transaction_id": t.transaction_id,
        "kind": t.kind,
        "card_no": t.card_no,
        "amount": t.amount,
        "principal": t.principal,
        "bonus": t.bonus,
        "bonus_points": t.bonus_points,
        "channel": t.channel or None,
        "acting_store_path": t.acting_store_path,
        "home_store_path": t.home_store_path,
        "created_at": t.created_at.ToDatetime().isoformat() + "Z",
        "related_transaction_id": t.related_transaction_id or None,
        "note": t.note or None,
    }


# --- use cases -----------------------------------------------------------------------------------
async def top_up(
    state: GatewayState, request: Request, p: Principal, key: str, card_no: str, body: TopUpBody
) -> dict:
    """充值 at the caller's store, audited. ``key``: the idempotency key already scoped to the
    caller (``deps.scoped_key``). -> ``TopUpResult``."""
    req = pb.TopUpRequest(request_id=key, card_no=card_no, amount=body.amount, channel=body.channel,
                          acting_store_path=p.scope)  # fmt: skip
    t = await state.clients.call(state.clients.wallet.TopUp, req, p)
    await audit.record_alone(
        state, request, p, "wallet.top_up", "card", card_no, t.home_store_path,
        {"transaction_id": t.transaction_id, "amount": t.amount, "bonus": t.bonus},
    )  # fmt: skip
    return {
        "transaction_id": t.transaction_id,
        "amount": t.amount,
        "bonus": t.bonus,
        "bonus_points": t.bonus_points,
        "balance": balance_json(t.balance),
        "alerts": list(t.alerts),
    }


async def preview_top_up(state: GatewayState, p: Principal, card_no: str, body: TopUpBody) -> dict:
    """What a top-up of ``body`` at the caller's store would give now — the bonus of the rule
    the wallet would apply — refused as the top-up would be; changes nothing (no
    Idempotency-Key, no audit). -> ``TopUpPreview``."""
    req = pb.PreviewTopUpRequest(card_no=card_no, amount=body.amount, channel=body.channel,
                                 acting_store_path=p.scope)  # fmt: skip
    t = await state.clients.call(state.clients.wallet.PreviewTopUp, req, p)
    return {
        "amount": t.amount,
        "bonus": t.bonus,
        "bonus_points": t.bonus_points,
        "rule": {"id": t.rule_id, "name": t.rule_name} if t.rule_id else None,
    }


async def balance(state: GatewayState, p: Principal, card_no: str) -> dict:
    """The card's stored value and status. -> ``CardBalance``."""
    b = await state.clients.call(state.clients.wallet.GetBalance, pb.GetBalanceRequest(card_no=card_no), p)
    return {**balance_json(b), "status": b.card_status}


async def card_balance(state: GatewayState, p: Principal, card_no: str) -> dict | None:
    """The card's buckets (``Buckets``), or None when there is no card or the wallet does not
    answer (identifying a member keeps working at the counter while the wallet is down)."""
    if not card_no:
        return None
    try:
        b = await state.clients.call(state.clients.wallet.GetBalance, pb.GetBalanceRequest(card_no=card_no), p,
                                     timeout=3)  # fmt: skip
    except ChainclubError:
        return None
    return balance_json(b)


async def transactions(
    state: GatewayState, p: Principal, card_no: str, limit: int = 50, cursor: str | None = None
) -> dict:
    """The card's transactions, newest first. -> ``TransactionPage``."""
    req = pb.ListTransactionsRequest(card_no=card_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.wallet.ListTransactions, req, p)
    return {"items": [txn_json(t) for t in reply.transactions], "next_cursor": reply.page.next_cursor or None}


# --- adjustments (HQ, maker-checker) -------------------------------------------------------------
class AdjustmentBody(Strict):
    card_no: str = Field(min_length=1, max_length=32)
    amount: StrictInt = Field(ge=-MAX_FEN, le=MAX_FEN, description="fen; negative = debit")
    reason: str = Field(min_length=1, max_length=1000)
    bucket: Literal["principal", "bonus"] = "principal"


async def request_adjustment(
    state: GatewayState, request: Request, p: Principal, key: str, body: AdjustmentBody
) -> dict:
    """An HQ adjustment of a card's stored value, audited: applied at once up to the approval
    threshold, otherwise ``pending_approval`` until another HQ admin approves it. ``key``:
    scoped as for ``top_up``."""
    if body.amount == 0:
        raise InvalidArgument("amount must not be zero", field="amount")
    req = pb.RequestAdjustmentRequest(request_id=key, card_no=body.card_no, amount=body.amount, bucket=body.bucket,
                                      reason=body.reason)  # fmt: skip
    adj = await state.clients.call(state.clients.wallet.RequestAdjustment, req, p)
    await audit.record_alone(state, request, p, "wallet.adjustment.request", "adjustment", adj.id, "HQ",
                             {"card_no": body.card_no, "amount": body.amount, "status": adj.status})  # fmt: skip
    return plain(adj)


async def approve_adjustment(state: GatewayState, request: Request, p: Principal, adjustment_id: str) -> dict:
    """The second HQ admin's approval (the wallet refuses the requester's own), audited."""
    adj = await state.clients.call(
        state.clients.wallet.ApproveAdjustment, pb.ApproveAdjustmentRequest(id=adjustment_id), p
    )
    await audit.record_alone(state, request, p, "wallet.adjustment.approve", "adjustment", adj.id, "HQ",
                             {"card_no": adj.card_no, "amount": adj.amount})  # fmt: skip
    return plain(adj)


class RejectBody(Strict):
    reason: str = Field(min_length=1, max_length=1000)


async def reject_adjustment(
    state: GatewayState, request: Request, p: Principal, adjustment_id: str, reason: str
) -> dict:
    """An HQ admin refuses a pending adjustment with a reason (the requester may withdraw its
    own); nothing moves, audited. Rejecting it again answers the same; an applied one is a
    conflict."""
    if not reason.strip():
        raise InvalidArgument("a rejection needs a reason", field="reason")
    adj = await state.clients.call(
        state.clients.wallet.RejectAdjustment,
        pb.RejectAdjustmentRequest(adjustment_id=adjustment_id, reason=reason),
        p,
    )
    await audit.record_alone(state, request, p, "wallet.adjustment.reject", "adjustment", adj.id, "HQ",
                             {"card_no": adj.card_no, "amount": adj.amount, "reason": adj.rejection_reason})  # fmt: skip
    return plain(adj)


async def adjustments(state: GatewayState, p: Principal, status: str | None = None) -> list[dict]:
    """Adjustments, newest first (``pending_approval``, ``applied`` or ``rejected``; None: all)."""
    reply = await state.clients.call(
        state.clients.wallet.ListAdjustments, pb.ListAdjustmentsRequest(status=status or ""), p
    )
    return [plain(a) for a in reply.adjustments]


# --- risk alerts ---------------------------------------------------------------------------------
async def risk_alerts(
    state: GatewayState, p: Principal, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> dict:
    """Risk alerts of the caller's scope, newest first: ``{"items", "next_cursor"}``."""
    req = pb.ListAlertsRequest(status=status or "", page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.wallet.ListAlerts, req, p)
    return {"items": [plain(a) for a in reply.alerts], "next_cursor": reply.page.next_cursor or None}


class AckBody(Strict):
    note: str = Field(default="", max_length=500, description="what was checked")


async def acknowledge_alert(
    state: GatewayState, request: Request, p: Principal, alert_id: str, note: str | None = None
) -> dict:
    """Acknowledge an open alert; the wallet keeps who did, when and the note, the audit
    record too."""
    alert = await state.clients.call(
        state.clients.wallet.AcknowledgeAlert, pb.AcknowledgeAlertRequest(id=alert_id, note=note or ""), p
    )
    await audit.record_alone(state, request, p, "risk.alert.ack", "alert", alert_id, alert.home_store_path,
                             {"note": note} if note else None)  # fmt: skip
    return plain(alert)


# --- risk rules (HQ writes; managers and auditors read) ------------------------------------------
class RiskRuleBody(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["single_amount", "count_in_window", "sum_in_window", "time_of_day", "chain_velocity"]
    threshold: StrictInt = Field(default=0, ge=0, le=10**15)
    window_seconds: StrictInt | None = Field(default=None, ge=1, le=31 * 86400)
    action: Literal["alert", "block"]
    applies_to: Literal["topup", "payment", "any"] = "any"
    start_minute: StrictInt = Field(
        default=0, ge=0, le=1439, description="time_of_day: from (chain local time)"
    )
    end_minute: StrictInt = Field(default=0, ge=0, le=1439, description="time_of_day: until (exclusive)")
    active: StrictBool = True
    scope: str = Field(
        default="HQ", min_length=2, max_length=300,
        description="org path whose transactions the rule watches (HQ: everywhere; a region: its subtree)",
    )  # fmt: skip


class RiskRulePatch(Strict):
    """The fields of a rule to change; the others keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: (
        Literal["single_amount", "count_in_window", "sum_in_window", "time_of_day", "chain_velocity"] | None
    ) = None
    threshold: StrictInt | None = Field(default=None, ge=0, le=10**15)
    window_seconds: StrictInt | None = Field(default=None, ge=0, le=31 * 86400)
    action: Literal["alert", "block"] | None = None
    applies_to: Literal["topup", "payment", "any"] | None = None
    start_minute: StrictInt | None = Field(default=None, ge=0, le=1439)
    end_minute: StrictInt | None = Field(default=None, ge=0, le=1439)
    scope: str | None = Field(default=None, min_length=2, max_length=300)


async def risk_rules(state: GatewayState, p: Principal) -> list[dict]:
    reply = await state.clients.call(state.clients.wallet.ListRiskRules, pb.ListRiskRulesRequest(), p)
    return [plain(r) for r in reply.rules]


async def create_risk_rule(state: GatewayState, request: Request, p: Principal, body: RiskRuleBody) -> dict:
    """A risk rule over the whole chain (HQ), audited."""
    req = pb.RiskRule(name=body.name, kind=body.kind, threshold=body.threshold, window_seconds=body.window_seconds or 0,
                      action=body.action, applies_to=body.applies_to, start_minute=body.start_minute,
                      end_minute=body.end_minute, active=body.active, scope=body.scope)  # fmt: skip
    rule = await state.clients.call(state.clients.wallet.CreateRiskRule, req, p)
    await audit.record_alone(
        state, request, p, "risk.rule.create", "risk_rule", rule.id, rule.scope or "HQ", body.model_dump()
    )
    return plain(rule)


async def risk_rule(state: GatewayState, p: Principal, rule_id: str) -> dict:
    """One rule the caller can see (another's is a 404, as the wallet answers)."""
    for rule in await risk_rules(state, p):
        if rule["id"] == rule_id:
            return rule
    raise NotFound(f"no risk rule {rule_id!r}")


async def update_risk_rule(
    state: GatewayState, request: Request, p: Principal, rule_id: str, patch: RiskRulePatch
) -> dict:
    """Change the given fields of a rule (the wallet checks the whole result), audited."""
    current = await risk_rule(state, p, rule_id)
    changes = patch.model_dump(exclude_none=True)
    merged = {**current, **changes}
    req = pb.RiskRule(
        id=rule_id, name=merged["name"], kind=merged["kind"], threshold=int(merged.get("threshold", 0)),
        window_seconds=int(merged.get("window_seconds", 0)), action=merged["action"],
        applies_to=merged.get("applies_to", "any"), start_minute=int(merged.get("start_minute", 0)),
        end_minute=int(merged.get("end_minute", 0)), scope=merged.get("scope", "HQ"),
    )  # fmt: skip
    rule = await state.clients.call(state.clients.wallet.UpdateRiskRule, req, p)
    await audit.record_alone(state, request, p, "risk.rule.update", "risk_rule", rule.id, rule.scope, changes)
    return plain(rule)


async def set_risk_rule_active(
    state: GatewayState, request: Request, p: Principal, rule_id: str, active: bool
) -> dict:
    """Turn a rule off (it stops watching; its alerts stay) or on again, audited."""
    req = pb.SetRiskRuleActiveRequest(id=rule_id, active=active)
    rule = await state.clients.call(state.clients.wallet.SetRiskRuleActive, req, p)
    action = "risk.rule.activate" if active else "risk.rule.deactivate"
    await audit.record_alone(state, request, p, action, "risk_rule", rule.id, rule.scope, None)
    return plain(rule)


async def delete_risk_rule(state: GatewayState, request: Request, p: Principal, rule_id: str) -> None:
    """Delete a rule no alert names (a conflict otherwise: deactivate it), audited."""
    rule = await risk_rule(state, p, rule_id)
    await state.clients.call(state.clients.wallet.DeleteRiskRule, pb.DeleteRiskRuleRequest(id=rule_id), p)
    await audit.record_alone(state, request, p, "risk.rule.delete", "risk_rule", rule_id, rule.get("scope", "HQ"),
                             {"name": rule["name"]})  # fmt: skip


# --- inter-store settlement of stored value --------------------------------------------------------
async def settlement(
    state: GatewayState, p: Principal, start: datetime | None = None, to: datetime | None = None
) -> list[dict]:
    """Per store of the caller's scope: stored value taken in, spent, and the net."""
    req = pb.SettlementRequest(to=timestamp(to))
    if start is not None:
        getattr(req, "from").CopyFrom(timestamp(start))
    reply = await state.clients.call(state.clients.wallet.Settlement, req, p)
    return [plain(s) for s in reply.stores]


def settlement_workbook(items: list[dict], start: datetime | None, to: datetime | None):  # type: ignore[no-untyped-def]
    """The settlement as a spooled XLSX (``reports.spooled``)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("settlement")
    sheet.append(["store_path", "taken_in_fen", "spent_fen", "net_fen", "from", "to"])
    for row in items:
        sheet.append([row["store_path"], row["taken_in"], row["spent"], row["net"],
                      start.isoformat() if start else "", to.isoformat() if to else ""])  # fmt: skip
    return reports.spooled(book)


async def settlement_xlsx(
    state: GatewayState, request: Request, p: Principal, start: datetime | None, to: datetime | None
) -> StreamingResponse:
    """The settlement as a streamed XLSX, the export audited."""
    items = await settlement(state, p, start, to)
    spool = await asyncio.to_thread(settlement_workbook, items, start, to)
    await audit.record_alone(state, request, p, "wallet.settlement.export", "report", "settlement", p.scope,
                             {"from": str(start), "to": str(to), "rows": len(items)})  # fmt: skip
    return reports.xlsx_response(spool, "settlement.xlsx")


# --- stored value outstanding (the liability) ----------------------------------------------------
class Liability(BaseModel):
    org_unit: str = Field(description="the org path summed over")
    principal: int
    bonus: int
    total: int
    accounts: int = Field(description="accounts holding stored value")


async def org_unit_path(state: GatewayState, p: Principal, org_unit: str | None) -> str:
    """The path of ``org_unit`` (a code or a path) in the caller's scope, or the caller's scope;
    unknown and out of scope are the same 422 on ``org_unit``."""
    if not org_unit:
        return p.scope
    column = org_units.c.path if "/" in org_unit else org_units.c.code
    async with state.db.sessions() as session:
        unit = (await session.execute(select(org_units.c.path).where(column == org_unit))).first()
    if unit is None or not p.may_access(unit.path):
        raise InvalidArgument(f"unknown org unit {org_unit!r}", field="org_unit")
    return unit.path


async def liability(state: GatewayState, p: Principal, org_unit_path: str | None = None) -> dict:
    """Stored value outstanding now: the balances of the cards whose home store lies within
    ``org_unit_path`` (default the caller's scope), summed by the wallet. -> ``Liability``."""
    reply = await state.clients.call(
        state.clients.wallet.GetLiability, pb.GetLiabilityRequest(org_path=org_unit_path or ""), p
    )
    return {"org_unit": reply.org_path, "principal": reply.principal, "bonus": reply.bonus,
            "total": reply.total, "accounts": reply.accounts}  # fmt: skip
