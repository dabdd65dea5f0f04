"""Import rows and files, without a database: headers, cells, row validation, duplicates,
and the checks that refuse a file before any job exists."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from kit.errors import InvalidArgument
from services.members.domain import FieldDef
from services.members.imports import (
    ImportRow,
    RowError,
    RowRules,
    RowSource,
    SeenPhones,
    cell_text,
    changes_for,
    check_file,
    column_map,
    custom_values,
    date_text,
    parse_bool,
    parse_gender,
    parse_row,
    registration_for,
    split_tags,
)

pytestmark = pytest.mark.unit

RULES = RowRules(
    today=date(2025, 6, 1), region="CN", stores={"SH001": "HQ/EAST/SH001", "SH002": "HQ/EAST/SH002"}
)
PHONE = "13912345678"
E164 = "+8613912345678"


def test_header_columns_are_found_case_insensitively_and_by_chinese_alias():
    cols = column_map(["\ufeffNAME", " Phone ", "性别", "生日", "邮箱", "门店", "标签", "备注", None])
    assert cols.index == {
        0: "name", 1: "phone", 2: "gender", 3: "birthday", 4: "email", 5: "home_store", 6: "tags",
    }  # fmt: skip
    assert cols.ignored == ["备注"]
    assert column_map(["Name", "Mobile", "Home Store", "card-type"]).index == {
        0: "name", 1: "phone", 2: "home_store", 3: "card_type",
    }  # fmt: skip


def test_the_same_column_twice_is_refused():
    with pytest.raises(InvalidArgument, match="names phone twice"):
        column_map(["name", "手机", "手机号"])


@pytest.mark.parametrize("header", [["张三", "13912345678"], ["email", "gender"], [], ["name"]])
def test_a_header_without_name_and_phone_is_refused(header):
    with pytest.raises(InvalidArgument, match="header") as err:
        column_map(header)
    assert err.value.extra["field"] == "file"


def test_chinese_short_phone_alias_and_consent_columns():
    cols = column_map(["姓名", "手机", "sms", "consent_email", "微信"])
    assert sorted(cols.index.values()) == ["consent_email", "name", "phone", "sms", "wechat"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""), (13912345678, "13912345678"), (13912345678.0, "13912345678"), (1.5, "1.5"),
        (True, "true"), (date(1990, 5, 1), "1990-05-01"), (datetime(1990, 5, 1), "1990-05-01"),
        ("  张三 ", "张三"),
    ],
)  # fmt: skip
def test_cells_of_either_format_become_text(value, text):
    assert cell_text(value) == text


@pytest.mark.parametrize(
    ("raw", "out"),
    [("2020/1/5", "2020-01-05"), ("2020.01.05", "2020-01-05"), ("1990-05-01 00:00:00", "1990-05-01"),
     ("2020-02-31", "2020-02-31"), ("05/01/1990", "05/01/1990")],
)  # fmt: skip
def test_loose_dates_are_normalized_and_others_left_alone(raw, out):
    assert date_text(raw) == out


@pytest.mark.parametrize(
    ("raw", "gender"),
    [("男", "male"), ("女", "female"), ("M", "male"), ("f", "female"), ("Other", "other"), ("", "")],
)
def test_gender_aliases(raw, gender):
    assert parse_gender(raw) == gender


def test_unknown_gender_is_refused():
    with pytest.raises(InvalidArgument):
        parse_gender("x")


@pytest.mark.parametrize(
    ("raw", "value"), [("是", True), ("否", False), ("YES", True), ("0", False), ("true", True), ("", None)]
)
def test_consent_values(raw, value):
    assert parse_bool(raw, "sms") is value


def test_a_consent_that_is_not_a_yes_or_no_is_refused():
    with pytest.raises(InvalidArgument) as err:
        parse_bool("maybe", "wechat")
    assert err.value.extra["field"] == "wechat"


def test_tags_split_on_any_separator_without_duplicates():
    assert split_tags("vip, new;vip|金卡，老客") == ["vip", "new", "金卡", "老客"]
    assert split_tags("") == []


def test_a_good_row_is_cleaned():
    row = parse_row(
        2,
        {"name": "  张  三 ", "phone": PHONE, "gender": "男", "birthday": date(1990, 5, 1), "email": "A@B.CN",
         "home_store": "sh001", "tags": "vip|new", "sms": "1", "consent_email": "否"},
        RULES,
    )  # fmt: skip
    assert row == ImportRow(
        row=2, name="张 三", phone=E164, gender="male", birthday="1990-05-01", email="a@b.cn",
        home_store_path="HQ/EAST/SH001", tags=["vip", "new"], source="import", card_type="",
        consents={"sms": True, "email": False},
    )  # fmt: skip


def test_every_broken_field_of_a_row_is_reported():
    errors = parse_row(
        7,
        {"name": "", "phone": "12345", "birthday": "2020-02-31", "email": "nope", "home_store": "XX9",
         "gender": "?", "sms": "maybe", "source": "fax"},
        RULES,
    )  # fmt: skip
    assert isinstance(errors, list)
    assert [(e.row, e.field) for e in errors] == [
        (7, "name"), (7, "phone"), (7, "gender"), (7, "birthday"), (7, "email"), (7, "home_store"),
        (7, "source"), (7, "sms"),
    ]  # fmt: skip
    assert "not a calendar date" in errors[3].message
    assert "unknown store 'XX9'" in errors[5].message
    assert [e.code for e in errors] == [
        "name_required", "phone_invalid", "gender_invalid", "birthday_invalid", "email_invalid",
        "store_unknown", "source_invalid", "consent_invalid",
    ]  # fmt: skip


def test_birthdays_in_the_future_are_refused():
    errors = parse_row(2, {"name": "a", "phone": PHONE, "birthday": "2030-01-01"}, RULES)
    assert [e.field for e in errors] == ["birthday"]  # type: ignore[union-attr]


def test_a_phone_seen_earlier_in_the_file_is_a_duplicate_of_that_row():
    seen = SeenPhones()
    first = ImportRow(row=2, name="a", phone=E164)
    assert seen.check(first) is None
    assert seen.check(ImportRow(row=9, name="b", phone=E164)) == RowError(
        9, "phone", "duplicate of row 2", "phone_duplicate"
    )
    assert seen.check(ImportRow(row=10, name="c", phone="+8613912345679")) is None


def test_registration_of_a_new_row_defaults_store_and_consents():
    item = ImportRow(row=2, name="a", phone=E164, tags=["x"], consents={"sms": True})
    req = registration_for(item, "HQ/EAST/SH002")
    assert (req.home_store_path, req.source, list(req.tags)) == ("HQ/EAST/SH002", "import", ["x"])
    assert req.has_consents and (req.consents.sms, req.consents.email, req.consents.wechat) == (
        True,
        False,
        False,
    )
    assert not registration_for(ImportRow(row=3, name="b", phone=E164), "").has_consents


def test_an_update_changes_only_what_the_row_fills_in():
    item = ImportRow(
        row=2, name="新", phone=E164, email="n@b.cn", tags=["old", "gold"], consents={"wechat": True}
    )
    req, fields = changes_for(item, ["old", "vip"], {"sms": True})
    assert fields == {"name", "email", "tags", "consents"}
    assert list(req.tags) == ["old", "vip", "gold"]
    assert (req.consents.sms, req.consents.email, req.consents.wechat) == (True, False, True)
    _, only_name = changes_for(ImportRow(row=3, name="x", phone=E164), [], {})
    assert only_name == {"name"}


CUSTOM = {
    "shoe_size": FieldDef("shoe_size", "integer", False),
    "vegan": FieldDef("vegan", "boolean", False),
    "since": FieldDef("since", "date", False),
    "level": FieldDef("level", "choice", True, ("a", "b")),
}


def test_custom_field_columns_are_named_by_their_key():
    cols = column_map(["name", "phone", "Shoe Size", "unknown"], CUSTOM)
    assert cols.index == {0: "name", 1: "phone", 2: "custom:shoe_size"}
    assert cols.ignored == ["unknown"]


def test_custom_field_cells_are_typed_and_checked():
    text = {"custom:shoe_size": "42", "custom:vegan": "是", "custom:since": "2020/1/2", "custom:level": "b"}
    assert custom_values(text, CUSTOM) == {
        "shoe_size": 42,
        "vegan": True,
        "since": "2020-01-02",
        "level": "b",
    }
    assert custom_values({}, CUSTOM) == {}  # required ones are judged when the member is written
    for bad, where in (({"custom:shoe_size": "4x"}, "shoe_size"), ({"custom:level": "z"}, "level"),
                       ({"custom:since": "2020-02-31"}, "since")):  # fmt: skip
        with pytest.raises(InvalidArgument) as err:
            custom_values(bad, CUSTOM)
        assert err.value.extra["field"] == f"custom_fields.{where}"


def test_custom_fields_of_a_row_reach_the_requests():
    row = parse_row(
        2,
        {"name": "a", "phone": PHONE, "custom:shoe_size": 41.0},
        RowRules(date(2025, 6, 1), "CN", {}, CUSTOM),
    )
    assert isinstance(row, ImportRow) and row.custom_fields == {"shoe_size": 41}
    assert registration_for(row, "HQ/S").custom_fields_json == '{"shoe_size": 41}'
    req, fields = changes_for(row, [], {})
    assert "custom_fields" in fields and req.custom_fields_json == '{"shoe_size": 41}'


# --- files -----------------------------------------------------------------------------------
def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_utf8_csv_with_a_bom_and_semicolons_is_accepted(tmp_path):
    path = write(tmp_path, "m.csv", "\ufeff姓名;手机号;备注\n张三;13912345678;x\n".encode())
    cols = check_file(path, "csv")
    assert cols.index == {0: "name", 1: "phone"}
    source = RowSource(path, "csv", RULES)
    try:
        [row] = source.next_batch(10)
        assert isinstance(row, ImportRow) and (row.row, row.name, row.phone) == (2, "张三", E164)
        assert source.next_batch(10) == []
    finally:
        source.close()


@pytest.mark.parametrize(
    ("name", "data", "fmt", "message"),
    [
        ("a.csv", "姓名,手机\n".encode("gbk"), "csv", "UTF-8"),
        ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "csv", "NUL"),
        ("a.csv", b"name,phone\n\xe5\xbc", "csv", "UTF-8"),
        ("a.csv", b"\n", "csv", "header"),
        ("a.xlsx", b"name,phone\n", "xlsx", "not an XLSX"),
        ("a.xlsx", b"PK\x03\x04garbage", "xlsx", "not a readable XLSX"),
    ],
)
def test_files_that_cannot_be_imported_are_refused(tmp_path, name, data, fmt, message):
    with pytest.raises(InvalidArgument, match=message):
        check_file(write(tmp_path, name, data), fmt)


def test_xlsx_rows_are_read_one_by_one_with_their_sheet_row_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Birthday"])
    sheet.append(["张三", 13912345678, datetime(1990, 5, 1)])
    sheet.append([None, None, None])
    sheet.append(["李四", "139 1234 5679", "1991/2/3"])
    sheet.append(["张三", "13912345678", None])
    path = str(tmp_path / "m.xlsx")
    book.save(path)
    assert check_file(path, "xlsx").index == {0: "name", 1: "phone", 2: "birthday"}
    source = RowSource(path, "xlsx", RULES)
    try:
        rows = source.next_batch(2)
        assert [(r.row, r.birthday) for r in rows] == [(2, "1990-05-01"), (4, "1991-02-03")]  # type: ignore[union-attr]
        assert source.next_batch(2) == [[RowError(5, "phone", "duplicate of row 2", "phone_duplicate")]]
    finally:
        source.close()
