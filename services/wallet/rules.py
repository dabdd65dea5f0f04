"""Bonus rules (充值赠送), the top-up policy (指定网点或操作员充值) and risk monitoring
(异常交易监测): HQ's rules, evaluated inside the money-moving transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import wallet_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal, may_access
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.wallet import access, domain
from services.wallet.context import WalletContext
from services.wallet.journal import Executor, Outcome, ts
from services.wallet.models import alerts, bonus_rules, risk_rules, topup_policy, transactions


# --- bonus rules ------------------------------------------------------------------------------
def bonus_rule_pb(r) -> pb.BonusRule:  # type: ignore[no-untyped-def]
    return pb.BonusRule(
        id=str(r.id), name=r.name, min_amount=r.min_amount, bonus_amount=r.bonus_amount,
        bonus_points=r.bonus_points, scope=r.scope, active=r.active,
        starts_at=ts(r.starts_at) if r.starts_at else None, ends_at=ts(r.ends_at) if r.ends_at else None,
    )  # fmt: skip


async def active_bonus_rules(session: AsyncSession) -> list[domain.BonusRuleView]:
    rows = (await session.execute(select(bonus_rules).where(bonus_rules.c.active.is_(True)))).all()
    return [
        domain.BonusRuleView(
            str(r.id), r.name, r.min_amount, r.bonus_amount, r.bonus_points, r.scope, r.starts_at, r.ends_at
        )
        for r in rows
    ]


async def list_bonus_rules(ctx: WalletContext, p: Principal) -> pb.ListBonusRulesResponse:
    access.require(p, access.READERS, "read bonus rules")
    async with ctx.db.sessions() as session:
        rows = (await session.execute(select(bonus_rules).order_by(bonus_rules.c.created_at))).all()
    # A caller sees the rules that reach its scope (above it) and those inside it.
    visible = [r for r in rows if may_access(r.scope, p.scope) or p.may_access(r.scope)]
    return pb.ListBonusRulesResponse(rules=[bonus_rule_pb(r) for r in visible])


# --- top-up policy ------------------------------------------------------------------------------
async def get_policy(ctx: WalletContext, p: Principal) -> pb.TopUpPolicy:
    access.require(p, access.READERS, "read the top-up policy")
    async with ctx.db.sessions() as session:
        row = (await session.execute(select(topup_policy).where(topup_policy.c.id == 1))).first()
    return pb.TopUpPolicy(
        store_paths=list(row.store_paths) if row else [], operators=list(row.operators) if row else []
    )


async def set_policy(ctx: WalletContext, p: Principal, req: pb.TopUpPolicy) -> pb.TopUpPolicy:
    access.require(p, access.HQ, "set the top-up policy")
    for path in req.store_paths:
        if not (path == "HQ" or path.startswith("HQ/")):
            raise InvalidArgument(f"not an org path: {path!r}", field="store_paths")
    values = {"store_paths": list(dict.fromkeys(req.store_paths)), "operators": list(dict.fromkeys(req.operators)),
              "updated_by": p.sub, "updated_at": func.now()}  # fmt: skip
    async with ctx.db.transaction() as session:
        await session.execute(
            insert(topup_policy)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
    return pb.TopUpPolicy(store_paths=values["store_paths"], operators=values["operators"])  # type: ignore[arg-type]


async def check_policy(session: AsyncSession, p: Principal, acting: str) -> None:
    row = (await session.execute(select(topup_policy).where(topup_policy.c.id == 1))).first()
    check_policy_row(row, p, acting)


def check_policy_row(row, p: Principal, acting: str) -> None:  # type: ignore[no-untyped-def]
    """``row``: the policy (anything with store_paths and operators), or None."""
    if row is None or (not row.store_paths and not row.operators):
        return
    if any(may_access(path, acting) for path in row.store_paths) or p.sub in row.operators:
        return
    raise Forbidden(
        "HQ top-up policy: top-ups are taken only by designated stores or operators (指定网点或操作员充值)"
    )


def bonus_rule_views(rows: list[dict]) -> list[domain.BonusRuleView]:
    """Active bonus rules as ``journal.claim`` reads them (JSON objects)."""

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return [
        domain.BonusRuleView(
            str(r["id"]), r["name"], int(r["min_amount"]), int(r["bonus_amount"]), int(r["bonus_points"]),
            r["scope"], when(r["starts_at"]), when(r["ends_at"]),
        )
        for r in rows
    ]  # fmt: skip


def check_card_scope(card, acting: str, p: Principal) -> None:  # type: ignore[no-untyped-def]
    """HQ may narrow a card type to its home region or store."""
    home = card.card_type_home_scope
    if home and p.role not in ("hq_admin", "service") and not may_access(home, acting):
        raise Forbidden(f"card type {card.card_type} is usable only within {home} (HQ policy)")


# --- risk ------------------------------------------------------------------------------------
def risk_rule_pb(r) -> pb.RiskRule:  # type: ignore[no-untyped-def]
    return pb.RiskRule(
        id=str(r.id), name=r.name, kind=r.kind, threshold=r.threshold, window_seconds=r.window_seconds,
        action=r.action, applies_to=r.applies_to, start_minute=r.start_minute, end_minute=r.end_minute,
        active=r.active, scope=r.scope,
    )  # fmt: skip


def _visible_rule(p: Principal, scope: str) -> bool:
    """A caller sees the rules that reach its scope (above it) and those inside it."""
    return may_access(scope, p.scope) or p.may_access(scope)


async def list_risk_rules(ctx: WalletContext, p: Principal) -> pb.ListRiskRulesResponse:
    access.require(p, access.RISK_READERS, "read risk rules")
    async with ctx.db.sessions() as session:
        rows = (await session.execute(select(risk_rules).order_by(risk_rules.c.created_at))).all()
    return pb.ListRiskRulesResponse(rules=[risk_rule_pb(r) for r in rows if _visible_rule(p, r.scope)])


def _risk_rule_values(p: Principal, req: pb.RiskRule) -> dict:
    """The checked columns of a rule as ``req`` defines it (create and update alike)."""
    applies_to = req.applies_to or "any"
    domain.check_risk_rule(req.kind, req.action, applies_to, req.threshold, req.window_seconds, req.start_minute,
                           req.end_minute)  # fmt: skip
    if not req.name.strip():
        raise InvalidArgument("name must not be empty", field="name")
    scope = req.scope or "HQ"
    if not (scope == "HQ" or scope.startswith("HQ/")) or not p.may_access(scope):
        raise InvalidArgument("scope must be an org path within yours", field="scope")
    return dict(
        name=req.name.strip()[:200], kind=req.kind, threshold=req.threshold, window_seconds=req.window_seconds,
        action=req.action, applies_to=applies_to, start_minute=req.start_minute, end_minute=req.end_minute,
        scope=scope,
    )  # fmt: skip


async def create_risk_rule(ctx: WalletContext, p: Principal, req: pb.RiskRule) -> pb.RiskRule:
    access.require(p, access.HQ, "define risk rules")
    values = _risk_rule_values(p, req)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                risk_rules.insert()
                .values(id=uuid.uuid4(), active=req.active, created_by=p.sub, **values)
                .returning(*risk_rules.c)
            )
        ).one()
    return risk_rule_pb(row)


def _rule_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no risk rule {text!r}") from None


async def _change_risk_rule(ctx: WalletContext, rule_id: str, values: dict) -> pb.RiskRule:
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                update(risk_rules).where(risk_rules.c.id == _rule_id(rule_id)).values(**values)
                .returning(*risk_rules.c)
            )
        ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"no risk rule {rule_id!r}")
    return risk_rule_pb(row)


async def update_risk_rule(ctx: WalletContext, p: Principal, req: pb.RiskRule) -> pb.RiskRule:
    """Replace a rule's definition (its alerts keep the name they were raised under)."""
    access.require(p, access.HQ, "change risk rules")
    return await _change_risk_rule(ctx, req.id, _risk_rule_values(p, req))


async def set_risk_rule_active(
    ctx: WalletContext, p: Principal, req: pb.SetRiskRuleActiveRequest
) -> pb.RiskRule:
    access.require(p, access.HQ, "turn risk rules off or on")
    return await _change_risk_rule(ctx, req.id, {"active": req.active})


async def delete_risk_rule(
    ctx: WalletContext, p: Principal, req: pb.DeleteRiskRuleRequest
) -> pb.DeleteRiskRuleResponse:
    """Only a rule no alert names may go: an alert's history must keep the rule it points to."""
    access.require(p, access.HQ, "delete risk rules")
    rule_id = _rule_id(req.id)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(risk_rules.c.id).where(risk_rules.c.id == rule_id).with_for_update())
        ).first()
        if row is None:
            raise NotFound(f"no risk rule {req.id!r}")
        named = (
            await session.execute(select(alerts.c.id).where(alerts.c.rule_id == rule_id).limit(1))
        ).first()
        if named is not None:
            raise domain.WalletError(
                "alerts name this rule: deactivate it instead of deleting it", reason="conflict"
            )
        await session.execute(risk_rules.delete().where(risk_rules.c.id == rule_id))
    return pb.DeleteRiskRuleResponse()


# The transactions of a window an alert lists at most (the newest ones).
WINDOW_IDS = 20


@dataclass(frozen=True)
class RiskHit:
    rule: domain.RiskRuleView
    why: str
    window_ids: list[uuid.UUID]  # the window's transactions the rule counted, oldest first


async def risk_hits(
    ctx: WalletContext,
    session: Executor,
    *,
    kind: str,
    account_id: uuid.UUID,
    amount: int,
    acting: str,
    now: datetime,
    loaded: list[dict] | None = None,
) -> list[RiskHit]:
    """The active rules watching ``acting`` a transaction would hit, with why (reads only)."""
    if loaded is None:
        rows = (await session.execute(select(risk_rules).where(risk_rules.c.active.is_(True)))).all()
        loaded = [r._asdict() for r in rows]
    rules = [
        domain.RiskRuleView(
            str(r["id"]), r["name"], r["kind"], int(r["threshold"]), r["window_seconds"], r["action"],
            r["applies_to"], r["start_minute"], r["end_minute"], r.get("scope") or "HQ",
        )
        for r in loaded
    ]  # fmt: skip
    rules = [r for r in rules if domain.applies(r, kind) and may_access(r.scope, acting)]
    if not rules:
        return []
    raised: list[RiskHit] = []
    minute = ctx.local_minute(now)
    for rule in rules:
        stats, ids = domain.RiskStats(), []
        if rule.window_seconds and rule.kind in ("count_in_window", "sum_in_window", "chain_velocity"):
            stats, ids = await _window(session, rule, kind, account_id, now)
        why = domain.risk_hit(rule, amount, stats, minute)
        if why:
            raised.append(RiskHit(rule, why, ids))
    return raised


async def _window(
    session: Executor, rule: domain.RiskRuleView, kind: str, account_id: uuid.UUID, now: datetime
) -> tuple[domain.RiskStats, list[uuid.UUID]]:
    """What a window rule counts: the account's (chain_velocity: the rule's subtree's)
    transactions of the kind within the window, and the newest of their ids."""
    from kit.db import in_scope

    since = now - timedelta(seconds=rule.window_seconds)
    where = [transactions.c.kind == kind, transactions.c.created_at > since]
    if rule.kind != "chain_velocity":
        where.append(transactions.c.account_id == account_id)
    elif rule.scope != "HQ":
        where.append(in_scope(transactions.c.acting_store_path, rule.scope))
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(transactions.c.amount), 0)).where(*where)
        )
    ).one()
    ids = (
        await session.execute(
            select(transactions.c.id).where(*where)
            .order_by(transactions.c.created_at.desc(), transactions.c.id.desc()).limit(WINDOW_IDS)
        )
    ).scalars().all()  # fmt: skip
    stats = domain.RiskStats(account_count=count, account_sum=int(total), chain_count=count)
    return stats, list(reversed(ids))


def blocked(raised: list[RiskHit]) -> domain.BlockedByRiskRule | None:
    """The refusal of the first blocking rule among ``raised`` (None: nothing blocks)."""
    for hit in raised:
        if hit.rule.action == "block":
            return domain.BlockedByRiskRule(
                f"blocked by risk rule {hit.rule.name!r}: {hit.why}", rule=hit.rule.name
            )
    return None


async def assess(
    ctx: WalletContext,
    session: Executor,
    outcome: Outcome,
    *,
    kind: str,
    account_id: uuid.UUID,
    card_no: str,
    amount: int,
    acting: str,
    home: str,
    now: datetime,
    transaction_id: uuid.UUID,
    loaded: list[dict] | None = None,
) -> list[str]:
    """Evaluate the active rules for one transaction (``transaction_id``, written after this).
    Alerts are written with it, naming it; a block raises ``BlockedByRiskRule`` and its alert,
    naming only the window's transactions, is written even though the money does not move.
    ``loaded``: the active rules read in this transaction already (``journal.claim``)."""
    raised = await risk_hits(ctx, session, kind=kind, account_id=account_id, amount=amount, acting=acting,
                             now=now, loaded=loaded)  # fmt: skip
    refused = blocked(raised)
    own = [] if refused is not None else [transaction_id]

    async def write_alerts(s: Executor) -> None:
        for hit in raised:
            rule, why = hit.rule, hit.why
            alert_id = uuid.uuid4()
            named = [*hit.window_ids, *own]
            await s.execute(
                alerts.insert().values(
                    id=alert_id, rule_id=uuid.UUID(rule.id), rule_name=rule.name, kind=rule.kind, action=rule.action,
                    card_no=card_no, account_id=account_id, amount=amount, transaction_kind=kind,
                    acting_store_path=acting, home_store_path=home, detail=why, created_at=now,
                    transaction_ids=named,
                )
            )  # fmt: skip
            await ctx.emit(
                s,
                "wallet.alert.raised",
                ev.AlertRaised(
                    alert_id=str(alert_id), rule_id=rule.id, rule_name=rule.name, kind=rule.kind, action=rule.action,
                    card_no=card_no, account_id=str(account_id), amount=amount, transaction_kind=kind,
                    acting_store_path=acting, home_store_path=home, detail=why, at=ts(now),
                    transaction_ids=[str(t) for t in named],
                ),
                home,
            )  # fmt: skip

    if refused is not None:
        outcome.after_failure.append(write_alerts)
        raise refused
    await write_alerts(session)
    return [hit.rule.name for hit in raised]


def alert_pb(r) -> pb.Alert:  # type: ignore[no-untyped-def]
    return pb.Alert(
        id=str(r.id), rule_id=str(r.rule_id), rule_name=r.rule_name, kind=r.kind, action=r.action,
        card_no=r.card_no, account_id=str(r.account_id) if r.account_id else "", amount=r.amount,
        transaction_kind=r.transaction_kind, acting_store_path=r.acting_store_path,
        home_store_path=r.home_store_path, detail=r.detail, status=r.status,
        acknowledged_by=r.acknowledged_by or "", created_at=ts(r.created_at),
        transaction_ids=[str(t) for t in r.transaction_ids], acknowledgement_note=r.acknowledgement_note,
        acknowledged_at=ts(r.acknowledged_at) if r.acknowledged_at else None,
    )  # fmt: skip


def make_cursor(row) -> str:  # type: ignore[no-untyped-def]
    return f"{row.created_at.isoformat()}|{row.id}"


def parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Keyset cursor (created_at, id): rows of one instant are never skipped."""
    try:
        at, _, last = cursor.partition("|")
        return datetime.fromisoformat(at), uuid.UUID(last)
    except ValueError:
        raise InvalidArgument("cursor is not one this API returned", field="cursor") from None


def _alert_scope(p: Principal):  # type: ignore[no-untyped-def]
    from kit.db import in_scope

    return or_(in_scope(alerts.c.home_store_path, p.scope), in_scope(alerts.c.acting_store_path, p.scope))


async def list_alerts(ctx: WalletContext, p: Principal, req: pb.ListAlertsRequest) -> pb.ListAlertsResponse:
    access.require(p, access.RISK_READERS, "read risk alerts")
    limit = req.page.limit or 50
    if not 1 <= limit <= 500:
        raise InvalidArgument("limit must be 1..500", field="limit")
    query = select(alerts).where(_alert_scope(p)).order_by(alerts.c.created_at.desc(), alerts.c.id)
    if req.status:
        if req.status not in ("open", "acknowledged"):
            raise InvalidArgument("status must be open or acknowledged", field="status")
        query = query.where(alerts.c.status == req.status)
    if req.page.cursor:
        at, last_id = parse_cursor(req.page.cursor)
        query = query.where(
            or_(alerts.c.created_at < at, (alerts.c.created_at == at) & (alerts.c.id > last_id))
        )
    async with ctx.db.sessions() as session:
        rows = (await session.execute(query.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return pb.ListAlertsResponse(
        alerts=[alert_pb(r) for r in rows], page={"next_cursor": make_cursor(rows[-1]) if more else ""}
    )


async def acknowledge(ctx: WalletContext, p: Principal, req: pb.AcknowledgeAlertRequest) -> pb.Alert:
    access.require(p, access.RISK_HANDLERS, "acknowledge risk alerts")
    note = req.note.strip()
    if len(note) > 500:
        raise InvalidArgument("the note may be at most 500 characters", field="note")
    try:
        alert_id = uuid.UUID(req.id)
    except ValueError:
        raise NotFound(f"no alert {req.id!r}") from None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(alerts).where(alerts.c.id == alert_id, _alert_scope(p)).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"no alert {req.id!r}")
        if row.status == "acknowledged":
            raise domain.WalletError("this alert is already acknowledged", reason="conflict")
        row = (
            await session.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(
                    status="acknowledged",
                    acknowledged_by=p.sub,
                    acknowledged_at=ctx.now(),
                    acknowledgement_note=note,
                )
                .returning(*alerts.c)
            )
        ).one()
    return alert_pb(row)
