"""The daily summary's request rules (kit/summary.py): the local day as a UTC interval, the
date and org path a request may name, who may ask."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, OutOfScope
from kit.summary import day_bounds, parse_day, summary_query, summary_response

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 00:30 on the 23rd in Shanghai


def test_a_shanghai_day_starts_at_16_00_utc_the_day_before():
    start, end = day_bounds(date(2026, 11, 23), "Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)
    # 23:59:59 local is inside, 00:00:00 of the next local day is not (half-open)
    assert start <= datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC) < end
    assert not datetime(2026, 11, 23, 16, 0, tzinfo=UTC) < end


def test_a_day_with_a_dst_change_is_23_or_25_hours():
    spring = day_bounds(date(2026, 3, 8), "America/New_York")
    fall = day_bounds(date(2026, 11, 1), "America/New_York")
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert fall[1] - fall[0] == timedelta(hours=25)
    assert spring[0].astimezone(UTC) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)


def test_an_empty_date_is_the_local_today():
    assert parse_day("", date(2026, 11, 23)) == date(2026, 11, 23)
    q = summary_query(
        Principal("a", "hq_admin", "HQ"), common_pb2.DailySummaryRequest(), "Asia/Shanghai", NOW
    )
    assert q.day == date(2026, 11, 23) and q.scope == "HQ"


@pytest.mark.parametrize(
    "text", ["2026-02-30", "2026-2-3", "26-02-03", "2026/02/03", "tomorrow", "1999-12-31", "３０２６-01-01"]
)
def test_a_bad_date_is_invalid(text):
    with pytest.raises(InvalidArgument):
        parse_day(text, date(2026, 11, 23))


def test_scope_roles_and_paths():
    req = common_pb2.DailySummaryRequest
    rm = Principal("m", "region_manager", "HQ/EAST")
    assert summary_query(rm, req(org_path="HQ/EAST/SH1"), "Asia/Shanghai", NOW).scope == "HQ/EAST/SH1"
    assert summary_query(rm, req(), "Asia/Shanghai", NOW).scope == "HQ/EAST"
    for outside in ("HQ", "HQ/WEST", "HQ/EASTERN"):
        with pytest.raises(OutOfScope):
            summary_query(rm, req(org_path=outside), "Asia/Shanghai", NOW)
    for bad in ("HQ/", "HQ//X", "HQ/a b", "HQ/EAST/" + "X" * 65):
        with pytest.raises(InvalidArgument):
            summary_query(rm, req(org_path=bad), "Asia/Shanghai", NOW)
    for role in ("clerk", "terminal", "distributor"):
        with pytest.raises(Forbidden):
            summary_query(Principal("c", role, "HQ/EAST/SH1"), req(), "Asia/Shanghai", NOW)
    assert summary_query(Principal("n", "service", "HQ"), req(), "Asia/Shanghai", NOW).scope == "HQ"


def test_the_reply_lists_stores_by_path():
    reply = summary_response(date(2026, 11, 23), [("HQ/B/S2", {"x": 2}), ("HQ/A/S1", {"x": 1})])
    assert reply.date == "2026-11-23"
    assert [(s.store_path, dict(s.figures)) for s in reply.stores] == [
        ("HQ/A/S1", {"x": 1}),
        ("HQ/B/S2", {"x": 2}),
    ]
