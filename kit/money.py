"""Money in integer fen, rates in basis points, rounding half-up to the fen.

Never floats: amounts are ``int`` fen; decimal input (yuan strings) goes through ``Decimal``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, DecimalException

_YUAN = re.compile(r"^[+-]?\d{1,15}(\.\d{1,8})?$")

BPS = 10_000


def _as_int_fen(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money must be integer fen, got {type(value).__name__}")
    return value


def round_half_up(value: Decimal) -> int:
    """Round a fen amount in Decimal to whole fen, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def apply_bps(amount: int, bps: int) -> int:
    """``amount * bps / 10000`` rounded half-up to the fen (e.g. a 9500 bps = 95% price)."""
    _as_int_fen(amount)
    _as_int_fen(bps)
    return round_half_up(Decimal(amount) * Decimal(bps) / Decimal(BPS))


def discount_for(amount: int, discount_bps: int) -> int:
    """The fen taken off ``amount`` by a discount of ``discount_bps`` (1000 = 10% off)."""
    return apply_bps(amount, discount_bps)


def split_proportional(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` over ``weights`` so the parts sum exactly to ``amount``.

    Each part is floored, then the left-over fen go to the largest remainders (ties to the
    earlier weight). Used to spread a payment over buckets or a discount over lines.
    """
    _as_int_fen(amount)
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError("cannot split a non-zero amount over zero weights")
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def parse_yuan(text: str) -> int:
    """``"12.34"`` -> 1234 fen. More than two decimals is an error, not a rounding; so are
    exponents, separators and amounts of more than 15 digits."""
    if not isinstance(text, str):
        raise ValueError(f"not an amount: {text!r}")
    cleaned = text.strip()
    if not _YUAN.match(cleaned):
        raise ValueError(f"not an amount: {text!r}")
    try:
        fen = Decimal(cleaned) * 100
    except DecimalException:
        raise ValueError(f"not an amount: {text!r}") from None
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(fen)


def format_yuan(fen: int) -> str:
    """1234 -> ``"12.34"``; -5 -> ``"-0.05"``."""
    _as_int_fen(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"
