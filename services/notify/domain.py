"""Pure rules of notify: which events notify about and what their templates may use, quiet
hours, retry backoff, and the 333 follow-up schedule. No I/O; ``now`` is passed in."""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kit.errors import ChainclubError, Conflict, InvalidArgument, NotFound

CHANNELS = ("sms", "wechat", "email", "announcement")
LOCALES = ("zh-CN", "en")
CONSENT_CHANNELS = ("sms", "wechat", "email")  # announcements are in-system: no consent needed


class NotifyError(ChainclubError):
    """Base of notify's errors."""


class UnknownEvent(InvalidArgument):
    """Not an event notify has templates for."""


class InvalidTemplate(InvalidArgument):
    """A template that does not parse or uses a variable its event does not offer."""


class FollowUpNotFound(NotFound):
    """No such follow-up in the caller's scope (never reveal that it exists)."""


class FollowUpCompleted(Conflict):
    """The follow-up was completed already."""


class DeliveryNotFound(NotFound):
    """No such delivery in the caller's scope (never reveal that it exists)."""


class DeliveryNotDead(Conflict):
    """Only a dead delivery (its retries exhausted) can be retried."""


@dataclass(frozen=True)
class EventKind:
    """An event type notify sends about: its subject, whether it is marketing (needs consent,
    respects quiet hours) and the variables its templates may use. ``quiet`` makes a
    transactional notice wait out quiet hours too (reminders that are not urgent)."""

    key: str
    subject: str
    marketing: bool
    variables: tuple[str, ...]
    quiet: bool = False

    @property
    def respects_quiet_hours(self) -> bool:
        return self.marketing or self.quiet


_MEMBER = ("member_name", "member_no", "time")

EVENT_KINDS: dict[str, EventKind] = {
    k.key: k
    for k in (
        EventKind("welcome", "members.member.registered", True, (*_MEMBER, "card_no", "store")),
        # The consumption notice: one per checkout, from whichever of wallet.payment.captured and
        # loyalty.purchase.recorded arrives first (see ``consumption_key``).
        EventKind("payment", "wallet.payment.captured", False, (*_MEMBER, "card_no", "amount_yuan", "store")),
        EventKind(
            "top_up", "wallet.topup.completed", False,
            (*_MEMBER, "card_no", "amount_yuan", "bonus_yuan", "bonus_points", "store"),
        ),
        EventKind("points_earned", "loyalty.points.earned", False, (*_MEMBER, "points", "balance")),
        EventKind("tier_changed", "loyalty.tier.changed", False, (*_MEMBER, "from_tier", "to_tier")),
        EventKind("coupon_issued", "loyalty.coupon.issued", True, (*_MEMBER, "coupon_name", "code", "valid_until")),
        EventKind("card_status", "members.card.status_changed", False, (*_MEMBER, "card_no", "status", "store")),
        # Greetings are marketing: consent per channel, deferred through quiet hours.
        EventKind("birthday", "", True, _MEMBER),
        EventKind("anniversary", "", True, (*_MEMBER, "years")),
        # Expiry reminders are transactional: they are about the member's own points and coupons
        # (no marketing consent needed), yet not urgent, so they wait out quiet hours.
        EventKind(
            "points_expiring", "loyalty.points.expiring", False, (*_MEMBER, "points", "balance", "expires_on"),
            quiet=True,
        ),
        EventKind(
            "coupon_expiring", "loyalty.coupon.expiring", False, (*_MEMBER, "coupon_name", "code", "valid_until"),
            quiet=True,
        ),
        # To managers (staff, not members): per store and region, see services/notify/report.py.
        EventKind(
            "daily_summary", "", False,
            ("date", "scope", "new_members", "top_up_count", "top_up_yuan", "payment_yuan", "sales_count",
             "sales_yuan", "refund_yuan", "points_earned", "points_redeemed", "regions", "stores"),
        ),
        EventKind(
            "risk_alert", "wallet.alert.raised", False,
            ("rule_name", "kind", "action", "card_no", "amount_yuan", "store", "detail", "time"),
        ),
    )
}  # fmt: skip


def event_kind(key: str) -> EventKind:
    if (kind := EVENT_KINDS.get(key)) is None:
        raise UnknownEvent(f"unknown event {key!r} (one of {', '.join(EVENT_KINDS)})", field="event")
    return kind


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidArgument(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})", field="channel")
    return channel


def check_locale(locale: str) -> str:
    locale = locale or LOCALES[0]
    if locale not in LOCALES:
        raise InvalidArgument(f"unknown locale {locale!r} (one of {', '.join(LOCALES)})", field="locale")
    return locale


def yuan(fen: int) -> str:
    """Fen as a yuan amount for people: 12345 -> "123.45" (integer arithmetic, no floats)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


# Delivery keys that are not event ids: one consumption notice per checkout, one greeting per
# member, job and day (redelivered events and re-run schedules find the row and add nothing).
KEYS = uuid.UUID("0b7f6f5e-5a43-4c1e-9a55-3f1f2b6f9e21")


def consumption_key(checkout_id: str) -> uuid.UUID:
    return uuid.uuid5(KEYS, f"consumption\n{checkout_id}")


def greeting_key(job: str, day: date, member_no: str) -> uuid.UUID:
    return uuid.uuid5(KEYS, f"{job}\n{day.isoformat()}\n{member_no}")


# --- schedules -------------------------------------------------------------------------------


def scheduled_run_date(now: datetime, tz: ZoneInfo, hour: int) -> date | None:
    """The chain-local date a daily job at ``hour`` should have run for by ``now``, or None
    before that hour (a replica started later in the day catches up on the same day)."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else None


# --- quiet hours -------------------------------------------------------------------------


def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """``"21:00-09:00"`` -> (21:00, 09:00); ``""`` -> None (no quiet hours)."""
    if not spec.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise InvalidArgument(f"quiet hours must look like 21:00-09:00, not {spec!r}") from None
    return start, end


def quiet_until(now: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> datetime | None:
    """The end of the quiet period ``now`` lies in (an aware datetime), or None when ``now`` is
    not quiet. The period may wrap midnight (21:00-09:00)."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start <= end:
        inside = start <= t < end
    else:
        inside = t >= start or t < end
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)


# --- retries -------------------------------------------------------------------------------


def retry_delay(attempts: int, base_seconds: float, cap_seconds: float = 6 * 3600) -> timedelta:
    """Exponential backoff after ``attempts`` failed attempts: base, 2·base, 4·base, ..."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


# --- 333 follow-ups ------------------------------------------------------------------------

MORNING = (time(11, 0), time(12, 0))
AFTERNOON = (time(16, 0), time(17, 0))


@dataclass(frozen=True)
class FollowUpPlan:
    stage: str  # 3d, 3w, 3m
    due_on: date
    window: tuple[time, time]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def follow_up_plan(purchased_at: datetime, tz: ZoneInfo) -> list[FollowUpPlan]:
    """The 333 tasks after a first purchase at a store: +3 days, +3 weeks, +3 months (chain
    local dates). The call window matches the time of day the member shops: a purchase
    before 14:00 suggests 11:00-12:00, later ones 16:00-17:00."""
    local = purchased_at.astimezone(tz)
    window = MORNING if local.hour < 14 else AFTERNOON
    day = local.date()
    return [
        FollowUpPlan("3d", day + timedelta(days=3), window),
        FollowUpPlan("3w", day + timedelta(weeks=3), window),
        FollowUpPlan("3m", add_months(day, 3), window),
    ]
