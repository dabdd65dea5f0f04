"""Pure rules of the member archive: numbers with check digits, phone/date/field validation,
PII masking, card types and the card lifecycle. No I/O, no clock reads (``today`` is passed in)."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

from kit.errors import ChainclubError, Conflict, InvalidArgument

GENDERS = ("", "male", "female", "other")
SOURCES = ("store", "call_center", "online", "import", "referral")
CARD_KINDS = ("personal", "family", "group", "co_branded")
FIELD_TYPES = ("string", "integer", "boolean", "date", "choice")
VISIT_CHANNELS = ("phone", "sms", "wechat", "email", "in_store", "other")
FEEDBACK_KINDS = ("complaint", "suggestion", "praise")
CARD_STATUSES = ("active", "lost", "frozen", "replaced", "expired", "cancelled")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
TAG = re.compile(r"^[^\s,;]{1,64}$")
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CARD_TYPE_CODE = re.compile(r"^[A-Z0-9_-]{2,32}$")
MAX_TAGS = 50


class MemberExists(ChainclubError):
    """A member with this phone is already registered."""

    reason = "member_exists"


class InvalidCardState(ChainclubError):
    """The card is not in a state that allows this."""

    reason = "invalid_card_state"


# --- numbers ---------------------------------------------------------------------------------
def luhn_digit(digits: str) -> str:
    """The Luhn check digit that makes ``digits + d`` valid."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_digit(number[:-1]) == number[-1]


def member_no_from(seq: int) -> str:
    body = str(seq)
    return body + luhn_digit(body)


def card_no_from(seq: int) -> str:
    body = f"88{seq:013d}"
    return body + luhn_digit(body)


# --- validation ------------------------------------------------------------------------------
def normalize_phone(text: str, region: str = "CN") -> str:
    """E.164 (``+8613812345678``); a Chinese mobile may be written without +86."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidArgument("phone is required", field="phone")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidArgument(f"not a phone number: {raw!r}", field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidArgument(f"not a valid phone number: {raw!r}", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_date(text: str, field: str) -> date:
    """A real calendar date ``YYYY-MM-DD`` (2020-02-31 is refused)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", (text or "").strip())
    if not m:
        raise InvalidArgument(f"{field} must be a date YYYY-MM-DD", field=field)
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12) or not (1 <= d <= calendar.monthrange(y, mo)[1]):
        raise InvalidArgument(f"{field} {text!r} is not a calendar date", field=field)
    return date(y, mo, d)


def parse_birthday(text: str, today: date) -> date | None:
    if not (text or "").strip():
        return None
    born = parse_date(text, "birthday")
    if born > today or born.year < 1900:
        raise InvalidArgument(f"birthday {text!r} is not plausible", field="birthday")
    return born


def clean_name(text: str) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise InvalidArgument("name must not be empty", field="name")
    if len(name) > 100:
        raise InvalidArgument("name is longer than 100 characters", field="name")
    return name


def clean_email(text: str) -> str:
    email = (text or "").strip()
    if email and not EMAIL.match(email):
        raise InvalidArgument(f"not an email address: {email!r}", field="email")
    return email.lower()


def clean_choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    v = (value or "").strip()
    if v not in allowed:
        raise InvalidArgument(f"{field} must be one of {', '.join(a for a in allowed if a)}", field=field)
    return v


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        t = tag.strip()
        if not TAG.match(t):
            raise InvalidArgument(
                f"tag {tag!r} must be 1-64 characters without spaces, commas or semicolons", field="tags"
            )
        if t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise InvalidArgument(f"at most {MAX_TAGS} tags", field="tags")
    return out


@dataclass(frozen=True)
class FieldDef:
    key: str
    type: str
    required: bool
    choices: tuple[str, ...] = ()


def validate_custom_fields(raw_json: str, definitions: dict[str, FieldDef], *, partial: bool = False) -> dict:
    """Values checked against HQ's field definitions: unknown keys, wrong types, missing
    required fields and values outside the choices are refused."""
    try:
        values = json.loads(raw_json) if raw_json else {}
    except ValueError:
        raise InvalidArgument("custom_fields must be a JSON object", field="custom_fields") from None
    if not isinstance(values, dict):
        raise InvalidArgument("custom_fields must be an object", field="custom_fields")
    out: dict[str, object] = {}
    for key, value in values.items():
        d = definitions.get(key)
        f = f"custom_fields.{key}"
        if d is None:
            raise InvalidArgument(f"unknown custom field {key!r}", field=f)
        if value is None:
            continue
        if d.type == "string" and not isinstance(value, str):
            raise InvalidArgument(f"{key} must be a string", field=f)
        if d.type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidArgument(f"{key} must be an integer", field=f)
        if d.type == "boolean" and not isinstance(value, bool):
            raise InvalidArgument(f"{key} must be true or false", field=f)
        if d.type == "date":
            if not isinstance(value, str):
                raise InvalidArgument(f"{key} must be a date YYYY-MM-DD", field=f)
            parse_date(value, f)
        if d.type == "choice" and value not in d.choices:
            raise InvalidArgument(f"{key} must be one of {', '.join(d.choices)}", field=f)
        out[key] = value
    if not partial:
        for key, d in definitions.items():
            if d.required and out.get(key) in (None, ""):
                raise InvalidArgument(f"custom field {key!r} is required", field=f"custom_fields.{key}")
    return out


# --- masking ---------------------------------------------------------------------------------
def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, Alice Smith -> A****"""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 4))


def mask_phone(e164: str) -> str:
    """+8613812345678 -> 138****5678 (national digits, middle hidden)."""
    if not e164:
        return ""
    try:
        national = str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        national = e164.lstrip("+")
    if len(national) <= 4:
        return "*" * len(national)
    keep = 3 if len(national) >= 10 else 1
    return national[:keep] + "*" * (len(national) - keep - 4) + national[-4:]


def mask_email(email: str) -> str:
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[0]}***@{domain}"


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    return (value[:6] + "***") if value else ""


# --- cards -----------------------------------------------------------------------------------
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "report_loss": (frozenset({"active"}), "lost"),
    "cancel_loss": (frozenset({"lost"}), "active"),
    "freeze": (frozenset({"active"}), "frozen"),
    "unfreeze": (frozenset({"frozen"}), "active"),
    "cancel": (frozenset({"active", "lost", "frozen"}), "cancelled"),
    "expire": (frozenset({"active"}), "expired"),
}
REPLACEABLE = frozenset({"lost", "frozen"})
# Any store of the chain may do these to any card (通存通兑); the rest need the home scope.
CHAIN_WIDE_ACTIONS = frozenset({"report_loss"})


def next_status(status: str, action: str) -> str:
    if action not in TRANSITIONS:
        raise InvalidArgument(f"unknown card action {action!r}", field="action")
    allowed, to = TRANSITIONS[action]
    if status not in allowed:
        raise InvalidCardState(f"cannot {action.replace('_', ' ')} a card that is {status}")
    return to


def check_replaceable(status: str) -> None:
    if status not in REPLACEABLE:
        raise InvalidCardState(f"only a lost or frozen card can be replaced; this one is {status}")


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(issued: date, validity_months: int) -> date | None:
    return add_months(issued, validity_months) if validity_months > 0 else None


def check_holders(kind: str, max_holders: int, holder_count: int) -> None:
    """``holder_count`` counts every holder, the owner included."""
    if kind in ("personal", "co_branded") and holder_count > 1:
        raise InvalidArgument(f"a {kind} card has a single holder", field="holders")
    if holder_count > max(max_holders, 1):
        raise InvalidArgument(f"this card type allows at most {max_holders} holders", field="holders")


def check_card_type_fields(
    code: str, kind: str, fees: list[int], discount_bps: int, max_holders: int
) -> None:
    if not CARD_TYPE_CODE.match(code):
        raise InvalidArgument("card type code must match [A-Z0-9_-]{2,32}", field="code")
    if kind not in CARD_KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(CARD_KINDS)}", field="kind")
    if any(f < 0 for f in fees):
        raise InvalidArgument("fees are non-negative fen", field="fees")
    if not 0 <= discount_bps < 10_000:
        raise InvalidArgument("discount_bps must be 0..9999 (1000 = 10% off)", field="discount_bps")
    if max_holders < 1:
        raise InvalidArgument("max_holders must be at least 1", field="max_holders")


def conflict_if(condition: bool, detail: str) -> None:
    if condition:
        raise Conflict(detail)
