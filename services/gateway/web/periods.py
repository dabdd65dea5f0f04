"""The dashboard's calendar arithmetic, pure (no clock, no I/O): which local days a day, a week
or a month around a chosen date covers, which of them have happened, the trend window, and the
periods before and after. Weeks run Monday to Sunday (ISO, as Chinese retail counts them);
months are calendar months. Tested in tests/web/test_periods.py."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("day", "week", "month")
TREND_DAYS = 30


@dataclass(frozen=True)
class Period:
    kind: str  # day, week, month
    first: date
    last: date  # inclusive; may lie after today (a week or month still running)
    today: date

    @property
    def days(self) -> list[date]:
        """The period's days up to today (later days have no figures yet; they are not asked for)."""
        return days_between(self.first, min(self.last, self.today))

    @property
    def running(self) -> bool:
        """The period has not ended yet (its figures are "so far")."""
        return self.last > self.today

    @property
    def end(self) -> date:
        """The last day with figures: the period's last day, or today while it runs."""
        return min(self.last, self.today)

    @property
    def previous(self) -> date:
        """A date in the period before this one."""
        return self.first - timedelta(days=1)

    @property
    def next(self) -> date | None:
        """A date in the period after this one; None when that period has not begun."""
        after = self.last + timedelta(days=1)
        return after if after <= self.today else None


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included (empty when ``last < first``)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def period(kind: str, anchor: date, today: date) -> Period:
    """The ``kind`` period (day, week, month) holding ``anchor``; an anchor after ``today`` is
    taken as today (nothing has happened later). Anything but week or month is a day."""
    anchor = min(anchor, today)
    if kind == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return Period("week", first, first + timedelta(days=6), today)
    if kind == "month":
        last_day = calendar.monthrange(anchor.year, anchor.month)[1]
        return Period("month", anchor.replace(day=1), anchor.replace(day=last_day), today)
    return Period("day", anchor, anchor, today)


def trend_days(end: date, count: int = TREND_DAYS) -> list[date]:
    """The ``count`` days ending on ``end`` (included), oldest first."""
    return days_between(end - timedelta(days=count - 1), end)
