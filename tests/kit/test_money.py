"""Money: integer fen, basis points, half-up rounding, exact splits, yuan strings."""

from __future__ import annotations

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.money import apply_bps, discount_for, format_yuan, parse_yuan, split_proportional

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (10_000, 9_500, 9_500),  # exact
        (1, 5_000, 1),  # 0.5 -> 1
        (5, 5_000, 3),  # 2.5 -> 3 (half-up, not banker's 2)
        (15, 5_000, 8),  # 7.5 -> 8
        (1_990, 9_500, 1_891),  # 1890.5 -> 1891
        (1_999, 9_500, 1_899),  # 1899.05 -> 1899
        (3, 3_333, 1),  # 0.9999 -> 1
        (4, 1_249, 0),  # 0.4996 -> 0
        (-5, 5_000, -3),  # halves go away from zero
        (-4, 5_000, -2),
        (0, 9_999, 0),
    ],
)
def test_apply_bps_rounds_half_up_to_the_fen(amount: int, bps: int, expected: int) -> None:
    assert apply_bps(amount, bps) == expected


def test_discount_for_is_the_fen_taken_off() -> None:
    assert discount_for(1_005, 1_000) == 101  # 100.5 off -> 101
    assert discount_for(999, 0) == 0


@pytest.mark.parametrize("bad", [10.0, 1.5, True, "100", decimal.Decimal("1")])
def test_apply_bps_refuses_anything_but_int_fen(bad: object) -> None:
    with pytest.raises(TypeError):
        apply_bps(bad, 5_000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        apply_bps(100, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # one left-over fen, ties to the earlier weight
        (100, [1, 2], [33, 67]),  # remainders 1/3 and 2/3: the larger one takes the fen
        (4, [5, 3, 2], [2, 1, 1]),  # 2.0 / 1.2 / 0.8: the smallest weight has the largest remainder
        (2, [4, 3, 3], [1, 1, 0]),  # 0.8 / 0.6 / 0.6: largest first, then the earlier tie
        (10, [3, 3, 4], [3, 3, 4]),  # exact
        (7, [0, 1], [0, 7]),
        (0, [0, 0], [0, 0]),
        (0, [], []),
    ],
)
def test_split_proportional_sums_exactly_and_favours_largest_remainders(
    amount: int, weights: list[int], expected: list[int]
) -> None:
    parts = split_proportional(amount, weights)
    assert parts == expected
    assert sum(parts) == amount


def test_split_proportional_refuses_bad_weights() -> None:
    with pytest.raises(ValueError):
        split_proportional(5, [0, 0])
    with pytest.raises(ValueError):
        split_proportional(5, [])
    with pytest.raises(ValueError):
        split_proportional(5, [3, -1])
    with pytest.raises(TypeError):
        split_proportional(5.0, [1, 1])  # type: ignore[arg-type]


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_split_proportional_always_sums_to_the_amount_with_no_negative_part(
    amount: int, weights: list[int]
) -> None:
    parts = split_proportional(amount, weights)
    assert sum(parts) == amount
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        # every part is its exact share rounded down or up by at most one fen
        assert abs(part * total - amount * weight) < total


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.34", 1_234),
        ("12", 1_200),
        ("0.5", 50),
        ("0.05", 5),
        ("-0.05", -5),
        (" 1.10 ", 110),
        ("12.340", 1_234),  # a trailing zero is not a third decimal
        ("0", 0),
    ],
)
def test_parse_yuan_reads_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["12.345", "0.001", "1.005", "", "abc", "NaN", "Infinity", "1,5", "0x10"])
def test_parse_yuan_rejects_three_decimals_and_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_yuan(text)


@pytest.mark.parametrize("number", [12.34, 1.5, 100])
def test_parse_yuan_rejects_numbers_it_is_not_given_as_text(number: object) -> None:
    with pytest.raises(ValueError):
        parse_yuan(number)  # type: ignore[arg-type]


def test_parse_yuan_rejects_an_absurd_exponent_as_bad_input() -> None:
    with pytest.raises(ValueError):
        parse_yuan("1e1000000")


@pytest.mark.parametrize(
    ("fen", "text"),
    [(1_234, "12.34"), (5, "0.05"), (-5, "-0.05"), (0, "0.00"), (100, "1.00"), (-123_456, "-1234.56")],
)
def test_format_yuan_writes_two_decimals(fen: int, text: str) -> None:
    assert format_yuan(fen) == text
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", [12.34, 1.0, True, "1234"])
def test_format_yuan_refuses_anything_but_int_fen(bad: object) -> None:
    with pytest.raises(TypeError):
        format_yuan(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_text_round_trips_every_fen_amount(fen: int) -> None:
    text = format_yuan(fen)
    assert parse_yuan(text) == fen
    assert format_yuan(parse_yuan(text)) == text
