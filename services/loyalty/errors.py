"""The loyalty service's errors, each with its API reason."""

from __future__ import annotations

from kit.errors import ChainclubError


class LoyaltyError(ChainclubError):
    """Base of the loyalty service's errors."""


class InsufficientPoints(LoyaltyError):
    """The member does not hold enough available points."""

    reason = "insufficient_points"


class CouponUnavailable(LoyaltyError):
    """The coupon cannot be used (not the member's, used, reserved, expired or out of scope)."""

    reason = "coupon_unavailable"


class IdempotencyKeyReused(LoyaltyError):
    """The idempotency key was used before for a different request."""

    reason = "idempotency_key_reused"
