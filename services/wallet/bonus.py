"""Changing top-up bonus rules (充值赠送) after they are made: edit, turn off or on, delete.

A rule maker (HQ, a region or a store manager) changes only rules whose scope lies in its own,
exactly as it may create them there. A top-up records the rule it applied (``bonus_rule_id``),
so a rule that has given a bonus is part of the ledger's story: it can be turned off, never
deleted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import Conflict, InvalidArgument, NotFound
from services.wallet import access, domain
from services.wallet.context import WalletContext
from services.wallet.models import bonus_rules, transactions
from services.wallet.rules import bonus_rule_pb


@dataclass(frozen=True)
class BonusTerms:
    """A bonus rule's fields as checked for the caller (create and update alike)."""

    name: str
    min_amount: int
    bonus_amount: int
    bonus_points: int
    scope: str
    starts_at: datetime | None
    ends_at: datetime | None

    def values(self) -> dict[str, object]:
        return {
            "name": self.name, "min_amount": self.min_amount, "bonus_amount": self.bonus_amount,
            "bonus_points": self.bonus_points, "scope": self.scope, "starts_at": self.starts_at,
            "ends_at": self.ends_at,
        }  # fmt: skip


def checked_terms(ctx: WalletContext, p: Principal, req: pb.BonusRule) -> BonusTerms:
    """``req``'s fields, refused (invalid_argument, naming the field) where a rule may not have
    them; the scope defaults to the caller's and must lie within it."""
    scope = req.scope or p.scope
    if not p.may_access(scope):
        raise InvalidArgument("the rule's scope lies outside yours", field="scope")
    if not req.name.strip():
        raise InvalidArgument("name must not be empty", field="name")
    domain.check_amount(req.min_amount, "min_amount")
    if req.bonus_amount < 0 or req.bonus_points < 0 or (req.bonus_amount == 0 and req.bonus_points == 0):
        raise InvalidArgument("give a positive bonus_amount and/or bonus_points", field="bonus_amount")
    if req.bonus_amount > domain.MAX_AMOUNT or req.bonus_points > domain.MAX_AMOUNT:
        raise InvalidArgument("bonus is implausibly large", field="bonus_amount")
    tz = ctx.now().tzinfo
    starts = req.starts_at.ToDatetime(tzinfo=tz) if req.HasField("starts_at") else None
    ends = req.ends_at.ToDatetime(tzinfo=tz) if req.HasField("ends_at") else None
    if starts and ends and ends <= starts:
        raise InvalidArgument("ends_at must be after starts_at", field="ends_at")
    return BonusTerms(
        req.name.strip()[:200], req.min_amount, req.bonus_amount, req.bonus_points, scope, starts, ends
    )


def _rule_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("id is not a bonus rule id", field="id") from None


async def _locked_rule(session, p: Principal, rule_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """The rule, locked, if the caller may change it; not_found when it does not exist or lies
    outside the caller's scope (a rule made above the caller is read-only to it)."""
    row = (
        await session.execute(select(bonus_rules).where(bonus_rules.c.id == rule_id).with_for_update())
    ).first()
    if row is None or not p.may_access(row.scope):
        raise NotFound(f"bonus rule {rule_id} not found")
    return row


async def create_bonus_rule(ctx: WalletContext, p: Principal, req: pb.BonusRule) -> pb.BonusRule:
    access.require(p, access.RULE_MAKERS, "define bonus rules")
    terms = checked_terms(ctx, p, req)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                bonus_rules.insert()
                .values(id=uuid.uuid4(), created_by=p.sub, **terms.values())
                .returning(*bonus_rules.c)
            )
        ).one()
    return bonus_rule_pb(row)


async def _change(
    ctx: WalletContext, p: Principal, rule_id: uuid.UUID, values: Callable[[], dict]
) -> pb.BonusRule:
    """Lock the rule (not_found when the caller may not change it), set ``values()`` — worked
    out after the lock, so another scope's rule is not_found before any field is judged."""
    async with ctx.db.transaction() as session:
        await _locked_rule(session, p, rule_id)
        row = (
            await session.execute(
                update(bonus_rules)
                .where(bonus_rules.c.id == rule_id)
                .values(**values())
                .returning(*bonus_rules.c)
            )
        ).one()
    return bonus_rule_pb(row)


async def update_bonus_rule(ctx: WalletContext, p: Principal, req: pb.BonusRule) -> pb.BonusRule:
    access.require(p, access.RULE_MAKERS, "change bonus rules")
    return await _change(ctx, p, _rule_id(req.id), lambda: checked_terms(ctx, p, req).values())


async def set_bonus_rule_active(
    ctx: WalletContext, p: Principal, req: pb.SetBonusRuleActiveRequest
) -> pb.BonusRule:
    access.require(p, access.RULE_MAKERS, "turn bonus rules off or on")
    return await _change(ctx, p, _rule_id(req.id), lambda: {"active": req.active})


async def delete_bonus_rule(
    ctx: WalletContext, p: Principal, req: pb.DeleteBonusRuleRequest
) -> pb.DeleteBonusRuleResponse:
    access.require(p, access.RULE_MAKERS, "delete bonus rules")
    rule_id = _rule_id(req.id)
    async with ctx.db.transaction() as session:
        # A top-up already under way may still apply the rule it read before this commits: its
        # transaction keeps the rule's id and, in its note, the rule's name.
        await _locked_rule(session, p, rule_id)
        applied = (
            await session.execute(select(exists().where(transactions.c.bonus_rule_id == rule_id)))
        ).scalar()
        if applied:
            raise Conflict("top-ups have applied this bonus rule: deactivate it instead of deleting it")
        await session.execute(bonus_rules.delete().where(bonus_rules.c.id == rule_id))
    return pb.DeleteBonusRuleResponse()
