"""Languages of the pages: Babel message catalogs (zh_CN first, English) and the formatting of
money, numbers and times for the reader's locale in the chain's time zone.

The catalogs are the ``.po`` files under ``web/locale/`` (msgids are English; ``make
messages`` re-extracts them from the templates and Python). They are compiled in memory when
the gateway starts, so there is no compiled ``.mo`` file to forget to rebuild.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
COOKIE = "cc_lang"


def negotiate(value: str | None) -> str:
    """The page language from the remembered choice (a cookie); zh_CN unless it says en."""
    if value in LANGUAGES:
        return value  # type: ignore[return-value]
    return DEFAULT


def catalog_files(locale: str) -> list[Path]:
    """The .po files of ``locale``: ``messages.po`` (what ``make messages`` maintains) and any
    other ``<area>.po`` beside it (a page area's own messages), merged in name order."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(locale: str) -> Translations:
    """The catalogs of ``locale`` compiled from their .po files (English needs none: msgids are English)."""
    merged = Translations()
    for po in catalog_files(locale):
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        merged.merge(Translations(buffer))
    return merged


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


class Formats:
    """Money, numbers and times as the reader of ``locale`` writes them."""

    def __init__(self, locale: str, timezone: str, currency: str = "CNY") -> None:
        self.locale = Locale.parse(locale)
        self.tz = ZoneInfo(timezone)
        self.currency = currency

    def money(self, fen: int | None) -> str:
        """Integer fen as the locale writes a sum of yuan: ¥1,234.50 (never through a float)."""
        if fen is None:
            return "—"
        text = format_currency(Decimal(int(fen)) / 100, self.currency, locale=self.locale)
        # Babel writes CN¥ outside Chinese locales; the counter and receipts print ¥ everywhere.
        return text.replace("CN¥", "¥")

    def yuan(self, fen: int | None) -> str:
        """Fen as a plain decimal of yuan for an input field (1234.50), no grouping."""
        if fen is None:
            return ""
        return f"{Decimal(int(fen)) / 100:.2f}"

    def number(self, value: int | None) -> str:
        return "—" if value is None else format_decimal(value, locale=self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return format_datetime(value.astimezone(self.tz), "short", locale=self.locale)

    def date(self, value: date | str | None) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, "medium", locale=self.locale)


def parse_yuan(text: str) -> int:
    """A yuan amount typed at the counter (``500``, ``12.5``, ``1,234.50``) as integer fen;
    ValueError for anything else (more than two decimals, negative, not a number)."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("，", "")
    if not cleaned:
        raise ValueError("empty")
    value = Decimal(cleaned)
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(text)
    return int(value * 100)
