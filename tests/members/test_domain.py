"""Pure rules of the member archive (services/members/domain.py, pii.py): no I/O."""

from __future__ import annotations

import base64
import json
import os
from datetime import date, timedelta

import pytest
from cryptography.exceptions import InvalidTag

from kit.errors import InvalidArgument
from services.members import domain
from services.members.domain import FieldDef, InvalidCardState
from services.members.pii import Keyring, aad

pytestmark = pytest.mark.unit


# --- numbers with a check digit -------------------------------------------------------------
def test_luhn_accepts_a_known_valid_number_and_computes_its_digit():
    assert domain.luhn_valid("79927398713")
    assert domain.luhn_digit("7992739871") == "3"
    assert not domain.luhn_valid("79927398710")


@pytest.mark.parametrize("seq", [10000001, 10000002, 12345678, 99999999])
def test_member_no_carries_a_valid_check_digit(seq):
    no = domain.member_no_from(seq)
    assert no.startswith(str(seq))
    assert len(no) == len(str(seq)) + 1
    assert domain.luhn_valid(no)


@pytest.mark.parametrize("seq", [1, 42, 9_999_999_999_999])
def test_card_no_is_16_digits_with_a_valid_check_digit(seq):
    no = domain.card_no_from(seq)
    assert len(no) == 16 and no.startswith("88") and no.isdigit()
    assert domain.luhn_valid(no)


@pytest.mark.parametrize("number", [domain.member_no_from(10003457), domain.card_no_from(20240617)])
def test_any_single_changed_digit_is_detected(number):
    for i, ch in enumerate(number):
        for d in "0123456789":
            if d != ch:
                changed = number[:i] + d + number[i + 1 :]
                assert not domain.luhn_valid(changed), f"{changed} (digit {i} changed) passed the check"


def test_luhn_refuses_non_digits_and_too_short():
    assert not domain.luhn_valid("")
    assert not domain.luhn_valid("0")
    assert not domain.luhn_valid("1234-5678")


# --- phone ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "138-1234-5678", " 8613812345678 "])
def test_phone_is_normalized_to_e164(raw):
    assert domain.normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize("raw", ["123", "abc", "", "   ", "1381234567", "+86 138 1234 56789"])
def test_invalid_phone_is_refused_on_the_phone_field(raw):
    with pytest.raises(InvalidArgument) as err:
        domain.normalize_phone(raw)
    assert err.value.extra["field"] == "phone"


# --- dates ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["2020-02-31", "2021-13-01", "2020/01/01", "2021-02-29", "2020-00-10", "20200101", ""]
)
def test_impossible_or_malformed_dates_are_refused(text):
    with pytest.raises(InvalidArgument) as err:
        domain.parse_date(text, "birthday")
    assert err.value.extra["field"] == "birthday"


def test_real_dates_parse_including_leap_day():
    assert domain.parse_date("2020-02-29", "d") == date(2020, 2, 29)
    assert domain.parse_date("1999-12-31", "d") == date(1999, 12, 31)


def test_birthday_in_the_future_is_refused_today_is_fine_and_empty_is_none():
    today = date(2024, 6, 1)
    with pytest.raises(InvalidArgument):
        domain.parse_birthday((today + timedelta(days=1)).isoformat(), today)
    with pytest.raises(InvalidArgument):
        domain.parse_birthday("1899-12-31", today)
    assert domain.parse_birthday("2024-06-01", today) == today
    assert domain.parse_birthday("", today) is None


def test_empty_name_is_refused_and_whitespace_collapsed():
    with pytest.raises(InvalidArgument) as err:
        domain.clean_name("   ")
    assert err.value.extra["field"] == "name"
    assert domain.clean_name("  张   三 ") == "张 三"


def test_email_is_checked_and_lowercased():
    assert domain.clean_email(" Alice@Example.COM ") == "alice@example.com"
    assert domain.clean_email("") == ""
    with pytest.raises(InvalidArgument):
        domain.clean_email("not-an-email")


# --- masking --------------------------------------------------------------------------------
def test_name_is_masked_after_the_first_character():
    assert domain.mask_name("张三") == "张*"
    assert domain.mask_name("欧阳娜娜") == "欧***"
    assert domain.mask_name("") == ""


def test_phone_is_masked_keeping_prefix_and_last_four():
    assert domain.mask_phone("+8613812345678") == "138****5678"
    assert domain.mask_phone("") == ""


def test_email_is_masked_keeping_first_letter_and_domain():
    masked = domain.mask_email("alice@example.com")
    assert masked == "a***@example.com"
    assert "lice" not in masked


def test_id_number_is_masked_keeping_first_three_and_last_four():
    masked = domain.mask_id_number("110101199003071234")
    assert masked == "110" + "*" * 11 + "1234"
    assert "19900307" not in masked
    assert domain.mask_id_number("12345") == "*****"


# --- card lifecycle -------------------------------------------------------------------------
# The lifecycle of the issue, written out: everything not listed is an invalid transition.
EXPECTED_TRANSITIONS = {
    ("active", "report_loss"): "lost",
    ("lost", "cancel_loss"): "active",
    ("active", "freeze"): "frozen",
    ("frozen", "unfreeze"): "active",
    ("active", "cancel"): "cancelled",
    ("lost", "cancel"): "cancelled",
    ("frozen", "cancel"): "cancelled",
    ("active", "expire"): "expired",
}
ACTIONS = ("report_loss", "cancel_loss", "freeze", "unfreeze", "cancel", "expire")


def test_transition_table_is_the_documented_lifecycle():
    table = {(status, action): to for action, (starts, to) in domain.TRANSITIONS.items() for status in starts}
    assert table == EXPECTED_TRANSITIONS


@pytest.mark.parametrize("status", domain.CARD_STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action_pair(status, action):
    expected = EXPECTED_TRANSITIONS.get((status, action))
    if expected is None:
        with pytest.raises(InvalidCardState):
            domain.next_status(status, action)
    else:
        assert domain.next_status(status, action) == expected


def test_unknown_card_action_is_invalid_argument():
    with pytest.raises(InvalidArgument):
        domain.next_status("active", "explode")


@pytest.mark.parametrize("status", domain.CARD_STATUSES)
def test_only_lost_or_frozen_cards_are_replaceable(status):
    if status in ("lost", "frozen"):
        domain.check_replaceable(status)
    else:
        with pytest.raises(InvalidCardState):
            domain.check_replaceable(status)


def test_only_report_loss_is_chain_wide():
    assert frozenset({"report_loss"}) == domain.CHAIN_WIDE_ACTIONS


def test_holders_of_personal_and_family_cards():
    domain.check_holders("personal", 1, 1)
    domain.check_holders("family", 3, 3)
    with pytest.raises(InvalidArgument):
        domain.check_holders("personal", 5, 2)
    with pytest.raises(InvalidArgument):
        domain.check_holders("co_branded", 5, 2)
    with pytest.raises(InvalidArgument):
        domain.check_holders("family", 3, 4)


# --- custom fields --------------------------------------------------------------------------
DEFS = {
    "level": FieldDef("level", "integer", False),
    "vip": FieldDef("vip", "boolean", False),
    "size": FieldDef("size", "choice", False, ("S", "M", "L")),
    "since": FieldDef("since", "date", False),
    "nick": FieldDef("nick", "string", False),
    "code": FieldDef("code", "string", True),
}


def _fields(**values):  # type: ignore[no-untyped-def]
    return json.dumps({"code": "X", **values})


def test_valid_custom_fields_pass():
    out = domain.validate_custom_fields(
        _fields(level=3, vip=True, size="M", since="2020-02-29", nick="a"), DEFS
    )
    assert out == {"code": "X", "level": 3, "vip": True, "size": "M", "since": "2020-02-29", "nick": "a"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"colour": "red"}, "custom_fields.colour"),
        ({"level": "3"}, "custom_fields.level"),
        ({"level": True}, "custom_fields.level"),
        ({"level": 1.5}, "custom_fields.level"),
        ({"vip": "yes"}, "custom_fields.vip"),
        ({"nick": 7}, "custom_fields.nick"),
        ({"size": "XL"}, "custom_fields.size"),
        ({"since": "2020-02-31"}, "custom_fields.since"),
        ({"since": 20200101}, "custom_fields.since"),
    ],
)
def test_bad_custom_fields_are_refused_on_their_field(values, field):
    with pytest.raises(InvalidArgument) as err:
        domain.validate_custom_fields(_fields(**values), DEFS)
    assert err.value.extra["field"] == field


def test_required_custom_field_missing_is_refused_unless_partial():
    with pytest.raises(InvalidArgument) as err:
        domain.validate_custom_fields(json.dumps({"level": 1}), DEFS)
    assert err.value.extra["field"] == "custom_fields.code"
    assert domain.validate_custom_fields(json.dumps({"level": 1}), DEFS, partial=True) == {"level": 1}


@pytest.mark.parametrize("raw", ["[1, 2]", "not json", '"text"'])
def test_custom_fields_must_be_a_json_object(raw):
    with pytest.raises(InvalidArgument) as err:
        domain.validate_custom_fields(raw, DEFS)
    assert err.value.extra["field"] == "custom_fields"


# --- validity -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
        (date(2023, 3, 31), 1, date(2023, 4, 30)),
        (date(2023, 5, 10), 24, date(2025, 5, 10)),
    ],
)
def test_add_months_clamps_to_the_end_of_month(start, months, expected):
    assert domain.add_months(start, months) == expected


def test_expiry_is_none_without_validity():
    assert domain.expiry_for(date(2024, 1, 31), 0) is None
    assert domain.expiry_for(date(2024, 1, 31), 1) == date(2024, 2, 29)


# --- PII keyring ----------------------------------------------------------------------------
def _ring(keys: dict[str, bytes], active: str, index: bytes | None = None) -> Keyring:
    return Keyring(keys, active, index or b"i" * 32)


K1, K2 = os.urandom(32), os.urandom(32)


def test_encrypt_decrypt_round_trip_and_ciphertext_carries_the_key_id():
    ring = _ring({"k1": K1}, "k1")
    stored = ring.encrypt("+8613812345678", aad("member-a", "phone"))
    assert stored is not None and stored.startswith("k1:")
    assert ring.key_id(stored) == "k1"
    assert "13812345678" not in stored
    assert ring.decrypt(stored, aad("member-a", "phone")) == "+8613812345678"


def test_encryption_is_randomized():
    ring = _ring({"k1": K1}, "k1")
    assert ring.encrypt("x", b"a") != ring.encrypt("x", b"a")


def test_empty_values_are_not_encrypted():
    ring = _ring({"k1": K1}, "k1")
    assert ring.encrypt("", b"a") is None
    assert ring.decrypt(None, b"a") == ""


def test_a_value_of_member_a_does_not_decrypt_for_member_b_or_another_field():
    ring = _ring({"k1": K1}, "k1")
    stored = ring.encrypt("a@example.com", aad("member-a", "email"))
    with pytest.raises(InvalidTag):
        ring.decrypt(stored, aad("member-b", "email"))
    with pytest.raises(InvalidTag):
        ring.decrypt(stored, aad("member-a", "phone"))


def test_rotation_new_active_key_still_decrypts_old_values():
    old = _ring({"k1": K1}, "k1")
    stored = old.encrypt("secret", b"m:phone")
    rotated = _ring({"k1": K1, "k2": K2}, "k2")
    assert rotated.decrypt(stored, b"m:phone") == "secret"
    fresh = rotated.encrypt("secret", b"m:phone")
    assert rotated.key_id(fresh) == "k2"
    assert rotated.decrypt(fresh, b"m:phone") == "secret"
    with pytest.raises(KeyError):  # the old ring never had k2
        old.decrypt(fresh, b"m:phone")


def test_blind_index_is_deterministic_and_keyed():
    a = _ring({"k1": K1}, "k1", index=b"a" * 32)
    a_again = _ring({"k2": K2}, "k2", index=b"a" * 32)
    b = _ring({"k1": K1}, "k1", index=b"b" * 32)
    phone = "+8613812345678"
    assert a.blind_index(phone) == a.blind_index(phone) == a_again.blind_index(phone)
    assert a.blind_index(phone) != b.blind_index(phone)
    assert a.blind_index(phone) != a.blind_index("+8613812345679")
    assert "13812345678" not in a.blind_index(phone)


def test_keyring_from_config():
    keys = json.dumps({"k1": base64.b64encode(K1).decode(), "k2": base64.b64encode(K2).decode()})
    index = base64.b64encode(b"x" * 32).decode()
    ring = Keyring.from_config(keys, None, index, "prod")
    assert ring.active == "k2"  # the newest key id by default
    assert Keyring.from_config(None, None, None, "dev").active == "dev1"
    with pytest.raises(RuntimeError):
        Keyring.from_config(None, None, None, "prod")
    with pytest.raises(RuntimeError):
        Keyring.from_config(json.dumps({"k1": base64.b64encode(b"short").decode()}), None, index, "dev")
    with pytest.raises(RuntimeError):
        Keyring.from_config(keys, "k9", index, "dev")
    with pytest.raises(RuntimeError):
        Keyring.from_config(keys, None, None, "dev")
