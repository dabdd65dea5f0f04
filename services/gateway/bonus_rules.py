"""Top-up bonus rules (充值赠送) over the wallet: listed in the caller's view, made in its scope,
changed, turned off and on, and deleted while no top-up has applied them; every change audited.
REST (routes/wallet.py) and the console's rules tab (web/console_bonus.py) call these."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from pydantic import Field

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import NotFound
from services.gateway import audit
from services.gateway.org import unit_path
from services.gateway.protojson import plain, timestamp
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState
from services.gateway.wallet import Fen


class BonusRuleBody(Strict):
    """A top-up bonus rule: from ``min_amount`` fen, ``bonus_amount`` fen and/or points."""

    name: str = Field(min_length=1, max_length=200)
    min_amount: Fen = Field(gt=0)
    bonus_amount: Fen = Field(default=0, ge=0)
    bonus_points: Fen = Field(default=0, ge=0)
    scope: str | None = Field(default=None, max_length=64, description="org unit code; default: the caller's")
    starts_at: datetime | None = None
    ends_at: datetime | None = None


async def bonus_rules(state: GatewayState, p: Principal) -> list[dict]:
    reply = await state.clients.call(state.clients.wallet.ListBonusRules, pb.ListBonusRulesRequest(), p)
    return [plain(r) for r in reply.rules]


async def create_bonus_rule(state: GatewayState, request: Request, p: Principal, body: BonusRuleBody) -> dict:
    """A bonus rule at ``body.scope`` (an org unit code in the caller's scope; default the
    caller's own), audited."""
    scope = await unit_path(state, p, body.scope, field="scope") if body.scope else p.scope
    req = pb.BonusRule(name=body.name, min_amount=body.min_amount, bonus_amount=body.bonus_amount,
                       bonus_points=body.bonus_points, scope=scope, starts_at=timestamp(body.starts_at),
                       ends_at=timestamp(body.ends_at))  # fmt: skip
    rule = await state.clients.call(state.clients.wallet.CreateBonusRule, req, p)
    await audit.record_alone(state, request, p, "wallet.bonus_rule.create", "bonus_rule", rule.id, scope,
                             body.model_dump(mode="json"))  # fmt: skip
    return plain(rule)


class BonusRulePatch(Strict):
    """The fields of a bonus rule to change; the others stay. ``starts_at``/``ends_at`` given as
    null open the window on that side."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    min_amount: Fen | None = Field(default=None, gt=0)
    bonus_amount: Fen | None = Field(default=None, ge=0)
    bonus_points: Fen | None = Field(default=None, ge=0)
    scope: str | None = Field(default=None, max_length=64, description="org unit code")
    starts_at: datetime | None = None
    ends_at: datetime | None = None


async def bonus_rule(state: GatewayState, p: Principal, rule_id: str) -> dict:
    """One bonus rule the caller sees (not_found otherwise)."""
    for rule in await bonus_rules(state, p):
        if rule["id"] == rule_id:
            return rule
    raise NotFound(f"bonus rule {rule_id} not found")


async def update_bonus_rule(
    state: GatewayState, request: Request, p: Principal, rule_id: str, body: BonusRulePatch
) -> dict:
    """``body``'s fields over the rule's current ones, checked by the wallet as on create; audited."""
    current = await bonus_rule(state, p, rule_id)
    given = body.model_dump(exclude_unset=True)
    scope = await unit_path(state, p, body.scope, field="scope") if body.scope else current["scope"]

    def when(key: str):  # type: ignore[no-untyped-def]
        if key in given:
            return timestamp(given[key])
        return timestamp(datetime.fromisoformat(current[key])) if current.get(key) else None

    req = pb.BonusRule(
        id=rule_id, name=given.get("name") or current["name"],
        min_amount=given.get("min_amount") or current["min_amount"],
        bonus_amount=given["bonus_amount"] if given.get("bonus_amount") is not None else current["bonus_amount"],
        bonus_points=given["bonus_points"] if given.get("bonus_points") is not None else current["bonus_points"],
        scope=scope, starts_at=when("starts_at"), ends_at=when("ends_at"),
    )  # fmt: skip
    rule = await state.clients.call(state.clients.wallet.UpdateBonusRule, req, p)
    await audit.record_alone(state, request, p, "wallet.bonus_rule.update", "bonus_rule", rule.id, rule.scope,
                             {"before": current, "changes": body.model_dump(mode="json", exclude_unset=True)})  # fmt: skip
    return plain(rule)


async def set_bonus_rule_active(
    state: GatewayState, request: Request, p: Principal, rule_id: str, active: bool
) -> dict:
    """Turn a bonus rule off (top-ups stop applying it at once) or on again; audited."""
    req = pb.SetBonusRuleActiveRequest(id=rule_id, active=active)
    rule = await state.clients.call(state.clients.wallet.SetBonusRuleActive, req, p)
    action = "wallet.bonus_rule.activate" if active else "wallet.bonus_rule.deactivate"
    await audit.record_alone(state, request, p, action, "bonus_rule", rule.id, rule.scope, {"active": active})
    return plain(rule)


async def delete_bonus_rule(state: GatewayState, request: Request, p: Principal, rule_id: str) -> None:
    """Delete a bonus rule no top-up has applied (conflict otherwise); its definition stays in
    the audit log."""
    current = await bonus_rule(state, p, rule_id)
    await state.clients.call(state.clients.wallet.DeleteBonusRule, pb.DeleteBonusRuleRequest(id=rule_id), p)
    await audit.record_alone(state, request, p, "wallet.bonus_rule.delete", "bonus_rule", rule_id, current["scope"],
                             {"rule": current})  # fmt: skip
