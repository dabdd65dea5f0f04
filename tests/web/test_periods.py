"""The dashboard's periods (services/gateway/web/periods.py): the days of a day, a week (Monday
to Sunday) and a calendar month around a date, only those that have happened, the 30-day trend
window, and stepping to the period before and after."""

from __future__ import annotations

from datetime import date

import pytest

from services.gateway.web.periods import days_between, period, trend_days

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 2)  # a Wednesday


def test_a_day_is_itself():
    p = period("day", date(2026, 11, 23), TODAY)
    assert (p.first, p.last, p.days) == (date(2026, 11, 23), date(2026, 11, 23), [date(2026, 11, 23)])
    assert not p.running and p.end == date(2026, 11, 23)
    assert p.previous == date(2026, 11, 22) and p.next == date(2026, 11, 24)


def test_a_week_runs_monday_to_sunday():
    p = period("week", date(2026, 11, 26), TODAY)  # a Thursday
    assert (p.first, p.last) == (date(2026, 11, 23), date(2026, 11, 29))
    assert p.days == days_between(date(2026, 11, 23), date(2026, 11, 29)) and len(p.days) == 7
    assert period("week", date(2026, 11, 23), TODAY).first == date(2026, 11, 23)  # Monday itself
    assert period("week", date(2026, 11, 29), TODAY).first == date(2026, 11, 23)  # Sunday closes it


def test_a_week_across_a_year_end():
    p = period("week", date(2027, 1, 1), date(2027, 3, 1))
    assert (p.first, p.last) == (date(2026, 12, 28), date(2027, 1, 3))


@pytest.mark.parametrize(
    ("anchor", "first", "last"),
    [
        (date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28)),
        (date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29)),  # a leap year
        (date(2026, 1, 31), date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 4, 1), date(2026, 4, 1), date(2026, 4, 30)),
    ],
)
def test_a_month_is_the_calendar_month(anchor: date, first: date, last: date):
    p = period("month", anchor, date(2030, 1, 1))
    assert (p.first, p.last) == (first, last)
    assert len(p.days) == (last - first).days + 1
    assert p.days[0] == first and p.days[-1] == last


def test_a_running_period_asks_only_for_the_days_so_far():
    week = period("week", TODAY, TODAY)
    assert week.days == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert week.running and week.end == TODAY and week.next is None
    month = period("month", TODAY, TODAY)
    assert month.days == [date(2026, 12, 1), date(2026, 12, 2)] and month.last == date(2026, 12, 31)
    assert month.previous == date(2026, 11, 30)


def test_a_date_after_today_is_today():
    assert period("day", date(2027, 5, 1), TODAY).first == TODAY
    assert period("month", date(2027, 5, 1), TODAY).first == date(2026, 12, 1)


def test_an_unknown_kind_is_a_day():
    assert period("year", date(2026, 11, 23), TODAY).kind == "day"


def test_stepping_back_and_forth_visits_every_day_once():
    seen: list[date] = []
    p = period("month", date(2026, 1, 15), TODAY)
    while True:
        seen += p.days
        if p.next is None:
            break
        p = period("month", p.next, TODAY)
    assert seen == days_between(date(2026, 1, 1), TODAY)


def test_the_trend_is_the_30_days_to_its_end():
    days = trend_days(date(2026, 3, 1))
    assert len(days) == 30 and days[-1] == date(2026, 3, 1) and days[0] == date(2026, 1, 31)
    assert days == sorted(set(days))
    assert days_between(date(2026, 1, 2), date(2026, 1, 1)) == []
