"""Use cases that move stored value: top-up, payment, refund, fee, closing an account.
Each is one database transaction under the account's row lock, run once per request id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import wallet_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument, NotFound
from services.wallet import access, cards, domain, journal, rules
from services.wallet.context import WalletContext
from services.wallet.domain import (
    Posting,
    bonus_expense_ledger,
    clearing_ledger,
    fee_income_ledger,
    member_ledger,
)
from services.wallet.journal import Outcome, lock_account, open_account, post, run_once, ts
from services.wallet.models import accounts, transactions
from services.wallet.models import cards as card_copies

R = TypeVar("R")


def acting_path(p: Principal, given: str) -> str:
    """Where the transaction happens: the caller's own unit unless it names one in its scope."""
    if not given:
        return p.scope
    if not p.may_access(given):
        raise InvalidArgument("acting_store_path lies outside your scope", field="acting_store_path")
    return given


@dataclass(frozen=True)
class _Limits:
    """What the card's type lets a top-up bring (0 on the type: the deployment's default)."""

    max_single: int
    max_balance: int


def _top_up_acting(p: Principal, amount: int, channel: str, acting_store_path: str) -> str:
    """The checks that need nothing stored; returns where the top-up happens."""
    access.require(p, access.MOVERS, "top up cards")
    domain.check_amount(amount)
    if channel not in domain.TOP_UP_CHANNELS:
        raise InvalidArgument(f"channel must be one of {', '.join(domain.TOP_UP_CHANNELS)}", field="channel")
    return acting_path(p, acting_store_path)


def _admit_top_up(
    ctx: WalletContext, p: Principal, claim: journal.Claim, acting: str, amount: int
) -> _Limits:
    """The card (as ``claim`` read it) may take ``amount`` here: its type's scope, its single
    top-up limit, HQ's top-up policy, its status — in this order, the order members' answer
    was checked in when wallet asked it for the card. Raises ``_UnknownCard`` for a card (or
    terms) wallet has not heard of."""
    card = claim.card
    if card is None or not card.terms_known:
        raise _UnknownCard(card.card_no if card else "")
    rules.check_card_scope(card, acting, p)
    limits = _Limits(
        card.max_single_top_up or ctx.settings.wallet_max_single_top_up,
        card.max_balance or ctx.settings.wallet_max_balance,
    )
    if amount > limits.max_single:
        raise domain.LimitExceeded(f"a single top-up may be at most {limits.max_single} fen")
    policy = claim.policy
    rules.check_policy_row(SimpleNamespace(**policy) if policy else None, p, acting)
    domain.check_card_usable(card.status)
    return limits


def _top_up_terms(
    limits: _Limits, claim: journal.Claim, account: Any, amount: int, acting: str, now: datetime
) -> domain.TopUpTerms:
    """The bonus (``domain.top_up_terms`` over the active rules ``claim`` read) and the limits:
    ``account``'s balance after the top-up and its bonus (None: an account not opened yet)."""
    terms = domain.top_up_terms(rules.bonus_rule_views(claim.bonus_rules), amount, acting, now)
    held = account.principal + account.bonus if account is not None else 0
    domain.check_top_up_limits(amount, held + amount + terms.bonus, limits.max_single, limits.max_balance)
    return terms


class _UnknownCard(Exception):
    """Raised inside a claim for a card wallet has not heard of (or not of its type's terms):
    its transaction rolls back (nothing claimed) and the request runs again after
    ``cards.learn``."""


class _Unstored(Exception):
    """A refusal found inside a claim that is kept nowhere, as when it was checked before the
    claim (a top-up over the card type's single limit may be sent again smaller)."""

    def __init__(self, err: ChainclubError) -> None:
        super().__init__(str(err))
        self.err = err


async def _learning(ctx: WalletContext, p: Principal, card_no: str, run: Callable[[], Awaitable[R]]) -> R:
    """``run``, and once more after asking members for the card if wallet had not heard of it."""
    try:
        return await run()
    except _UnknownCard:
        await cards.learn(ctx, p, card_no)
    return await run()


async def top_up(ctx: WalletContext, p: Principal, req: pb.TopUpRequest) -> pb.Transaction:
    """Tops up the card's account. The card and its type's limits come from wallet's own copy
    (``services.wallet.cards``), read in the claim statement under the account lock — members
    is not asked but for a card wallet has not heard of."""
    acting = _top_up_acting(p, req.amount, req.channel, req.acting_store_path)
    try:
        return await _learning(ctx, p, req.card_no, lambda: _top_up(ctx, p, req, acting))
    except _Unstored as refused:
        raise refused.err from None


async def _top_up(ctx: WalletContext, p: Principal, req: pb.TopUpRequest, acting: str) -> pb.Transaction:
    async def decide(session: journal.Executor, claim: journal.Claim, outcome: Outcome):  # type: ignore[no-untyped-def]
        try:
            limits = _admit_top_up(ctx, p, claim, acting, req.amount)
        except domain.LimitExceeded as err:
            raise _Unstored(err) from None
        card = claim.card
        account = claim.account
        if account is None:  # opened concurrently by another request: read it again, locked
            account = await open_account(
                session, card.account_id, card.card_no, card.member_no, card.home_store_path
            )
        elif account.status != "open":
            raise ChainclubError("the card's stored-value account is closed", reason="conflict")
        now = ctx.now()
        terms = _top_up_terms(limits, claim, account, req.amount, acting, now)
        rule, bonus, points = terms.rule, terms.bonus, terms.bonus_points
        txn_id = uuid.uuid4()
        raised = await rules.assess(
            ctx, session, outcome, kind="topup", account_id=account.id, card_no=card.card_no, amount=req.amount,
            acting=acting, home=account.home_store_path, now=now, loaded=claim.risk_rules, transaction_id=txn_id,
        )  # fmt: skip
        planned = journal.plan(
            transaction_id=txn_id, kind="topup", account=account, card_no=card.card_no, amount=req.amount, channel=req.channel,
            acting=acting, request_id=req.request_id, actor=p.sub, now=now, bonus_points=points,
            note=f"bonus rule {rule.name}" if rule else "", bonus_rule_id=rule.id if rule else None,
            entries=[
                Posting(member_ledger(account.id, "principal"), req.amount),
                Posting(clearing_ledger(acting, req.channel), -req.amount),
                Posting(member_ledger(account.id, "bonus"), bonus),
                Posting(bonus_expense_ledger(acting), -bonus),
            ],
        )  # fmt: skip
        planned.txn.alerts.extend(raised)
        event = ev.TopUpCompleted(
            transaction_id=planned.txn.transaction_id, card_no=card.card_no, account_id=str(account.id),
            member_no=card.member_no, amount=req.amount, bonus=bonus, bonus_points=points, channel=req.channel,
            acting_store_path=acting, home_store_path=account.home_store_path, at=ts(now),
            request_id=req.request_id,
        )  # fmt: skip
        return planned, "wallet.topup.completed", event, account.home_store_path

    params = {"card_no": req.card_no}
    return await journal.run_claimed(ctx, "topup", req, journal.CLAIM_AND_OPEN, params, decide)


async def preview_top_up(ctx: WalletContext, p: Principal, req: pb.PreviewTopUpRequest) -> pb.TopUpPreview:
    """What ``top_up`` would give now, refused as it would refuse (a blocking risk rule
    included, without its alert): the same checks and the same bonus decision over the same
    reads, which claim, open, lock and write nothing (autocommit: no transaction to begin and
    roll back around what is, without risk rules, one statement)."""
    acting = _top_up_acting(p, req.amount, req.channel, req.acting_store_path)
    return await _learning(ctx, p, req.card_no, lambda: _preview(ctx, p, req, acting))


async def _preview(
    ctx: WalletContext, p: Principal, req: pb.PreviewTopUpRequest, acting: str
) -> pb.TopUpPreview:
    async with ctx.db.autocommit() as session:
        claim = await journal.peek_top_up(session, req.card_no)
        limits = _admit_top_up(ctx, p, claim, acting, req.amount)
        account = claim.account
        if account is not None and account.status != "open":
            raise ChainclubError("the card's stored-value account is closed", reason="conflict")
        now = ctx.now()
        terms = _top_up_terms(limits, claim, account, req.amount, acting, now)
        raised = await rules.risk_hits(ctx, session, kind="topup", account_id=claim.card.account_id,
                                       amount=req.amount, acting=acting, now=now,
                                       loaded=claim.risk_rules)  # fmt: skip
    refused = rules.blocked(raised)
    if refused is not None:
        raise refused
    return pb.TopUpPreview(
        amount=terms.amount, bonus=terms.bonus, bonus_points=terms.bonus_points,
        rule_name=terms.rule.name if terms.rule else "", rule_id=terms.rule.id if terms.rule else "",
    )  # fmt: skip


async def capture_payment(ctx: WalletContext, p: Principal, req: pb.CapturePaymentRequest) -> pb.Transaction:
    """Pays from the card's account. The card's status and scope come from wallet's own copy
    (``services.wallet.cards``), read in the claim statement under the account lock — members
    is not asked. A card wallet has not heard of (issued before wallet kept cards, or its event
    is late) is asked of members once and kept, then the payment runs."""
    access.require(p, access.MOVERS, "take payments")
    domain.check_amount(req.amount)
    acting = acting_path(p, req.acting_store_path)
    return await _learning(ctx, p, req.card_no, lambda: _capture(ctx, p, req, acting))


async def _capture(
    ctx: WalletContext, p: Principal, req: pb.CapturePaymentRequest, acting: str
) -> pb.Transaction:
    async def decide(session: journal.Executor, claim: journal.Claim, outcome: Outcome):  # type: ignore[no-untyped-def]
        card = claim.card
        if card is None:
            raise _UnknownCard(req.card_no)
        rules.check_card_scope(card, acting, p)
        domain.check_card_usable(card.status)
        account = claim.account
        if account is None or account.status != "open":
            raise domain.InsufficientBalance(f"the card holds no stored value for {req.amount} fen")
        from_principal, from_bonus = domain.split_payment(
            req.amount, account.principal, account.bonus, ctx.settings.wallet_payment_mode
        )
        now = ctx.now()
        txn_id = uuid.uuid4()
        raised = await rules.assess(
            ctx, session, outcome, kind="payment", account_id=account.id, card_no=card.card_no, amount=req.amount,
            acting=acting, home=account.home_store_path, now=now, loaded=claim.risk_rules, transaction_id=txn_id,
        )  # fmt: skip
        planned = journal.plan(
            transaction_id=txn_id, kind="payment", account=account, card_no=card.card_no, amount=req.amount, acting=acting,
            request_id=req.request_id, actor=p.sub, now=now, note=req.reference[:200],
            entries=[
                Posting(member_ledger(account.id, "principal"), -from_principal),
                Posting(member_ledger(account.id, "bonus"), -from_bonus),
                Posting(clearing_ledger(acting, "sales"), req.amount),
            ],
        )  # fmt: skip
        planned.txn.alerts.extend(raised)
        event = ev.PaymentCaptured(
            transaction_id=planned.txn.transaction_id, request_id=req.request_id, card_no=card.card_no,
            account_id=str(account.id), member_no=card.member_no, amount=req.amount, principal=from_principal,
            bonus=from_bonus, acting_store_path=acting, home_store_path=account.home_store_path,
            reference=req.reference, at=ts(now), recorded_by_payer=req.recorded_by_payer,
        )  # fmt: skip
        return planned, "wallet.payment.captured", event, account.home_store_path

    params = {"card_no": req.card_no}
    return await journal.run_claimed(ctx, "payment", req, journal.CLAIM_AND_LOCK, params, decide)


async def _payment_by_request(session: AsyncSession, request_id: str):  # type: ignore[no-untyped-def]
    return (
        await session.execute(
            select(transactions).where(
                transactions.c.request_id == request_id, transactions.c.kind == "payment"
            )
        )
    ).first()


async def _refunded(session: AsyncSession, payment_id: uuid.UUID) -> tuple[int, int]:
    """(principal, bonus) already given back for a payment."""
    p, b = (
        await session.execute(
            select(
                func.coalesce(func.sum(transactions.c.principal_delta), 0),
                func.coalesce(func.sum(transactions.c.bonus_delta), 0),
            ).where(transactions.c.related_id == payment_id, transactions.c.kind == "refund")
        )
    ).one()
    return int(p), int(b)


async def refund(ctx: WalletContext, p: Principal, req: pb.RefundPaymentRequest) -> pb.Transaction:
    access.require(p, access.MOVERS, "refund payments")
    if req.amount < 0:
        raise InvalidArgument("amount must be positive (0 = all that is refundable)", field="amount")
    if req.amount:
        domain.check_amount(req.amount)

    async def work(session: AsyncSession, outcome: Outcome) -> pb.Transaction:
        payment = await _payment_by_request(session, req.payment_request_id)
        # Refunds belong to the checkout's store scope (and HQ): elsewhere it does not exist.
        if payment is None or not p.may_access(payment.acting_store_path):
            raise NotFound(f"no payment {req.payment_request_id!r}")
        account = await lock_account(session, payment.account_id)
        done_p, done_b = await _refunded(session, payment.id)
        left_p, left_b = -payment.principal_delta - done_p, -payment.bonus_delta - done_b
        amount = req.amount or (left_p + left_b)
        if amount == 0:
            raise domain.WalletError("this payment is fully refunded already", reason="conflict")
        back_p, back_b = domain.split_refund(amount, left_p, left_b)
        now = ctx.now()
        txn = await post(
            session, kind="refund", account=account, card_no=payment.card_no, amount=amount,
            acting=payment.acting_store_path, request_id=req.request_id, actor=p.sub, now=now,
            related_id=payment.id, note=req.reason[:200],
            entries=[
                Posting(member_ledger(account.id, "principal"), back_p),
                Posting(member_ledger(account.id, "bonus"), back_b),
                Posting(clearing_ledger(payment.acting_store_path, "sales"), -amount),
            ],
        )  # fmt: skip
        await ctx.emit(
            session,
            "wallet.payment.refunded",
            ev.PaymentRefunded(
                transaction_id=txn.transaction_id, payment_transaction_id=str(payment.id),
                payment_request_id=req.payment_request_id, card_no=payment.card_no, account_id=str(account.id),
                member_no=account.member_no, amount=amount, principal=back_p, bonus=back_b,
                acting_store_path=payment.acting_store_path, home_store_path=account.home_store_path, at=ts(now),
            ),
            account.home_store_path,
        )  # fmt: skip
        return txn

    return await run_once(ctx, "refund", req, work)


async def get_payment(ctx: WalletContext, p: Principal, req: pb.GetPaymentRequest) -> pb.Payment:
    access.require(p, access.READERS, "read payments")
    async with ctx.db.sessions() as session:
        payment = await _payment_by_request(session, req.request_id)
        if payment is None or not p.may_access(payment.acting_store_path):
            return pb.Payment(found=False)
        done_p, done_b = await _refunded(session, payment.id)
    return pb.Payment(found=True, transaction=transaction_pb(payment), refunded=done_p + done_b)


async def charge_fee(ctx: WalletContext, p: Principal, req: pb.ChargeFeeRequest) -> pb.Transaction:
    access.require(p, access.COUNTER, "charge fees")
    if req.fee_type not in domain.FEE_TYPES:
        raise InvalidArgument(f"fee_type must be one of {', '.join(domain.FEE_TYPES)}", field="fee_type")
    payment = req.payment or "cash"
    if payment not in domain.FEE_PAYMENTS:
        raise InvalidArgument("payment must be cash or stored_value", field="payment")
    acting = acting_path(p, req.acting_store_path)
    card, _ = await cards.card_of(ctx, p, req.card_no)
    if not p.may_access(card.home_store_path):
        raise NotFound(f"no card {req.card_no!r}")  # fees stay with the member's home scope
    defaults = {"joining": card.joining_fee, "annual": card.annual_fee, "replacement": card.replacement_fee}
    amount = req.amount or defaults.get(req.fee_type, 0)
    if not amount:
        raise InvalidArgument(f"the card type defines no {req.fee_type} fee: give amount", field="amount")
    domain.check_amount(amount)

    async def work(session: AsyncSession, outcome: Outcome) -> pb.Transaction:
        account = await open_account(
            session, card.account_id, card.card_no, card.member_no, card.home_store_path
        )
        if payment == "stored_value":
            domain.check_card_usable(card.status)
            if account.principal < amount:
                raise domain.InsufficientBalance(
                    f"principal {account.principal} fen is less than the {amount} fen fee"
                )
            source = Posting(member_ledger(account.id, "principal"), -amount)
        else:
            source = Posting(clearing_ledger(acting, "cash"), -amount)
        now = ctx.now()
        txn = await post(
            session, kind="fee", account=account, card_no=card.card_no, amount=amount, channel=payment,
            acting=acting, request_id=req.request_id, actor=p.sub, now=now, note=req.fee_type,
            entries=[source, Posting(fee_income_ledger(account.home_store_path), amount)],
        )  # fmt: skip
        await ctx.emit(
            session,
            "wallet.fee.charged",
            ev.FeeCharged(
                transaction_id=txn.transaction_id, card_no=card.card_no, account_id=str(account.id),
                member_no=card.member_no, fee_type=req.fee_type, amount=amount, payment=payment,
                acting_store_path=acting, home_store_path=account.home_store_path, at=ts(now),
            ),
            account.home_store_path,
        )  # fmt: skip
        return txn

    return await run_once(ctx, "fee", req, work)


async def close_account(ctx: WalletContext, p: Principal, req: pb.CloseAccountRequest) -> pb.Transaction:
    """Closing refunds the principal only, minus the fee; the bonus is forfeited."""
    access.require(p, access.MANAGERS, "close accounts")
    if req.fee < 0:
        raise InvalidArgument("fee must not be negative", field="fee")
    acting = acting_path(p, req.acting_store_path)
    card, _ = await cards.card_of(ctx, p, req.card_no)
    if not p.may_access(card.home_store_path):
        raise NotFound(f"no card {req.card_no!r}")

    async def work(session: AsyncSession, outcome: Outcome) -> pb.Transaction:
        account = await lock_account(session, card.account_id)
        if account is None or account.status != "open":
            raise domain.WalletError("there is no open account on this card", reason="conflict")
        fee = min(req.fee, account.principal)
        paid_out = account.principal - fee
        now = ctx.now()
        txn = await post(
            session, kind="close", account=account, card_no=card.card_no, amount=paid_out, channel="cash",
            acting=acting, request_id=req.request_id, actor=p.sub, now=now, note=f"closing fee {fee}",
            entries=[
                Posting(member_ledger(account.id, "principal"), -account.principal),
                Posting(clearing_ledger(acting, "cash"), paid_out),
                Posting(fee_income_ledger(account.home_store_path), fee),
                Posting(member_ledger(account.id, "bonus"), -account.bonus),
                Posting(bonus_expense_ledger(account.home_store_path), account.bonus),
            ],
        )  # fmt: skip
        from sqlalchemy import update

        await session.execute(update(accounts).where(accounts.c.id == account.id).values(status="closed"))
        txn.balance.status = "closed"
        return txn

    return await run_once(ctx, "close", req, work)


def transaction_pb(r) -> pb.Transaction:  # type: ignore[no-untyped-def]
    return pb.Transaction(
        transaction_id=str(r.id), kind=r.kind, card_no=r.card_no, account_id=str(r.account_id), amount=r.amount,
        principal=r.principal_delta, bonus=r.bonus_delta, bonus_points=r.bonus_points, channel=r.channel,
        acting_store_path=r.acting_store_path, home_store_path=r.home_store_path, request_id=r.request_id,
        created_at=ts(r.created_at), related_transaction_id=str(r.related_id) if r.related_id else "", note=r.note,
    )  # fmt: skip


# A balance: the card and its account (none yet: nothing topped up) in one statement.
_CARD_AND_ACCOUNT = cards.CARD.add_columns(
    accounts.c.principal, accounts.c.bonus, accounts.c.status.label("account_status")
).outerjoin_from(card_copies, accounts, accounts.c.id == card_copies.c.account_id)


async def get_balance(ctx: WalletContext, p: Principal, req: pb.GetBalanceRequest) -> pb.Balance:
    """Any counter of the chain may see a card's balance (通存通兑); the card must exist."""
    access.require(p, access.READERS, "read balances")
    card, row = await cards.card_of(ctx, p, req.card_no, _CARD_AND_ACCOUNT)
    if p.role == "auditor" and not p.may_access(card.home_store_path):
        raise NotFound(f"no card {req.card_no!r}")
    opened = row.account_status is not None
    principal, bonus = (row.principal, row.bonus) if opened else (0, 0)
    return pb.Balance(
        principal=principal, bonus=bonus, total=principal + bonus, account_id=str(card.account_id),
        card_no=card.card_no, card_status=card.status, status=row.account_status if opened else "open",
    )  # fmt: skip


async def list_transactions(
    ctx: WalletContext, p: Principal, req: pb.ListTransactionsRequest
) -> pb.ListTransactionsResponse:
    access.require(p, access.READERS, "read transactions")
    limit = req.page.limit or 50
    if not 1 <= limit <= 500:
        raise InvalidArgument("limit must be 1..500", field="limit")
    card, _ = await cards.card_of(ctx, p, req.card_no)
    if not p.may_access(card.home_store_path):
        raise NotFound(f"no card {req.card_no!r}")  # the history stays with the member's home scope
    query = (
        select(transactions)
        .where(transactions.c.account_id == card.account_id)
        .order_by(transactions.c.created_at.desc(), transactions.c.id)
    )
    if req.page.cursor:
        at, last_id = rules.parse_cursor(req.page.cursor)
        query = query.where(
            or_(
                transactions.c.created_at < at,
                (transactions.c.created_at == at) & (transactions.c.id > last_id),
            )
        )
    async with ctx.db.sessions() as session:
        rows = (await session.execute(query.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return pb.ListTransactionsResponse(
        transactions=[transaction_pb(r) for r in rows],
        page={"next_cursor": rules.make_cursor(rows[-1]) if more else ""},
    )
