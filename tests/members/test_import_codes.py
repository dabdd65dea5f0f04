"""Every refused import row carries a stable code per problem (readers translate it), through
the real gateway and members service."""

from __future__ import annotations

import pytest

from services.members.import_rows import code_for
from tests.members.conftest import random_phone
from tests.members.test_import_export import csv_bytes, run_import

pytestmark = pytest.mark.integration


def test_codes_name_the_problem_and_an_empty_required_cell() -> None:
    assert code_for("phone", "12345") == "phone_invalid"
    assert code_for("phone", "") == "phone_required"
    assert code_for("name", " ") == "name_required"
    assert code_for("birthday", "") == "birthday_invalid"
    assert code_for("custom_fields.size", "x") == "custom_field_invalid"
    assert code_for("sms", "maybe") == "consent_invalid"
    assert code_for("", "x") == "row_invalid"


async def test_bad_phone_bad_date_and_a_duplicate_row_have_their_codes(world) -> None:  # type: ignore[no-untyped-def]
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    manager = await world.staff("region_manager", region)
    p1, p2, p3 = random_phone(), random_phone(), random_phone()
    content = csv_bytes(
        [
            "姓名,手机,生日,门店,短信",
            f"甲,{p1},1990-05-01,{store},是",
            f"乙,12345,,{store},",
            f"丙,{p2},2020-02-31,{store},",
            f"丁,{p1},,{store},",
            f"戊,,,{store},",
            f"己,{p3},,NOSUCH,也许",
        ]
    )
    job = await run_import(world, manager, "bad.csv", content)
    assert (job["created"], job["failed"]) == (1, 5), job
    got = [(e["row"], e["field"], e["code"]) for e in job["errors"]]
    assert got == [
        (3, "phone", "phone_invalid"),
        (4, "birthday", "birthday_invalid"),
        (5, "phone", "phone_duplicate"),
        (6, "phone", "phone_required"),
        (7, "home_store", "store_unknown"),
        (7, "sms", "consent_invalid"),
    ]
    assert all(e["message"] for e in job["errors"])  # the English message stays
