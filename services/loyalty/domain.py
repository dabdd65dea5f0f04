"""Pure rules of loyalty: pricing a quote, earning points, points lots, tiers, refunds.
No I/O, no clock reads (``now``/``today`` are passed in).

Order of application in a quote (each step works on what the previous steps left):

1. subtotal = sum of ``unit_price * qty``.
2. tier discount, per line, on the line's gross amount (member only).
3. card discount (the card type's 折扣), per line, on the amount after the tier discount.
4. category discounts, then the member-day discount, per line, on the running line amount.
5. spend-X-save-Y (满减): the single best eligible promotion, tested against the running
   total, spread over the lines in proportion to their running amounts.
6. at most one coupon: amount off (with minimum spend) or percent off the running total,
   spread over the lines the same way.
7. points used as payment: ``points * 100 / points_per_yuan`` fen, at most
   ``max_share_bps`` of what is left; they pay, they do not discount the lines.

Every percentage is rounded half-up to the fen where it is computed (``kit.money``);
amounts spread over lines use ``split_proportional`` so the parts add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from kit.auth import may_access
from kit.errors import InvalidArgument
from kit.money import BPS, discount_for, round_half_up, split_proportional

PROMOTION_KINDS = ("spend_x_save_y", "category_discount", "member_day")
COUPON_KINDS = ("amount_off", "percent_off", "gift")
CAMPAIGNS = ("", "welcome", "birthday", "tier_upgrade", "top_up", "referral")
MAX_QTY = 10_000
MAX_UNIT_PRICE = 10**9  # fen; above is a typo
MAX_LINES = 500


from services.loyalty.errors import (  # noqa: E402, F401 - part of the domain's vocabulary
    CouponUnavailable,
    IdempotencyKeyReused,
    InsufficientPoints,
    LoyaltyError,
)

# ---------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    qty: int
    unit_price: int
    name: str = ""

    @property
    def gross(self) -> int:
        return self.unit_price * self.qty


@dataclass(frozen=True)
class Tier:
    code: str
    name: str = ""
    rank: int = 0
    min_spend_12m: int = 0
    min_points_12m: int = 0
    discount_bps: int = 0
    points_multiplier_bps: int = BPS
    keep_spend_12m: int = 0  # to stay on it at the review (保级); 0 = min_spend_12m
    keep_points_12m: int = 0  # 0 = min_points_12m


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    kind: str
    spend_threshold: int = 0
    save_amount: int = 0
    category: str = ""
    discount_bps: int = 0
    day_of_month: int = 0
    members_only: bool = False
    scope: str = "HQ"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True

    def applies(self, store_path: str, now: datetime, member: bool) -> bool:
        """Active, in its time window [starts_at, ends_at), in scope, and for members only
        when it says so."""
        if not self.active or (self.members_only and not member):
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        if self.ends_at is not None and now >= self.ends_at:
            return False
        return may_access(self.scope, store_path)


@dataclass(frozen=True)
class Coupon:
    code: str
    name: str
    kind: str
    amount_off: int = 0
    percent_off_bps: int = 0
    min_spend: int = 0
    scope: str = "HQ"
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class EarnRule:
    id: str
    name: str
    scope: str = "HQ"
    category: str = ""
    points_per_yuan_bps: int = BPS
    member_day: int = 0
    member_day_multiplier_bps: int = BPS
    birthday_month_multiplier_bps: int = BPS
    active: bool = True

    def specificity(self) -> tuple[int, int]:
        """Deeper scope first, then a category rule over an all-categories rule."""
        return (self.scope.count("/"), 1 if self.category else 0)


@dataclass(frozen=True)
class PricingInput:
    lines: list[Line]
    store_path: str
    now: datetime  # the instant (time windows)
    today: date  # the chain's local date (member day, birthday month)
    member: bool = False
    tier: Tier | None = None
    card_discount_bps: int = 0
    promotions: list[Promotion] = field(default_factory=list)
    coupon: Coupon | None = None
    points_to_use: int = 0
    points_available: int = 0
    points_per_yuan: int = 100
    points_max_share_bps: int = 5000
    earn_rules: list[EarnRule] = field(default_factory=list)
    birthday_month: int = 0  # 0 = unknown


@dataclass(frozen=True)
class Discount:
    kind: str  # tier, card, promotion, coupon, points
    rule: str
    amount: int
    sku: str = ""


@dataclass(frozen=True)
class QuotedLine:
    sku: str
    category: str
    qty: int
    unit_price: int
    discount: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.qty - self.discount


@dataclass(frozen=True)
class Quote:
    lines: list[QuotedLine]
    subtotal: int
    discounts: list[Discount]
    points_used: int
    points_value: int
    total_due: int
    points_to_earn: int
    tier: str
    earn_rules: list[str]

    @property
    def discount_total(self) -> int:
        return sum(d.amount for d in self.discounts if d.kind != "points")


# ---------------------------------------------------------------------------------------
# validation


def check_lines(lines: list[Line]) -> None:
    if not lines:
        raise InvalidArgument("a quote needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidArgument(f"at most {MAX_LINES} lines", field="lines")
    seen: set[str] = set()
    for line in lines:
        if not line.sku:
            raise InvalidArgument("every line needs a sku", field="lines.sku")
        if line.sku in seen:
            raise InvalidArgument(f"sku {line.sku} appears twice; give one line per sku", field="lines.sku")
        seen.add(line.sku)
        if not 0 < line.qty <= MAX_QTY:
            raise InvalidArgument(f"qty must be between 1 and {MAX_QTY}", field="lines.qty")
        if not 0 <= line.unit_price <= MAX_UNIT_PRICE:
            raise InvalidArgument("unit_price must be between 0 and 10^9 fen", field="lines.unit_price")


def check_bps(value: int, name: str, maximum: int = BPS) -> None:
    if not 0 <= value <= maximum:
        raise InvalidArgument(f"{name} must be between 0 and {maximum} basis points", field=name)


def points_value(points: int, points_per_yuan: int) -> int:
    """Fen paid by ``points``: ``points * 100 / points_per_yuan``, rounded half-up to the fen."""
    return round_half_up(Decimal(points) * 100 / Decimal(points_per_yuan))


def coupon_usable(c: Coupon, store_path: str, now: datetime) -> bool:
    if c.valid_from is not None and now < c.valid_from:
        return False
    if c.valid_until is not None and now >= c.valid_until:
        return False
    return may_access(c.scope, store_path)


# ---------------------------------------------------------------------------------------
# pricing


def _spread(amount: int, running: list[int]) -> list[int]:
    """Spread a whole-order discount over the lines in proportion to their running amounts."""
    if amount == 0 or sum(running) == 0:
        return [0] * len(running)
    return split_proportional(amount, running)


def price(q: PricingInput) -> Quote:
    """The quote: every discount with the rule that made it, points used, total due and
    points to earn. Raises ``InsufficientPoints``, ``CouponUnavailable``, ``InvalidArgument``."""
    check_lines(q.lines)
    discounts: list[Discount] = []
    running = [line.gross for line in q.lines]
    subtotal = sum(running)

    def take(i: int, amount: int, kind: str, rule: str) -> None:
        amount = min(amount, running[i])
        if amount > 0:
            running[i] -= amount
            discounts.append(Discount(kind, rule, amount, q.lines[i].sku))

    # 2-3. tier then card discount, per line
    if q.member and q.tier is not None and q.tier.discount_bps:
        for i in range(len(q.lines)):
            take(i, discount_for(running[i], q.tier.discount_bps), "tier", f"tier:{q.tier.code}")
    if q.member and q.card_discount_bps:
        for i in range(len(q.lines)):
            take(i, discount_for(running[i], q.card_discount_bps), "card", "card_discount")

    promos = sorted(
        (p for p in q.promotions if p.applies(q.store_path, q.now, q.member)), key=lambda p: (p.name, p.id)
    )
    # 4. category discounts, then member day, per line
    for p in promos:
        if p.kind == "category_discount":
            for i, line in enumerate(q.lines):
                if line.category == p.category:
                    take(i, discount_for(running[i], p.discount_bps), "promotion", p.name)
    for p in promos:
        if p.kind == "member_day" and p.day_of_month == q.today.day:
            for i in range(len(q.lines)):
                take(i, discount_for(running[i], p.discount_bps), "promotion", p.name)

    def take_order(amount: int, kind: str, rule: str) -> None:
        amount = min(amount, sum(running))
        for i, part in enumerate(_spread(amount, list(running))):
            take(i, part, kind, rule)

    # 5. the best 满减 (they do not stack with each other)
    total = sum(running)
    eligible = [p for p in promos if p.kind == "spend_x_save_y" and total >= p.spend_threshold > 0]
    if eligible:
        best = max(eligible, key=lambda p: (p.save_amount, -p.spend_threshold))
        take_order(best.save_amount, "promotion", best.name)

    # 6. one coupon
    if q.coupon is not None:
        c = q.coupon
        total = sum(running)
        if not coupon_usable(c, q.store_path, q.now):
            raise CouponUnavailable(f"coupon {c.code} is not valid here or now")
        if total < c.min_spend:
            raise CouponUnavailable(f"coupon {c.code} needs a minimum spend of {c.min_spend} fen")
        if c.kind == "amount_off":
            take_order(c.amount_off, "coupon", c.code)
        elif c.kind == "percent_off":
            take_order(discount_for(total, c.percent_off_bps), "coupon", c.code)
        # a gift coupon takes nothing off the price: the gift is handed over

    # 7. points as payment
    total = sum(running)
    used, value = 0, 0
    if q.points_to_use:
        if q.points_to_use < 0:
            raise InvalidArgument("points_to_use must not be negative", field="points_to_use")
        if not q.member:
            raise InvalidArgument("points need a member card", field="points_to_use")
        if q.points_to_use > q.points_available:
            raise InsufficientPoints(f"{q.points_available} points available, {q.points_to_use} asked")
        used, value = q.points_to_use, points_value(q.points_to_use, q.points_per_yuan)
        cap = discount_for(total, q.points_max_share_bps)
        if value > cap:
            raise InvalidArgument(f"points may pay at most {cap} fen of this purchase", field="points_to_use")
        discounts.append(Discount("points", "points", value))
    total_due = total - value

    lines = [
        QuotedLine(line.sku, line.category, line.qty, line.unit_price, line.gross - running[i])
        for i, line in enumerate(q.lines)
    ]
    earned, rules = (0, [])
    if q.member:
        paid = _spread(total_due, list(running))
        earned, rules = points_to_earn(
            [(line.category, paid[i]) for i, line in enumerate(q.lines)],
            q.earn_rules,
            q.store_path,
            q.today,
            q.tier,
            q.birthday_month,
        )
    return Quote(
        lines=lines,
        subtotal=subtotal,
        discounts=discounts,
        points_used=used,
        points_value=value,
        total_due=total_due,
        points_to_earn=earned,
        tier=q.tier.code if (q.member and q.tier) else "",
        earn_rules=rules,
    )


# ---------------------------------------------------------------------------------------
# earning


def pick_earn_rule(rules: list[EarnRule], store_path: str, category: str) -> EarnRule | None:
    """The most specific active rule for this store and category: the deepest scope wins,
    and within one scope a rule for the category beats an all-categories rule."""
    fitting = [
        r
        for r in rules
        if r.active and may_access(r.scope, store_path) and (r.category == "" or r.category == category)
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda r: (*r.specificity(), r.name, r.id))


def points_to_earn(
    paid_by_category: list[tuple[str, int]],
    rules: list[EarnRule],
    store_path: str,
    today: date,
    tier: Tier | None,
    birthday_month: int,
) -> tuple[int, list[str]]:
    """Points for the fen paid (after discounts and points) per line, and the names of the
    rules applied. Each line: ``paid / 100 * points_per_yuan_bps / 10000`` × tier multiplier
    × member-day multiplier (when the rule's day is today) × birthday-month multiplier. The
    sum is rounded down once at the end: fractions of a point are never given."""
    total = Decimal(0)
    names: list[str] = []

    def name(n: str) -> None:
        if n not in names:
            names.append(n)

    for category, paid in paid_by_category:
        rule = pick_earn_rule(rules, store_path, category)
        if rule is None or paid <= 0:
            continue
        pts = Decimal(paid) / 100 * Decimal(rule.points_per_yuan_bps) / BPS
        name(rule.name)
        if tier is not None and tier.points_multiplier_bps != BPS:
            pts = pts * tier.points_multiplier_bps / BPS
            name(f"tier:{tier.code}")
        if rule.member_day and rule.member_day == today.day and rule.member_day_multiplier_bps != BPS:
            pts = pts * rule.member_day_multiplier_bps / BPS
            name(f"{rule.name}:member_day")
        if birthday_month and birthday_month == today.month and rule.birthday_month_multiplier_bps != BPS:
            pts = pts * rule.birthday_month_multiplier_bps / BPS
            name(f"{rule.name}:birthday_month")
        total += pts
    return int(total.to_integral_value(rounding=ROUND_FLOOR)), names


# Points lots, tiers and refund shares live in domain_points.py.
from services.loyalty.domain_points import (  # noqa: E402, F401 - one domain for callers
    Lot,
    consume_fifo,
    default_expiry,
    expiring_by_date,
    keeps,
    refund_amount,
    share,
    tier_reached,
    upgrade_to,
)
