"""Reading member import files: CSV and XLSX checked before a job exists, then read one row
at a time; header aliases (Chinese too), cell parsing and per-row validation with the rules
registration uses. No database here."""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl

from chainclub.members.v1 import members_pb2 as pb
from kit.errors import InvalidArgument
from services.members import domain

log = logging.getLogger("members.imports")

FORMATS = ("csv", "xlsx")
XLSX_MAGIC = b"PK\x03\x04"
MAX_BYTES = 64 * 1024 * 1024

# Header cell (lower case, spaces and dashes as _) -> column. Consent columns are sms,
# wechat and consent_email (`email` is the address).
COLUMN_ALIASES: dict[str, str] = {
    "name": "name", "姓名": "name", "会员姓名": "name",
    "phone": "phone", "mobile": "phone", "手机": "phone", "手机号": "phone", "手机号码": "phone",
    "gender": "gender", "sex": "gender", "性别": "gender",
    "birthday": "birthday", "birth_date": "birthday", "生日": "birthday", "出生日期": "birthday",
    "email": "email", "e_mail": "email", "邮箱": "email", "电子邮箱": "email",
    "home_store": "home_store", "store": "home_store", "门店": "home_store", "所属门店": "home_store",
    "tags": "tags", "tag": "tags", "标签": "tags",
    "source": "source", "来源": "source",
    "card_type": "card_type", "卡类型": "card_type",
    "sms": "sms", "consent_sms": "sms", "短信": "sms",
    "wechat": "wechat", "consent_wechat": "wechat", "微信": "wechat",
    "consent_email": "consent_email", "email_consent": "consent_email", "邮件": "consent_email",
}  # fmt: skip
REQUIRED_COLUMNS = ("name", "phone")
CUSTOM = "custom:"  # column prefix of custom fields
CONSENT_COLUMNS = {"sms": "sms", "consent_email": "email", "wechat": "wechat"}
GENDER_ALIASES = {
    "男": "male", "m": "male", "male": "male", "女": "female", "f": "female", "female": "female",
    "其他": "other", "other": "other",
}  # fmt: skip
TRUE = frozenset({"true", "1", "yes", "y", "t", "是"})
FALSE = frozenset({"false", "0", "no", "n", "f", "否"})
TAG_SEPARATORS = re.compile(r"[,;|，；、]")
LOOSE_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?")


# --- rows: pure ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    row: int  # 1-based as in the file: the header is row 1
    field: str
    message: str  # English, for logs and API clients
    code: str = "row_invalid"  # stable per problem: readers show their own language's message


# The column a cell error is about -> its code (an empty required cell is "<column>_required").
CODES = {
    "name": "name_invalid", "phone": "phone_invalid", "gender": "gender_invalid",
    "birthday": "birthday_invalid", "email": "email_invalid", "home_store": "store_unknown",
    "tags": "tags_invalid", "source": "source_invalid", "card_type": "card_type_invalid",
    "sms": "consent_invalid", "wechat": "consent_invalid", "consent_email": "consent_invalid",
    "custom_fields": "custom_field_invalid",
}  # fmt: skip
REQUIRED_CODES = {"name": "name_required", "phone": "phone_required"}
DUPLICATE = "phone_duplicate"
REFUSED = "row_refused"


def code_for(field: str, cell: str = "x") -> str:
    """The code of a problem with ``field`` (a custom field's is ``custom_fields.<key>``);
    ``cell`` is what the row held there, so an empty required cell says so."""
    column = field.split(".", 1)[0]
    if not cell.strip() and column in REQUIRED_CODES:
        return REQUIRED_CODES[column]
    return CODES.get(column, "row_invalid")


@dataclass(frozen=True)
class Columns:
    index: dict[int, str]  # cell position -> column
    ignored: list[str]


@dataclass(frozen=True)
class RowRules:
    today: date
    region: str
    stores: Mapping[str, str]  # store code (upper case) -> path
    custom: Mapping[str, domain.FieldDef] = field(default_factory=dict)  # HQ's custom fields


@dataclass
class ImportRow:
    """One valid row: values already cleaned by the domain rules."""

    row: int
    name: str
    phone: str  # E.164
    gender: str = ""
    birthday: str = ""  # YYYY-MM-DD
    email: str = ""
    home_store_path: str = ""  # "" = not given
    tags: list[str] = field(default_factory=list)
    source: str = "import"
    card_type: str = ""
    consents: dict[str, bool] = field(default_factory=dict)  # only the columns given
    custom_fields: dict[str, object] = field(default_factory=dict)  # only the cells filled in


def header_key(cell: object) -> str:
    return re.sub(r"[\s\-]+", "_", cell_text(cell).lstrip("\ufeff").strip().lower())


def column_map(header: Sequence[object], custom: Iterable[str] = ()) -> Columns:
    """Which column each header cell names (a custom field's key names that field); refuses
    a header without name and phone."""
    custom = set(custom)
    index: dict[int, str] = {}
    first: dict[str, str] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header):
        key = header_key(cell)
        column = COLUMN_ALIASES.get(key) or (f"{CUSTOM}{key}" if key in custom else None)
        if column is None:
            if key:
                ignored.append(cell_text(cell))
            continue
        if column in first:
            raise InvalidArgument(
                f"the header names {column} twice ({first[column]!r} and {cell_text(cell)!r})", field="file"
            )
        first[column] = cell_text(cell)
        index[i] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in first]
    if missing:
        raise InvalidArgument(
            "the first row must be a header with at least the columns name and phone "
            f"(or 姓名 and 手机); missing: {', '.join(missing)}",
            field="file",
        )
    return Columns(index, ignored)


def cell_text(value: object) -> str:
    """A cell of either format as text (XLSX numbers and dates included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def date_text(text: str) -> str:
    """2020/1/5, 2020.01.05 and an Excel "2020-01-05 00:00:00" as 2020-01-05; anything else
    is left for ``domain.parse_birthday`` to judge."""
    m = LOOSE_DATE.fullmatch(text.strip())
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else text.strip()


def parse_gender(text: str) -> str:
    v = text.strip()
    return domain.clean_choice(GENDER_ALIASES.get(v.lower(), v), domain.GENDERS, "gender")


def parse_bool(text: str, column: str) -> bool | None:
    v = text.strip().lower()
    if not v:
        return None
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise InvalidArgument(f"{column} must be true/false, 1/0, yes/no or 是/否, not {text!r}", field=column)


def split_tags(text: str) -> list[str]:
    return domain.clean_tags([t for t in TAG_SEPARATORS.split(text) if t.strip()])


def parse_row(row: int, record: Mapping[str, object], rules: RowRules) -> ImportRow | list[RowError]:
    """Validate one row; every broken field is reported, not just the first."""
    text = {column: cell_text(value) for column, value in record.items()}
    errors: list[RowError] = []
    values: dict[str, object] = {}

    def check(column: str, fn) -> None:  # type: ignore[no-untyped-def]
        try:
            values[column] = fn(text.get(column, ""))
        except InvalidArgument as err:
            where = err.extra.get("field", column)
            errors.append(RowError(row, where, err.detail, code_for(where, text.get(column, ""))))

    check("name", domain.clean_name)
    check("phone", lambda v: domain.normalize_phone(v, rules.region))
    check("gender", parse_gender)
    check("birthday", lambda v: _iso(domain.parse_birthday(date_text(v), rules.today)))
    check("email", domain.clean_email)
    check("home_store", lambda v: _store_path(v, rules.stores))
    check("tags", split_tags)
    check("source", lambda v: domain.clean_choice(v or "import", domain.SOURCES, "source"))
    check("card_type", lambda v: v.strip().upper())
    consents: dict[str, bool] = {}
    for column, key in CONSENT_COLUMNS.items():
        check(column, lambda v, c=column: parse_bool(v, c))
        if values.get(column) is not None:
            consents[key] = bool(values[column])
    check("custom_fields", lambda _: custom_values(text, rules.custom))
    if errors:
        return errors
    return ImportRow(
        row=row, name=str(values["name"]), phone=str(values["phone"]), gender=str(values["gender"]),
        birthday=str(values["birthday"]), email=str(values["email"]), home_store_path=str(values["home_store"]),
        tags=list(values["tags"]), source=str(values["source"]), card_type=str(values["card_type"]),  # type: ignore[call-overload]
        consents=consents, custom_fields=dict(values["custom_fields"]),  # type: ignore[call-overload]
    )  # fmt: skip


def custom_values(text: Mapping[str, str], defs: Mapping[str, domain.FieldDef]) -> dict[str, object]:
    """The custom field cells filled in, typed and checked against HQ's definitions (whether
    a required one is missing is judged when the member is written)."""
    out: dict[str, object] = {}
    for key, d in defs.items():
        raw, where = text.get(f"{CUSTOM}{key}", "").strip(), f"custom_fields.{key}"
        if not raw:
            continue
        if d.type == "integer":
            if not re.fullmatch(r"-?\d+", raw):
                raise InvalidArgument(f"{key} must be an integer", field=where)
            out[key] = int(raw)
        elif d.type == "boolean":
            out[key] = parse_bool(raw, where)
        else:
            out[key] = date_text(raw) if d.type == "date" else raw
    return domain.validate_custom_fields(json.dumps(out), dict(defs), partial=True)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _store_path(code: str, stores: Mapping[str, str]) -> str:
    code = code.strip().upper()
    if not code:
        return ""
    path = stores.get(code)
    if path is None:
        raise InvalidArgument(f"unknown store {code!r} (not a store in your scope)", field="home_store")
    return path


class SeenPhones:
    """The first row of each phone in the file; later rows with it are duplicates."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def check(self, item: ImportRow) -> RowError | None:
        first = self._first.setdefault(item.phone, item.row)
        return (
            None if first == item.row else RowError(item.row, "phone", f"duplicate of row {first}", DUPLICATE)
        )


def registration_for(item: ImportRow, default_home_store_path: str) -> pb.RegisterMemberRequest:
    """The register request a new member's row amounts to."""
    req = pb.RegisterMemberRequest(
        name=item.name, phone=item.phone, gender=item.gender, birthday=item.birthday, email=item.email,
        home_store_path=item.home_store_path or default_home_store_path, source=item.source,
        card_type=item.card_type, tags=item.tags,
        custom_fields_json=json.dumps(item.custom_fields, ensure_ascii=False) if item.custom_fields else "",
    )  # fmt: skip
    if item.consents:
        req.has_consents = True
        req.consents.CopyFrom(pb.Consents(**{"sms": False, "email": False, "wechat": False, **item.consents}))
    return req


def changes_for(
    item: ImportRow, tags: Sequence[str], consents: Mapping[str, object]
) -> tuple[pb.RegisterMemberRequest, set[str]]:
    """What a row changes on an existing member: the name, and whatever else the row fills in
    (an empty cell keeps the stored value; tags are added to the member's own)."""
    req = pb.RegisterMemberRequest(name=item.name)
    fields = {"name"}
    for column in ("gender", "birthday", "email", "home_store_path"):
        if getattr(item, column):
            setattr(req, column, getattr(item, column))
            fields.add(column)
    if item.tags:
        req.tags.extend([*tags, *(t for t in item.tags if t not in tags)])
        fields.add("tags")
    if item.custom_fields:  # merged over the member's own by apply_changes
        req.custom_fields_json = json.dumps(item.custom_fields, ensure_ascii=False)
        fields.add("custom_fields")
    if item.consents:
        merged = {k: bool(consents.get(k)) for k in ("sms", "email", "wechat")} | item.consents
        req.consents.CopyFrom(pb.Consents(**merged))
        fields.add("consents")
    return req, fields


# --- files: blocking, run in threads ---------------------------------------------------------
class FileUnreadable(InvalidArgument):
    """The file could not be read."""


def check_file(path: str, fmt: str) -> Columns:
    """Refuse what is not a readable CSV (UTF-8) or XLSX with a header naming name and phone."""
    if fmt == "csv":
        _check_utf8(path)
    else:
        with open(path, "rb") as f:
            if f.read(4) != XLSX_MAGIC:
                raise InvalidArgument("the file is not an XLSX workbook (Excel 2007 or later)", field="file")
    with open_rows(path, fmt) as rows:
        first = next(rows, None)
    if first is None:
        raise InvalidArgument("the file has no rows; the first row must be a header", field="file")
    return column_map(first[1])


def _check_utf8(path: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            if b"\x00" in block:
                raise InvalidArgument("the file is not a text CSV (it contains NUL bytes)", field="file")
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                raise InvalidArgument(
                    "the file is neither an XLSX workbook nor a UTF-8 CSV (save CSV as UTF-8)", field="file"
                ) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidArgument("the CSV ends in the middle of a UTF-8 character", field="file") from None


@contextlib.contextmanager
def open_rows(path: str, fmt: str) -> Iterator[Iterator[tuple[int, Sequence[object]]]]:
    """(row number, cells) one row at a time; row 1 is the header."""
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            first_line = f.readline()
            f.seek(0)
            delimiter = max(",;\t", key=first_line.count)
            yield enumerate(csv.reader(f, delimiter=delimiter), start=1)
        return
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl's own errors alike
        raise InvalidArgument(f"the file is not a readable XLSX workbook ({exc})", field="file") from None
    try:
        if not book.worksheets:
            raise InvalidArgument("the workbook has no sheets", field="file")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions
        yield enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        book.close()


class RowSource:
    """The rows of an uploaded file, parsed and checked for duplicates, batch by batch."""

    def __init__(self, path: str, fmt: str, rules: RowRules) -> None:
        self.rules = rules
        self.seen = SeenPhones()
        self.last_row = 1
        self._files = contextlib.ExitStack()
        self._rows = self._files.enter_context(open_rows(path, fmt))
        header = next(self._rows, None)
        if header is None:
            raise FileUnreadable("the file has no header row", field="file")
        self.columns = column_map(header[1], rules.custom)

    def next_batch(self, size: int) -> list[ImportRow | list[RowError]]:
        batch: list[ImportRow | list[RowError]] = []
        try:
            for row, cells in self._rows:
                self.last_row = row
                record = {col: cells[i] for i, col in self.columns.index.items() if i < len(cells)}
                if not any(cell_text(v) for v in record.values()):
                    continue  # blank rows are not rows
                item = parse_row(row, record, self.rules)
                if isinstance(item, ImportRow) and (dup := self.seen.check(item)) is not None:
                    item = [dup]
                batch.append(item)
                if len(batch) >= size:
                    break
        except Exception as exc:  # csv, zip, XML and openpyxl errors alike
            log.info("reading an import stopped after row %d", self.last_row, exc_info=True)
            raise FileUnreadable(f"cannot read the file after row {self.last_row}: {exc}") from None
        return batch

    def close(self) -> None:
        self._files.close()


# --- jobs --------------------------------------------------------------------------------------
