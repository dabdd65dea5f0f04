"""Pure rules of notify: quiet hours, backoff, money for people, the 333 schedule, templates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify import domain, templates

SH = ZoneInfo("Asia/Shanghai")
QUIET = domain.parse_quiet_hours("21:00-09:00")


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (datetime(2026, 1, 1, 22, 0, tzinfo=SH), datetime(2026, 1, 2, 9, 0, tzinfo=SH)),
        (datetime(2026, 1, 2, 3, 0, tzinfo=SH), datetime(2026, 1, 2, 9, 0, tzinfo=SH)),
        (datetime(2026, 1, 2, 9, 0, tzinfo=SH), None),
        (datetime(2026, 1, 2, 20, 59, tzinfo=SH), None),
    ],
)
def test_quiet_hours_wrap_midnight(local: datetime, until: datetime | None) -> None:
    assert domain.quiet_until(local.astimezone(UTC), QUIET, SH) == until


def test_no_quiet_hours_when_unset() -> None:
    assert domain.quiet_until(datetime(2026, 1, 1, 15, tzinfo=UTC), domain.parse_quiet_hours(""), SH) is None


def test_retry_backoff_doubles_up_to_a_cap() -> None:
    assert [domain.retry_delay(n, 60).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert domain.retry_delay(30, 60) == timedelta(hours=6)


def test_yuan_is_exact() -> None:
    assert (domain.yuan(12345), domain.yuan(5), domain.yuan(-250)) == ("123.45", "0.05", "-2.50")


def test_333_schedule_clamps_months_and_picks_the_window_by_time_of_day() -> None:
    morning = domain.follow_up_plan(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), SH)  # 09:00 local
    assert [(p.stage, p.due_on) for p in morning] == [
        ("3d", date(2026, 12, 3)), ("3w", date(2026, 12, 21)), ("3m", date(2027, 2, 28)),
    ]  # fmt: skip
    assert {p.window for p in morning} == {(time(11), time(12))}
    evening = domain.follow_up_plan(datetime(2026, 11, 30, 15, 0, tzinfo=UTC), SH)  # 23:00 local
    assert {p.window for p in evening} == {(time(16), time(17))}


def test_template_validation_names_the_problem() -> None:
    kind = domain.event_kind("payment")
    templates.validate(kind, "body", "{{ member_name }} {{ amount_yuan }}")
    with pytest.raises(domain.InvalidTemplate, match="'secret'"):
        templates.validate(kind, "body", "{{ secret }}")
    with pytest.raises(domain.InvalidTemplate, match="syntax error"):
        templates.validate(kind, "body", "{% if %}")
    with pytest.raises(domain.UnknownEvent):
        domain.event_kind("nope")


def test_sandbox_refuses_unsafe_attribute_access() -> None:
    with pytest.raises(domain.InvalidTemplate):
        templates.render_now("{{ member_name.__class__.__mro__ }}", {"member_name": "x"})


def test_one_consumption_key_per_checkout_and_one_greeting_key_per_member_and_day() -> None:
    assert domain.consumption_key("c-1") == domain.consumption_key("c-1") != domain.consumption_key("c-2")
    day = date(2031, 7, 14)
    assert domain.greeting_key("birthday", day, "M1") == domain.greeting_key("birthday", day, "M1")
    assert len({
        domain.greeting_key("birthday", day, "M1"), domain.greeting_key("anniversary", day, "M1"),
        domain.greeting_key("birthday", day + timedelta(days=1), "M1"), domain.greeting_key("birthday", day, "M2"),
    }) == 4  # fmt: skip


def test_daily_schedule_runs_from_its_local_hour_on() -> None:
    assert domain.scheduled_run_date(datetime(2031, 7, 14, 0, 59, tzinfo=UTC), SH, 9) is None  # 08:59
    assert domain.scheduled_run_date(datetime(2031, 7, 14, 1, 0, tzinfo=UTC), SH, 9) == date(2031, 7, 14)
    assert domain.scheduled_run_date(datetime(2031, 7, 14, 15, 59, tzinfo=UTC), SH, 9) == date(2031, 7, 14)
    assert (
        domain.scheduled_run_date(datetime(2031, 7, 14, 16, 0, tzinfo=UTC), SH, 9) is None
    )  # 00:00 next day


def test_greetings_are_marketing_and_expiry_reminders_transactional_but_quiet() -> None:
    birthday, coupon = domain.event_kind("birthday"), domain.event_kind("coupon_expiring")
    assert birthday.marketing and birthday.respects_quiet_hours
    assert not coupon.marketing and coupon.respects_quiet_hours
    assert not domain.event_kind("payment").respects_quiet_hours


def test_every_seeded_template_uses_only_its_events_variables() -> None:
    import importlib.util
    from pathlib import Path

    versions = Path(domain.__file__).parent / "migrations" / "versions"
    seeded: set[tuple[str, str, str]] = set()
    for name in ("0002_templates_deliveries", "0003_schedules_reminders"):
        spec = importlib.util.spec_from_file_location(name, versions / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for row in module.seed_rows():
            kind = domain.event_kind(row["event"])
            templates.validate(kind, "subject", row["subject"])
            templates.validate(kind, "body", row["body"])
            seeded.add((row["event"], row["channel"], row["locale"]))
    for event in ("birthday", "anniversary", "points_expiring", "coupon_expiring"):
        for channel in ("sms", "wechat", "email"):
            assert {(event, channel, "zh-CN"), (event, channel, "en")} <= seeded, (event, channel)
