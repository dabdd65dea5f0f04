"""Pure rules of stored value: how a payment draws on the two buckets, how a refund goes
back, which bonus rule applies, when a risk rule fires, ledger account names, limits.
No I/O, no clock reads (``now`` is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kit.auth import may_access
from kit.errors import ChainclubError, InvalidArgument
from kit.money import split_proportional

TOP_UP_CHANNELS = ("cash", "bank_card", "co_branded", "telecom", "terminal", "online", "batch")
FEE_TYPES = ("joining", "annual", "replacement", "late_penalty", "service")
FEE_PAYMENTS = ("cash", "stored_value")
RISK_KINDS = ("single_amount", "count_in_window", "sum_in_window", "time_of_day", "chain_velocity")
RISK_ACTIONS = ("alert", "block")
RISK_APPLIES = ("topup", "payment", "any")
MAX_AMOUNT = 10**11  # fen; anything above is a typo, not money


class WalletError(ChainclubError):
    """Base of the wallet's errors."""


class InsufficientBalance(WalletError):
    """The account does not hold enough stored value."""

    reason = "insufficient_balance"


class LimitExceeded(WalletError):
    """The amount or the resulting balance is over the card type's limit."""

    reason = "limit_exceeded"


class BlockedByRiskRule(WalletError):
    """A risk rule refused the transaction."""

    reason = "blocked_by_risk_rule"


class IdempotencyKeyReused(WalletError):
    """The idempotency key was used before for a different request."""

    reason = "idempotency_key_reused"


CARD_REFUSALS = {
    "lost": ("card_lost", "the card is reported lost"),
    "frozen": ("card_frozen", "the card is frozen"),
    "replaced": ("card_replaced", "the card was replaced; use the new card"),
    "expired": ("card_expired", "the card has expired"),
    "cancelled": ("card_cancelled", "the card is cancelled"),
}


def check_card_usable(status: str) -> None:
    """Only an active card moves value; each other state has its own reason."""
    if status == "active":
        return
    reason, detail = CARD_REFUSALS.get(status, ("invalid_card_state", f"the card is {status}"))
    raise WalletError(detail, reason=reason)


def check_amount(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidArgument("amount must be integer fen", field=field)
    if amount <= 0:
        raise InvalidArgument("amount must be a positive number of fen", field=field)
    if amount > MAX_AMOUNT:
        raise InvalidArgument("amount is implausibly large", field=field)
    return amount


# --- ledger --------------------------------------------------------------------------------
def member_ledger(account_id: object, bucket: str) -> str:
    return f"member:{account_id}:{bucket}"


def clearing_ledger(store_path: str, channel: str) -> str:
    return f"store:{store_path}:clearing:{channel}"


def bonus_expense_ledger(store_path: str) -> str:
    return f"bonus_expense:{store_path}"


def fee_income_ledger(store_path: str) -> str:
    return f"fee_income:{store_path}"


ADJUSTMENT_LEDGER = "adjustment:HQ"


@dataclass(frozen=True)
class Posting:
    ledger: str
    amount: int  # signed; a transaction's postings sum to zero


def balanced(postings: list[Posting]) -> list[Posting]:
    """The postings, after checking they sum to zero (a bug otherwise, never bad input)."""
    if sum(p.amount for p in postings) != 0:
        raise AssertionError(f"unbalanced postings: {postings}")
    return [p for p in postings if p.amount != 0]


# --- payments and refunds ---------------------------------------------------------------------
def split_payment(amount: int, principal: int, bonus: int, mode: str) -> tuple[int, int]:
    """(from principal, from bonus). Proportional to the buckets (remainder fen to the larger
    remainder, so both parts stay within their bucket), or bonus first."""
    if amount > principal + bonus:
        raise InsufficientBalance(f"balance {principal + bonus} fen is less than {amount} fen")
    if mode == "bonus_first":
        from_bonus = min(bonus, amount)
        return amount - from_bonus, from_bonus
    from_principal, from_bonus = split_proportional(amount, [principal, bonus])
    return from_principal, from_bonus


def split_refund(amount: int, paid_principal: int, paid_bonus: int) -> tuple[int, int]:
    """A refund goes back to the buckets in the proportion the payment (what is left of it
    to refund) came from; never more than that."""
    if amount > paid_principal + paid_bonus:
        raise InvalidArgument(
            f"refund {amount} fen is more than the {paid_principal + paid_bonus} fen still refundable",
            field="amount",
        )
    p, b = split_proportional(amount, [paid_principal, paid_bonus])
    return p, b


# --- bonus rules ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BonusRuleView:
    id: str
    name: str
    min_amount: int
    bonus_amount: int
    bonus_points: int
    scope: str
    starts_at: datetime | None
    ends_at: datetime | None


def pick_bonus_rule(
    rules: list[BonusRuleView], amount: int, store_path: str, now: datetime
) -> BonusRuleView | None:
    """The one rule that applies: in scope of the store, in its time window, reached by the
    amount; the largest bonus wins, then the most specific scope, then the higher threshold."""
    eligible = [
        r
        for r in rules
        if amount >= r.min_amount
        and may_access(r.scope or "HQ", store_path)
        and (r.starts_at is None or r.starts_at <= now)
        and (r.ends_at is None or now < r.ends_at)
    ]
    if not eligible:
        return None
    return max(eligible, key=lambda r: (r.bonus_amount, r.bonus_points, len(r.scope or "HQ"), r.min_amount))


@dataclass(frozen=True)
class TopUpTerms:
    """What a top-up of ``amount`` gets: the bonus rule that applies (None: none) and its bonus."""

    amount: int
    rule: BonusRuleView | None
    bonus: int
    bonus_points: int


def top_up_terms(rules: list[BonusRuleView], amount: int, store_path: str, now: datetime) -> TopUpTerms:
    """The terms of a top-up at ``store_path`` at ``now``: the one place that decides the
    bonus (the top-up itself and its preview both ask here)."""
    rule = pick_bonus_rule(rules, amount, store_path, now)
    return TopUpTerms(amount, rule, rule.bonus_amount if rule else 0, rule.bonus_points if rule else 0)


# --- risk -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RiskRuleView:
    id: str
    name: str
    kind: str
    threshold: int
    window_seconds: int
    action: str
    applies_to: str
    start_minute: int = 0
    end_minute: int = 0
    scope: str = "HQ"  # watches transactions made within this org path


@dataclass(frozen=True)
class RiskStats:
    """What the rules look at, gathered for one transaction."""

    account_count: int = 0  # this account's transactions of the kind within the window
    account_sum: int = 0
    chain_count: int = 0  # all transactions of the kind, chain-wide, within the window


def applies(rule: RiskRuleView, kind: str) -> bool:
    return rule.applies_to in ("any", kind)


def in_minutes(minute: int, start: int, end: int) -> bool:
    """``start <= minute < end``, wrapping past midnight when start > end."""
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def risk_hit(rule: RiskRuleView, amount: int, stats: RiskStats, local_minute: int) -> str | None:
    """Why ``rule`` fires for this transaction, or None."""
    if rule.kind == "single_amount" and amount > rule.threshold:
        return f"amount {amount} fen is over {rule.threshold}"
    if rule.kind == "count_in_window" and stats.account_count + 1 > rule.threshold:
        return (
            f"{stats.account_count + 1} transactions within {rule.window_seconds}s (limit {rule.threshold})"
        )
    if rule.kind == "sum_in_window" and stats.account_sum + amount > rule.threshold:
        return f"{stats.account_sum + amount} fen within {rule.window_seconds}s (limit {rule.threshold})"
    if rule.kind == "time_of_day" and in_minutes(local_minute, rule.start_minute, rule.end_minute):
        return f"at {local_minute // 60:02d}:{local_minute % 60:02d}, inside the watched hours"
    if rule.kind == "chain_velocity" and stats.chain_count + 1 > rule.threshold:
        return f"{stats.chain_count + 1} transactions chain-wide within {rule.window_seconds}s (limit {rule.threshold})"
    return None


def check_risk_rule(
    kind: str, action: str, applies_to: str, threshold: int, window: int, start: int, end: int
) -> None:
    if kind not in RISK_KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(RISK_KINDS)}", field="kind")
    if action not in RISK_ACTIONS:
        raise InvalidArgument("action must be alert or block", field="action")
    if applies_to not in RISK_APPLIES:
        raise InvalidArgument("applies_to must be topup, payment or any", field="applies_to")
    if kind != "time_of_day" and threshold <= 0:
        raise InvalidArgument("threshold must be positive", field="threshold")
    if kind in ("count_in_window", "sum_in_window", "chain_velocity") and not 0 < window <= 31 * 86400:
        raise InvalidArgument("window_seconds must be 1..2678400 for this kind", field="window_seconds")
    if kind == "time_of_day" and not (0 <= start < 1440 and 0 <= end < 1440 and start != end):
        raise InvalidArgument(
            "time_of_day needs start_minute and end_minute in 0..1439, not equal", field="start_minute"
        )


# --- limits ---------------------------------------------------------------------------------
def check_top_up_limits(amount: int, balance_after: int, max_single: int, max_balance: int) -> None:
    if amount > max_single:
        raise LimitExceeded(f"a single top-up may be at most {max_single} fen")
    if balance_after > max_balance:
        raise LimitExceeded(f"the balance would be {balance_after} fen, over the card's {max_balance} fen")
