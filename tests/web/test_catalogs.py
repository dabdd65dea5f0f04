"""The pages' message catalogs: every message of the templates and page code has a zh_CN
translation, with the same placeholders, and the catalog holds nothing stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.gateway.web import i18n

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "services" / "gateway" / "web"
KEYWORDS = {"_": None, "gettext": (2,), "N_": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str]:
    found = extract_from_dir(
        str(WEB),
        METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def zh_catalog():  # type: ignore[no-untyped-def]
    """Every zh_CN .po file as one catalog (messages.po and the page areas' own files)."""
    files = i18n.catalog_files("zh_CN")
    assert files, "no zh_CN catalog"
    with files[0].open("rb") as f:
        merged = read_po(f, locale="zh_CN")
    for po in files[1:]:
        with po.open("rb") as f:
            for message in read_po(f, locale="zh_CN"):
                if message.id and message.string:
                    merged[message.id] = message
    return merged


def test_every_page_message_has_a_chinese_translation() -> None:
    messages = extracted()
    assert len(messages) > 200  # the extraction itself works
    catalog = zh_catalog()
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"untranslated (run `make messages`, then translate): {missing}"


def test_translations_keep_their_placeholders() -> None:
    for message in zh_catalog():
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), (
                message.id
            )


def test_the_catalog_holds_no_stale_messages() -> None:
    messages = extracted()
    stale = sorted(m.id for m in zh_catalog() if m.id and m.id not in messages)
    assert stale == []


def test_chinese_is_the_default_and_english_is_the_source() -> None:
    assert i18n.negotiate(None) == "zh_CN"
    assert i18n.negotiate("fr") == "zh_CN"
    assert i18n.negotiate("en") == "en"
    assert i18n.gettext("zh_CN", "Log in") == "登录"
    assert i18n.gettext("en", "Log in") == "Log in"
