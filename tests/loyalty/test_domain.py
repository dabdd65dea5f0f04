"""Pure rules of loyalty (services/loyalty/domain.py): pricing order and rounding, promotion
stacking, coupons, points as payment, earn rules, lots, tiers, refund shares. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import InvalidArgument
from services.loyalty import domain
from services.loyalty.domain import (
    Coupon,
    CouponUnavailable,
    EarnRule,
    InsufficientPoints,
    Line,
    Lot,
    PricingInput,
    Promotion,
    Tier,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
STORE = "HQ/EAST/SH001"
HQ_RULE = EarnRule("r0", "HQ default", "HQ")


def quote(lines, **kw) -> domain.Quote:  # type: ignore[no-untyped-def]
    kw.setdefault("earn_rules", [HQ_RULE])
    return domain.price(PricingInput(lines=lines, store_path=STORE, now=NOW, today=TODAY, **kw))


def by_kind(q: domain.Quote, kind: str) -> int:
    return sum(d.amount for d in q.discounts if d.kind == kind)


def test_no_member_prices_at_retail_and_earns_nothing():
    q = quote([Line("A", "food", 2, 1050), Line("B", "toys", 1, 999)])
    assert q.subtotal == 3099 and q.total_due == 3099 and q.discounts == [] and q.points_to_earn == 0


def test_tier_discount_rounds_half_up_per_line():
    # 5% of 1010 = 50.5 -> 51; 5% of 10 = 0.5 -> 1
    q = quote(
        [Line("A", "x", 1, 1010), Line("B", "x", 1, 10)], member=True, tier=Tier("gold", discount_bps=500)
    )
    assert [line.discount for line in q.lines] == [51, 1]
    assert q.total_due == 1020 - 52
    assert {d.rule for d in q.discounts} == {"tier:gold"}


def test_card_discount_applies_after_tier_discount():
    # 1000 -10% tier = 900; card 5% of 900 = 45
    q = quote(
        [Line("A", "x", 1, 1000)], member=True, tier=Tier("gold", discount_bps=1000), card_discount_bps=500
    )
    assert by_kind(q, "tier") == 100 and by_kind(q, "card") == 45 and q.total_due == 855


def test_card_discount_needs_a_member():
    q = quote([Line("A", "x", 1, 1000)], card_discount_bps=500)
    assert q.total_due == 1000


def test_category_discount_only_touches_its_category():
    promo = Promotion("p1", "toys 20%", "category_discount", category="toys", discount_bps=2000)
    q = quote([Line("A", "food", 1, 1000), Line("B", "toys", 1, 1000)], promotions=[promo])
    assert [line.discount for line in q.lines] == [0, 200]
    assert q.discounts[0].rule == "toys 20%" and q.discounts[0].sku == "B"


def test_member_day_applies_on_its_day_only():
    promo = Promotion("p1", "member day", "member_day", day_of_month=15, discount_bps=1000, members_only=True)
    other = Promotion("p2", "other day", "member_day", day_of_month=16, discount_bps=1000)
    q = quote([Line("A", "x", 1, 1000)], promotions=[promo, other], member=True)
    assert by_kind(q, "promotion") == 100
    assert quote([Line("A", "x", 1, 1000)], promotions=[promo]).total_due == 1000  # members only


def test_best_spend_x_save_y_applies_once_and_is_spread_over_lines():
    small = Promotion("p1", "100-10", "spend_x_save_y", spend_threshold=10_000, save_amount=1_000)
    big = Promotion("p2", "200-30", "spend_x_save_y", spend_threshold=20_000, save_amount=3_000)
    q = quote([Line("A", "x", 1, 15_000), Line("B", "x", 1, 6_000)], promotions=[small, big])
    assert by_kind(q, "promotion") == 3_000
    assert [line.discount for line in q.lines] == [2143, 857]  # split_proportional, exact sum
    assert {d.rule for d in q.discounts} == {"200-30"}


def test_spend_threshold_is_tested_after_the_line_discounts():
    promo = Promotion("p1", "100-10", "spend_x_save_y", spend_threshold=10_000, save_amount=1_000)
    q = quote(
        [Line("A", "x", 1, 10_000)], member=True, tier=Tier("gold", discount_bps=100), promotions=[promo]
    )
    assert by_kind(q, "promotion") == 0


def test_promotions_respect_scope_time_window_and_active():
    lines = [Line("A", "x", 1, 10_000)]
    mk = lambda **kw: Promotion("p", "p", "category_discount", category="x", discount_bps=1000, **kw)  # noqa: E731
    assert quote(lines, promotions=[mk(scope="HQ/WEST")]).total_due == 10_000
    assert quote(lines, promotions=[mk(scope="HQ/EAST")]).total_due == 9_000
    assert quote(lines, promotions=[mk(starts_at=datetime(2026, 7, 1, tzinfo=UTC))]).total_due == 10_000
    assert quote(lines, promotions=[mk(ends_at=NOW)]).total_due == 10_000  # the end is exclusive
    assert quote(lines, promotions=[mk(active=False)]).total_due == 10_000


def test_amount_off_coupon_needs_its_minimum_spend():
    c = Coupon("C1", "100-20", "amount_off", amount_off=2_000, min_spend=10_000)
    assert quote([Line("A", "x", 1, 10_000)], member=True, coupon=c).total_due == 8_000
    with pytest.raises(CouponUnavailable):
        quote([Line("A", "x", 1, 9_999)], member=True, coupon=c)


def test_percent_off_coupon_rounds_half_up_on_the_running_total():
    c = Coupon("C1", "15% off", "percent_off", percent_off_bps=1500)
    q = quote([Line("A", "x", 1, 1_003)], member=True, coupon=c)  # 150.45 -> 150
    assert by_kind(q, "coupon") == 150
    q = quote([Line("A", "x", 1, 1_010)], member=True, coupon=c)  # 151.5 -> 152
    assert by_kind(q, "coupon") == 152


def test_expired_or_out_of_scope_coupon_is_unavailable():
    with pytest.raises(CouponUnavailable):
        quote(
            [Line("A", "x", 1, 100)], member=True, coupon=Coupon("C", "c", "amount_off", 10, valid_until=NOW)
        )
    with pytest.raises(CouponUnavailable):
        quote(
            [Line("A", "x", 1, 100)], member=True, coupon=Coupon("C", "c", "amount_off", 10, scope="HQ/WEST")
        )


def test_discounts_never_take_a_line_below_zero():
    c = Coupon("C1", "big", "amount_off", amount_off=5_000)
    q = quote([Line("A", "x", 1, 1_000)], member=True, coupon=c)
    assert q.total_due == 0 and by_kind(q, "coupon") == 1_000


def test_points_pay_at_the_configured_rate_and_cap():
    lines = [Line("A", "x", 1, 10_000)]
    q = quote(lines, member=True, points_to_use=3_000, points_available=5_000)
    assert q.points_value == 3_000 and q.total_due == 7_000
    q = quote(lines, member=True, points_to_use=3_000, points_available=5_000, points_per_yuan=200)
    assert q.points_value == 1_500
    q = quote(lines, member=True, points_to_use=3, points_available=5, points_per_yuan=200)  # 1.5 -> 2
    assert q.points_value == 2
    with pytest.raises(InvalidArgument):
        quote(lines, member=True, points_to_use=5_001, points_available=9_000)  # over 50%
    with pytest.raises(InsufficientPoints):
        quote(lines, member=True, points_to_use=3_000, points_available=2_999)


def test_points_need_a_member():
    with pytest.raises(InvalidArgument):
        quote([Line("A", "x", 1, 10_000)], points_to_use=10, points_available=10)


def test_hq_default_earns_one_point_per_yuan_paid_rounded_down():
    q = quote([Line("A", "x", 1, 12_99)], member=True)
    assert q.points_to_earn == 12 and q.earn_rules == ["HQ default"]


def test_points_earned_on_what_is_paid_after_discounts_and_points():
    q = quote([Line("A", "x", 1, 10_000)], member=True, points_to_use=2_000, points_available=2_000)
    assert q.total_due == 8_000 and q.points_to_earn == 80


def test_most_specific_earn_rule_wins():
    region = EarnRule("r1", "east x2", "HQ/EAST", points_per_yuan_bps=20_000)
    toys = EarnRule("r2", "toys x3", "HQ", category="toys", points_per_yuan_bps=30_000)
    west = EarnRule("r3", "west x5", "HQ/WEST", points_per_yuan_bps=50_000)
    rules = [HQ_RULE, region, toys, west]
    assert domain.pick_earn_rule(rules, STORE, "food") == region
    assert domain.pick_earn_rule(rules, STORE, "toys") == region  # deeper scope beats category
    assert domain.pick_earn_rule(rules, "HQ/NORTH/BJ1", "toys") == toys
    assert domain.pick_earn_rule([HQ_RULE], "HQ/NORTH/BJ1", "toys") == HQ_RULE


def test_tier_member_day_and_birthday_multipliers_stack():
    rule = EarnRule(
        "r",
        "base",
        "HQ",
        member_day=15,
        member_day_multiplier_bps=20_000,
        birthday_month_multiplier_bps=15_000,
    )
    pts, names = domain.points_to_earn(
        [("x", 10_000)], [rule], STORE, TODAY, Tier("gold", points_multiplier_bps=15_000), 6
    )
    assert pts == int(100 * 1.5 * 2 * 1.5)
    assert names == ["base", "tier:gold", "base:member_day", "base:birthday_month"]


def test_default_expiry_is_the_end_of_the_year_after_next():
    assert domain.default_expiry(date(2026, 1, 1)) == date(2028, 12, 31)
    assert domain.default_expiry(date(2026, 12, 31)) == date(2028, 12, 31)


def test_lots_are_used_first_expiring_first():
    lots = [
        Lot("b", 50, date(2028, 12, 31)),
        Lot("a", 30, date(2027, 12, 31)),
        Lot("c", 10, date(2027, 12, 31)),
    ]
    assert domain.consume_fifo(lots, 45) == [("a", 30), ("c", 10), ("b", 5)]
    with pytest.raises(InsufficientPoints):
        domain.consume_fifo(lots, 91)


@given(st.lists(st.integers(0, 1_000), max_size=8), st.integers(0, 10_000))
def test_fifo_never_takes_more_than_a_lot_holds(sizes, want):
    lots = [Lot(str(i), n, date(2027 + i % 3, 12, 31)) for i, n in enumerate(sizes)]
    if want > sum(sizes):
        with pytest.raises(InsufficientPoints):
            domain.consume_fifo(lots, want)
        return
    taken = dict(domain.consume_fifo(lots, want))
    assert sum(taken.values()) == want
    assert all(0 < taken[lot.id] <= lot.remaining for lot in lots if lot.id in taken)


def test_expiring_points_are_grouped_by_date_within_30_days():
    lots = [Lot("a", 5, date(2026, 6, 30)), Lot("b", 7, date(2026, 6, 30)), Lot("c", 9, date(2026, 7, 16))]
    assert domain.expiring_by_date(lots, TODAY) == [(date(2026, 6, 30), 12)]


def test_tier_upgrades_on_spend_or_points_and_never_down():
    tiers = [
        Tier("standard", rank=0),
        Tier("silver", rank=1, min_spend_12m=100_000),
        Tier("gold", rank=2, min_points_12m=5_000),
    ]
    assert domain.upgrade_to(tiers, "standard", 100_000, 0).code == "silver"
    assert domain.upgrade_to(tiers, "standard", 0, 5_000).code == "gold"
    assert domain.upgrade_to(tiers, "gold", 100_000, 0) is None
    assert domain.upgrade_to(tiers, "standard", 99_999, 4_999) is None


def test_a_tier_is_kept_at_the_review_from_its_keep_thresholds_or_else_its_upgrade_ones():
    silver = Tier("silver", rank=1, min_spend_12m=100_000, keep_spend_12m=60_000)
    gold = Tier("gold", rank=2, min_points_12m=5_000)  # no keep threshold: the upgrade one
    assert domain.keeps(silver, 60_000, 0) and not domain.keeps(silver, 59_999, 0)
    assert domain.keeps(gold, 0, 5_000) and not domain.keeps(gold, 10**9, 4_999)
    assert domain.keeps(Tier("standard", rank=0), 0, 0)


def test_refund_shares_add_up_to_the_whole():
    # three partial refunds of 1/3 each: cumulative shares give back exactly 100
    parts = [domain.share(100, a, 3) - domain.share(100, b, 3) for b, a in ((0, 1), (1, 2), (2, 3))]
    assert parts == [33, 34, 33] and sum(parts) == 100
    assert domain.refund_amount(1_000, 3, 0, 1, 0) == 333
    assert domain.refund_amount(1_000, 3, 2, 1, 667) == 333  # the last unit takes the remainder


@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), min_size=1, max_size=6),
    st.integers(0, 3_000),
    st.integers(0, 2_000),
)
def test_quote_adds_up(lines, bps, points):
    ls = [Line(f"S{i}", "x", q, p) for i, (q, p) in enumerate(lines)]
    promo = Promotion("p", "50-5", "spend_x_save_y", spend_threshold=5_000, save_amount=500)
    try:
        q = quote(
            ls,
            member=True,
            tier=Tier("t", discount_bps=bps),
            promotions=[promo],
            points_to_use=points,
            points_available=points,
        )
    except InvalidArgument:
        return  # points over the cap
    assert sum(line.amount for line in q.lines) == q.subtotal - q.discount_total
    assert q.total_due == q.subtotal - q.discount_total - q.points_value >= 0
    assert all(line.amount >= 0 for line in q.lines)
