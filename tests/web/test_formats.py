"""Money, amounts typed at the counter and times, as the pages show and read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.gateway.web.i18n import Formats, parse_yuan

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("locale", "fen", "text"),
    [
        ("zh_CN", 123450, "¥1,234.50"),
        ("en", 123450, "¥1,234.50"),
        ("zh_CN", 0, "¥0.00"),
        ("en", -5, "-¥0.05"),
    ],
)
def test_money_is_yuan_with_two_decimals(locale: str, fen: int, text: str) -> None:
    assert Formats(locale, "Asia/Shanghai").money(fen) == text


def test_large_sums_do_not_lose_a_fen() -> None:
    assert Formats("zh_CN", "Asia/Shanghai").money(9_007_199_254_740_993) == "¥90,071,992,547,409.93"


@pytest.mark.parametrize(
    ("typed", "fen"), [("500", 50000), ("12.5", 1250), ("1,234.50", 123450), (" ¥0.01 ", 1), ("0", 0)]
)
def test_amounts_typed_in_yuan_become_fen(typed: str, fen: int) -> None:
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "-5", "NaN", "Infinity", "1e3x"])
def test_bad_amounts_are_refused(typed: str) -> None:
    with pytest.raises((ValueError, ArithmeticError)):
        parse_yuan(typed)


def test_times_are_shown_in_the_chains_time_zone() -> None:
    at = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 January in Shanghai
    assert "2026/1/2" in Formats("zh_CN", "Asia/Shanghai").datetime(at)
    assert "1/2/26" in Formats("en", "Asia/Shanghai").datetime(at)
