"""Pure segment rules (services/loyalty/segments.py): quintile scores, medians and quadrants,
lifecycle thresholds, the nightly schedule. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.loyalty import segments
from services.loyalty.segments import Scored, lifecycle_stage, quadrant, quintile_scores, recompute_due

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def test_five_distinct_values_score_one_to_five() -> None:
    assert quintile_scores({"a": 10, "b": 50, "c": 30, "d": 20, "e": 40}) == {
        "a": 1, "d": 2, "c": 3, "e": 4, "b": 5,
    }  # fmt: skip


def test_quintile_edges_of_ten_members() -> None:
    scores = quintile_scores({f"m{i}": i for i in range(10)})
    assert [scores[f"m{i}"] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_quintile_edges_of_a_hundred_members() -> None:
    scores = quintile_scores({f"m{i:03}": i for i in range(100)})
    assert [sum(1 for v in scores.values() if v == k) for k in range(1, 6)] == [20] * 5
    assert (scores["m019"], scores["m020"], scores["m079"], scores["m080"]) == (1, 2, 4, 5)


def test_ties_share_one_score() -> None:
    scores = quintile_scores({"a": 1, "b": 1, "c": 1, "d": 1, "e": 9})
    assert scores["a"] == scores["b"] == scores["c"] == scores["d"] == 3  # mid-rank 1.5 of 5
    assert scores["e"] == 5
    assert set(quintile_scores({k: 7 for k in "abcdefgh"}).values()) == {3}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"a": 5}, {"a": 3}),
        ({"a": 1, "b": 2}, {"a": 2, "b": 4}),
        ({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 3, "c": 5}),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 4, "d": 5}),
        ({}, {}),
    ],
)
def test_fewer_than_five_members_still_spread(values: dict, expected: dict) -> None:
    assert quintile_scores(values) == expected


def test_quadrants_against_the_medians() -> None:
    assert quadrant(5, 900, 2, 300) == "ally"
    assert quadrant(1, 900, 2, 300) == "butterfly"
    assert quadrant(5, 100, 2, 300) == "barnacle"
    assert quadrant(1, 100, 2, 300) == "stranger"
    # exactly at the median is not "high"
    assert quadrant(2, 300, 2, 300) == "stranger"


def test_score_fills_rfm_and_quadrants_recency_reversed() -> None:
    members = [
        Scored("A", "HQ/E/S", recency_days=1, frequency=10, monetary=100_000, lifecycle="active"),
        Scored("B", "HQ/E/S", recency_days=100, frequency=1, monetary=90_000, lifecycle="at_risk"),
        Scored("C", "HQ/E/S", recency_days=5, frequency=8, monetary=1_000, lifecycle="active"),
        Scored("D", "HQ/E/S", recency_days=300, frequency=1, monetary=500, lifecycle="churned"),
    ]
    med_f, med_m = segments.score(members)
    assert (med_f, med_m) == (4.5, 45_500)
    by = {s.member_no: s for s in members}
    assert by["A"].r == 5 and by["D"].r == 1  # most recent scores highest
    assert [by[k].quadrant for k in "ABCD"] == ["ally", "butterfly", "barnacle", "stranger"]


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


@pytest.mark.parametrize(
    ("first", "last", "spend_90d", "spend_prev", "stage"),
    [
        (10, 2, 100, 0, "new"),
        (29.9, 29.9, 100, 0, "new"),
        (30, 30, 100, 0, "active"),
        (200, 89, 100, 100, "active"),
        (200, 10, 49, 100, "declining"),
        (200, 10, 50, 100, "active"),  # exactly half is not declining
        (200, 90, 0, 100, "at_risk"),
        (400, 180, 0, 0, "at_risk"),
        (400, 181, 0, 0, "churned"),
    ],
)
def test_lifecycle_thresholds(first: float, last: float, spend_90d: int, spend_prev: int, stage: str) -> None:
    assert lifecycle_stage(NOW, days_ago(first), days_ago(last), spend_90d, spend_prev) == stage


def test_nightly_schedule_in_chain_time() -> None:
    tz = "Asia/Shanghai"
    assert recompute_due(None, NOW, tz)
    # 2026-06-15 12:00 UTC = 20:00 in Shanghai; computed at 19:00 the same day: not due
    assert not recompute_due(NOW - timedelta(hours=1), NOW, tz)
    # computed yesterday, now 02:00 Shanghai (before the nightly hour): not due; 03:00: due
    two_am = datetime(2026, 6, 15, 18, tzinfo=UTC)  # 2026-06-16 02:00 Shanghai
    assert not recompute_due(NOW, two_am, tz)
    assert recompute_due(NOW, two_am + timedelta(hours=1), tz)
