"""Pure rules of points lots (expiry, FIFO use), tier thresholds and refund shares.
Re-exported by services.loyalty.domain, where the rest of the rules live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from kit.money import round_half_up
from services.loyalty.errors import InsufficientPoints

if TYPE_CHECKING:
    from services.loyalty.domain import Tier

# ---------------------------------------------------------------------------------------
# points lots


def default_expiry(earned_on: date) -> date:
    """Points expire at the end of the year after next: earned in 2026 -> 2028-12-31."""
    return date(earned_on.year + 2, 12, 31)


@dataclass(frozen=True)
class Lot:
    id: str
    remaining: int
    expires_on: date


def consume_fifo(lots: list[Lot], points: int) -> list[tuple[str, int]]:
    """Take ``points`` from the lots that expire first (ties: the earlier id): (lot id, taken)
    pairs. Never takes more than a lot holds; ``InsufficientPoints`` when they do not add up."""
    if points < 0:
        raise ValueError("points must be non-negative")
    taken: list[tuple[str, int]] = []
    left = points
    for lot in sorted(lots, key=lambda lot: (lot.expires_on, lot.id)):
        if left == 0:
            break
        n = min(lot.remaining, left)
        if n > 0:
            taken.append((lot.id, n))
            left -= n
    if left:
        raise InsufficientPoints(f"the lots hold {points - left} points, {points} needed")
    return taken


def expiring_by_date(lots: list[Lot], today: date, days: int = 30) -> list[tuple[date, int]]:
    """Points expiring within ``days`` of ``today``, grouped by date, earliest first."""
    out: dict[date, int] = {}
    for lot in lots:
        if lot.remaining > 0 and (lot.expires_on - today).days <= days and lot.expires_on >= today:
            out[lot.expires_on] = out.get(lot.expires_on, 0) + lot.remaining
    return sorted(out.items())


# ---------------------------------------------------------------------------------------
# tiers


def tier_reached(tiers: list[Tier], spend_12m: int, points_12m: int) -> Tier | None:
    """The highest tier whose spend or points threshold is met (the entry tier always is)."""
    met = [
        t
        for t in tiers
        if t.rank == 0
        or (t.min_spend_12m > 0 and spend_12m >= t.min_spend_12m)
        or (t.min_points_12m > 0 and points_12m >= t.min_points_12m)
    ]
    return max(met, key=lambda t: t.rank) if met else None


def keeps(tier: Tier, spend_12m: int, points_12m: int) -> bool:
    """Whether the review leaves a member on ``tier`` (保级): the entry tier always; another while
    the rolling 12 months reach its keep thresholds (its upgrade thresholds where none is set)."""
    if tier.rank == 0:
        return True
    spend = tier.keep_spend_12m or tier.min_spend_12m
    points = tier.keep_points_12m or tier.min_points_12m
    return (spend > 0 and spend_12m >= spend) or (points > 0 and points_12m >= points)


def upgrade_to(tiers: list[Tier], current: str, spend_12m: int, points_12m: int) -> Tier | None:
    """The tier to move up to at once, or None: a purchase never moves a member down (that is
    the periodic review's job)."""
    ranks = {t.code: t.rank for t in tiers}
    reached = tier_reached(tiers, spend_12m, points_12m)
    if reached is None or reached.rank <= ranks.get(current, -1):
        return None
    return reached


# ---------------------------------------------------------------------------------------
# refunds


def share(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded half-up (a refund's share of points used or earned)."""
    if whole <= 0:
        return 0
    return round_half_up(Decimal(total) * Decimal(part) / Decimal(whole))


def refund_amount(line_amount: int, line_qty: int, already_qty: int, qty: int, already_amount: int) -> int:
    """The fen refunded for ``qty`` more units of a line: half-up of the unit share, and the
    exact remainder when the last units go back (so a line refunds to its amount exactly)."""
    if already_qty + qty >= line_qty:
        return line_amount - already_amount
    return share(line_amount, qty, line_qty)
