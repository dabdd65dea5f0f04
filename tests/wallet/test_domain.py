"""Pure rules of stored value (services/wallet/domain.py): splits, bonus rules, risk rules,
card states, balanced postings. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import ChainclubError, InvalidArgument
from services.wallet import domain
from services.wallet.domain import (
    BonusRuleView,
    InsufficientBalance,
    LimitExceeded,
    Posting,
    RiskRuleView,
    RiskStats,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
STORE = "HQ/EAST/SH001"


# --- payments ----------------------------------------------------------------------------------
def test_proportional_payment_splits_by_the_buckets_with_exact_sum():
    # 100 fen from buckets 1000 : 2000 -> 33.33 / 66.67: the spare fen goes to the larger remainder
    assert domain.split_payment(100, 1_000, 2_000, "proportional") == (33, 67)
    assert domain.split_payment(3_000, 10_000, 5_000, "proportional") == (2_000, 1_000)


def test_proportional_payment_of_tiny_buckets_stays_within_each_bucket():
    p, b = domain.split_payment(2, 1, 2, "proportional")
    assert p + b == 2
    assert 0 <= p <= 1 and 0 <= b <= 2
    assert domain.split_payment(3, 1, 2, "proportional") == (1, 2)


def test_paying_the_whole_balance_takes_everything_from_both_buckets():
    assert domain.split_payment(12_345, 10_000, 2_345, "proportional") == (10_000, 2_345)
    assert domain.split_payment(12_345, 10_000, 2_345, "bonus_first") == (10_000, 2_345)


def test_payment_from_principal_only_or_bonus_only():
    assert domain.split_payment(500, 1_000, 0, "proportional") == (500, 0)
    assert domain.split_payment(500, 0, 1_000, "proportional") == (0, 500)


def test_bonus_first_drains_the_bonus_before_the_principal():
    assert domain.split_payment(300, 10_000, 500, "bonus_first") == (0, 300)
    assert domain.split_payment(800, 10_000, 500, "bonus_first") == (300, 500)


@pytest.mark.parametrize("mode", ["proportional", "bonus_first"])
def test_payment_over_the_balance_is_insufficient(mode):
    with pytest.raises(InsufficientBalance) as info:
        domain.split_payment(1_501, 1_000, 500, mode)
    assert info.value.reason == "insufficient_balance"
    with pytest.raises(InsufficientBalance):
        domain.split_payment(1, 0, 0, mode)


# --- refunds -----------------------------------------------------------------------------------
def test_refund_goes_back_in_the_proportion_still_refundable():
    assert domain.split_refund(300, 2_000, 1_000) == (200, 100)
    assert domain.split_refund(3_000, 2_000, 1_000) == (2_000, 1_000)


def test_refund_never_exceeds_what_is_left():
    with pytest.raises(InvalidArgument) as info:
        domain.split_refund(3_001, 2_000, 1_000)
    assert info.value.reason == "invalid_argument"
    with pytest.raises(InvalidArgument):
        domain.split_refund(1, 0, 0)


def test_partial_refunds_add_up_to_exactly_the_payment():
    left_p, left_b = 2_001, 999
    back_p = back_b = 0
    for amount in (1_000, 7, 1_993):
        p, b = domain.split_refund(amount, left_p, left_b)
        assert p + b == amount and 0 <= p <= left_p and 0 <= b <= left_b
        left_p, left_b = left_p - p, left_b - b
        back_p, back_b = back_p + p, back_b + b
    assert (back_p, back_b) == (2_001, 999)
    assert (left_p, left_b) == (0, 0)


# --- amounts and limits --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1, 1.5, "100", True, domain.MAX_AMOUNT + 1])
def test_check_amount_refuses_non_positive_non_integer_and_absurd(bad):
    with pytest.raises(InvalidArgument):
        domain.check_amount(bad)


def test_check_amount_accepts_positive_integer_fen():
    assert domain.check_amount(1) == 1
    assert domain.check_amount(domain.MAX_AMOUNT) == domain.MAX_AMOUNT


def test_top_up_limits():
    domain.check_top_up_limits(50_000, 500_000, 50_000, 500_000)  # exactly at both limits
    with pytest.raises(LimitExceeded):
        domain.check_top_up_limits(50_001, 50_001, 50_000, 500_000)
    with pytest.raises(LimitExceeded) as info:
        domain.check_top_up_limits(100, 500_001, 50_000, 500_000)
    assert info.value.reason == "limit_exceeded"


# --- card state ----------------------------------------------------------------------------------
def test_an_active_card_is_usable():
    domain.check_card_usable("active")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("lost", "card_lost"),
        ("frozen", "card_frozen"),
        ("replaced", "card_replaced"),
        ("expired", "card_expired"),
        ("cancelled", "card_cancelled"),
        ("something_new", "invalid_card_state"),
    ],
)
def test_every_other_card_state_is_refused_with_its_reason(status, reason):
    with pytest.raises(ChainclubError) as info:
        domain.check_card_usable(status)
    assert info.value.reason == reason


# --- postings ------------------------------------------------------------------------------------
def test_balanced_postings_pass_and_drop_zero_lines():
    entries = [Posting("a", 100), Posting("b", -100), Posting("c", 0)]
    assert domain.balanced(entries) == [Posting("a", 100), Posting("b", -100)]


def test_unbalanced_postings_are_a_bug():
    with pytest.raises(AssertionError):
        domain.balanced([Posting("a", 100), Posting("b", -99)])
    with pytest.raises(AssertionError):
        domain.balanced([Posting("a", 1)])


def test_ledger_names_carry_the_store_and_account():
    assert domain.member_ledger("acc", "principal") == "member:acc:principal"
    assert domain.clearing_ledger(STORE, "cash") == f"store:{STORE}:clearing:cash"
    assert domain.bonus_expense_ledger(STORE) == f"bonus_expense:{STORE}"
    assert domain.fee_income_ledger(STORE) == f"fee_income:{STORE}"


# --- bonus rules ---------------------------------------------------------------------------------
def rule(
    name: str,
    min_amount: int = 50_000,
    bonus: int = 5_000,
    points: int = 0,
    scope: str = "HQ",
    starts: datetime | None = None,
    ends: datetime | None = None,
) -> BonusRuleView:
    return BonusRuleView(name, name, min_amount, bonus, points, scope, starts, ends)


def test_a_rule_applies_from_its_minimum_amount():
    r = rule("r")
    assert domain.pick_bonus_rule([r], 50_000, STORE, NOW) == r
    assert domain.pick_bonus_rule([r], 49_999, STORE, NOW) is None


def test_top_up_terms_carry_the_picked_rule_and_its_bonus():
    r = rule("r", bonus=5_000, points=300)
    assert domain.top_up_terms([r], 50_000, STORE, NOW) == domain.TopUpTerms(50_000, r, 5_000, 300)
    assert domain.top_up_terms([r], 49_999, STORE, NOW) == domain.TopUpTerms(49_999, None, 0, 0)


def test_a_rule_scoped_elsewhere_does_not_apply():
    rules = [rule("west", scope="HQ/WEST"), rule("other-store", scope="HQ/EAST/SH002")]
    assert domain.pick_bonus_rule(rules, 100_000, STORE, NOW) is None
    here = rule("east", scope="HQ/EAST")
    assert domain.pick_bonus_rule([*rules, here], 100_000, STORE, NOW) == here


def test_a_rule_applies_only_inside_its_window():
    future = rule("future", starts=NOW + timedelta(minutes=1))
    past = rule("past", ends=NOW)  # the end is exclusive
    current = rule("current", starts=NOW, ends=NOW + timedelta(seconds=1))
    assert domain.pick_bonus_rule([future, past], 100_000, STORE, NOW) is None
    assert domain.pick_bonus_rule([future, past, current], 100_000, STORE, NOW) == current


def test_the_largest_bonus_wins():
    small = rule("small", min_amount=10_000, bonus=500, scope="HQ/EAST/SH001")
    large = rule("large", min_amount=50_000, bonus=5_000)
    assert domain.pick_bonus_rule([small, large], 60_000, STORE, NOW) == large
    assert domain.pick_bonus_rule([small, large], 20_000, STORE, NOW) == small


def test_on_equal_bonus_the_most_specific_scope_wins():
    hq = rule("hq", scope="HQ")
    region = rule("region", scope="HQ/EAST")
    store = rule("store", scope=STORE)
    assert domain.pick_bonus_rule([hq, store, region], 60_000, STORE, NOW) == store
    assert domain.pick_bonus_rule([hq, region], 60_000, STORE, NOW) == region
    assert domain.pick_bonus_rule([region, hq], 60_000, STORE, NOW) == region


def test_no_rules_no_bonus():
    assert domain.pick_bonus_rule([], 1_000_000, STORE, NOW) is None


# --- risk rules ----------------------------------------------------------------------------------
def risk(kind: str, threshold: int = 0, window: int = 0, start: int = 0, end: int = 0) -> RiskRuleView:
    return RiskRuleView("id", "r", kind, threshold, window, "alert", "any", start, end)


def test_single_amount_fires_above_the_threshold():
    r = risk("single_amount", threshold=10_000)
    assert domain.risk_hit(r, 10_001, RiskStats(), 0)
    assert domain.risk_hit(r, 10_000, RiskStats(), 0) is None


def test_count_in_window_fires_when_this_transaction_passes_the_limit():
    r = risk("count_in_window", threshold=3, window=60)
    assert domain.risk_hit(r, 1, RiskStats(account_count=2), 0) is None  # this is the 3rd
    assert domain.risk_hit(r, 1, RiskStats(account_count=3), 0)  # this is the 4th


def test_sum_in_window_counts_this_amount_too():
    r = risk("sum_in_window", threshold=10_000, window=60)
    assert domain.risk_hit(r, 4_000, RiskStats(account_sum=6_000), 0) is None
    assert domain.risk_hit(r, 4_001, RiskStats(account_sum=6_000), 0)


def test_chain_velocity_looks_at_the_chain_count():
    r = risk("chain_velocity", threshold=100, window=60)
    assert domain.risk_hit(r, 1, RiskStats(account_count=500, chain_count=99), 0) is None
    assert domain.risk_hit(r, 1, RiskStats(account_count=0, chain_count=100), 0)


def test_time_of_day_within_one_day():
    r = risk("time_of_day", start=9 * 60, end=17 * 60)
    assert domain.risk_hit(r, 1, RiskStats(), 9 * 60)  # start inclusive
    assert domain.risk_hit(r, 1, RiskStats(), 12 * 60)
    assert domain.risk_hit(r, 1, RiskStats(), 17 * 60) is None  # end exclusive
    assert domain.risk_hit(r, 1, RiskStats(), 8 * 60 + 59) is None


def test_time_of_day_wrapping_midnight():
    r = risk("time_of_day", start=23 * 60, end=5 * 60)  # 23:00-05:00
    for minute in (23 * 60, 23 * 60 + 59, 0, 2 * 60, 5 * 60 - 1):
        assert domain.risk_hit(r, 1, RiskStats(), minute), minute
    for minute in (5 * 60, 12 * 60, 22 * 60 + 59):
        assert domain.risk_hit(r, 1, RiskStats(), minute) is None, minute


def test_rules_apply_to_their_transaction_kind():
    topups = RiskRuleView("id", "r", "single_amount", 1, 0, "alert", "topup")
    anything = RiskRuleView("id", "r", "single_amount", 1, 0, "alert", "any")
    assert domain.applies(topups, "topup") and not domain.applies(topups, "payment")
    assert domain.applies(anything, "topup") and domain.applies(anything, "payment")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("velocity", "alert", "any", 1, 60, 0, 0), "kind"),
        (("single_amount", "shout", "any", 1, 0, 0, 0), "action"),
        (("single_amount", "alert", "refund", 1, 0, 0, 0), "applies_to"),
        (("single_amount", "alert", "any", 0, 0, 0, 0), "threshold"),
        (("count_in_window", "alert", "any", 3, 0, 0, 0), "window_seconds"),
        (("time_of_day", "alert", "any", 0, 0, 600, 600), "start_minute"),
        (("time_of_day", "alert", "any", 0, 0, 0, 1440), "start_minute"),
    ],
)
def test_invalid_risk_rules_are_refused(args, field):
    with pytest.raises(InvalidArgument) as info:
        domain.check_risk_rule(*args)
    assert info.value.extra["field"] == field


# --- properties ------------------------------------------------------------------------------------
@st.composite
def buckets_and_amount(draw):  # type: ignore[no-untyped-def]
    principal = draw(st.integers(min_value=0, max_value=10**10))
    bonus = draw(st.integers(min_value=0, max_value=10**10))
    total = principal + bonus
    if total == 0:
        principal, total = 1, 1
    amount = draw(st.integers(min_value=1, max_value=total))
    return principal, bonus, amount


@given(buckets_and_amount(), st.sampled_from(["proportional", "bonus_first"]))
def test_any_payment_splits_exactly_and_within_the_buckets(case, mode):
    principal, bonus, amount = case
    p, b = domain.split_payment(amount, principal, bonus, mode)
    assert p + b == amount
    assert 0 <= p <= principal
    assert 0 <= b <= bonus


@given(buckets_and_amount())
def test_any_proportional_payment_stays_within_a_fen_of_the_exact_share(case):
    principal, bonus, amount = case
    p, _ = domain.split_payment(amount, principal, bonus, "proportional")
    exact = amount * principal / (principal + bonus)
    assert abs(p - exact) < 1


@given(buckets_and_amount(), st.lists(st.integers(min_value=1, max_value=10**10), max_size=6))
def test_any_sequence_of_refunds_never_returns_more_than_was_paid(case, requests):
    paid_p, paid_b, _ = case
    left_p, left_b = paid_p, paid_b
    for want in requests:
        if want > left_p + left_b:
            with pytest.raises(InvalidArgument):
                domain.split_refund(want, left_p, left_b)
            continue
        p, b = domain.split_refund(want, left_p, left_b)
        assert p + b == want
        assert 0 <= p <= left_p and 0 <= b <= left_b
        left_p, left_b = left_p - p, left_b - b
    assert 0 <= left_p <= paid_p and 0 <= left_b <= paid_b
