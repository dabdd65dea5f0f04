"""The member archive through the gateway (docs/api.md "Members"), on the real members service."""

from __future__ import annotations

import re
import uuid

import pytest

from services.members.domain import luhn_valid
from tests.members.helpers import (
    assert_problem,
    national,
    rand_name,
    random_phone,
    search,
)
from tests.members.member_api_helpers import define_field, nos

pytestmark = pytest.mark.integration


# --- register -------------------------------------------------------------------------------
async def test_clerk_registers_member_with_check_digit_number_e164_phone_and_standard_card(
    world, store, clerk
):
    phone = random_phone()
    r = await world.call("POST", "/api/v1/members", clerk, json={"name": "张三", "phone": phone})
    assert r.status_code == 201, r.text
    m = r.json()
    assert re.fullmatch(r"\d{9,10}", m["member_no"]), m["member_no"]
    assert luhn_valid(m["member_no"])
    assert m["phone"] == "+86" + phone
    assert m["name"] == "张三"
    assert m["home_store"] == store[1]
    assert m["home_store_path"] == f"HQ/{store[0]}/{store[1]}"
    assert m["card"]["status"] == "active"
    assert m["card"]["card_type"] == "STANDARD"
    assert luhn_valid(m["card"]["card_no"]) and len(m["card"]["card_no"]) == 16
    assert m["source"] == "store"
    assert m["consents"] == {"sms": False, "email": False, "wechat": False}


async def test_two_registrations_get_distinct_member_and_card_numbers(world, clerk):
    a, b = await world.register(clerk), await world.register(clerk)
    assert a["member_no"] != b["member_no"]
    assert a["card"]["card_no"] != b["card"]["card_no"]


async def test_hq_and_region_manager_must_name_the_home_store(world, store):
    region, s = store
    manager = await world.staff("region_manager", region)
    for token in (world.admin, manager):
        r = await world.call("POST", "/api/v1/members", token, json={"name": "李四", "phone": random_phone()})
        assert_problem(r, 422, "invalid_argument", field="home_store")
    m = await world.register(manager, home_store=s)
    assert m["home_store"] == s


async def test_region_manager_cannot_register_into_a_store_outside_its_region(world, store):
    manager = await world.staff("region_manager", store[0])
    other_region = await world.unit("region", "HQ")
    other_store = await world.unit("store", other_region)
    name = rand_name()
    r = await world.call(
        "POST",
        "/api/v1/members",
        manager,
        json={"name": name, "phone": random_phone(), "home_store": other_store},
    )
    assert_problem(r, 422, "invalid_argument", field="home_store")
    assert await search(world, world.admin, q=name) == []


async def test_home_store_must_be_a_store_not_a_region(world, store):
    r = await world.call(
        "POST",
        "/api/v1/members",
        world.admin,
        json={"name": "王五", "phone": random_phone(), "home_store": store[0]},
    )
    assert_problem(r, 422, "invalid_argument", field="home_store")


async def test_duplicate_phone_is_member_exists_however_it_is_written(world, clerk):
    phone = random_phone()
    await world.register(clerk, phone=phone)
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    for written in (phone, spaced, f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", "+86" + phone):
        r = await world.call("POST", "/api/v1/members", clerk, json={"name": "重复", "phone": written})
        assert_problem(r, 409, "member_exists")
    assert len(await search(world, world.admin, phone=phone)) == 1


async def test_duplicate_phone_is_refused_across_stores(world, clerk):
    phone = random_phone()
    await world.register(clerk, phone=phone)
    other = await world.staff("clerk", await world.unit("store", await world.unit("region", "HQ")))
    r = await world.call("POST", "/api/v1/members", other, json={"name": "别店", "phone": phone})
    assert_problem(r, 409, "member_exists")


BAD_INPUT = [
    pytest.param({"phone": "12345"}, "phone", id="bad-phone"),
    pytest.param({"phone": "abc"}, "phone", id="letters-phone"),
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": "   "}, "name", id="blank-name"),
    pytest.param({"birthday": "2020-02-31"}, "birthday", id="impossible-birthday"),
    pytest.param({"birthday": "2099-01-01"}, "birthday", id="future-birthday"),
    pytest.param({"birthday": "2020/01/01"}, "birthday", id="slashed-birthday"),
    pytest.param({"card_type": "NO_SUCH_TYPE"}, "card_type", id="unknown-card-type"),
    pytest.param({"custom_fields": {"no_such_field": 1}}, "custom_fields.no_such_field", id="unknown-field"),
    pytest.param({"email": "not-an-email"}, "email", id="bad-email"),
    pytest.param({"gender": "robot"}, "gender", id="bad-gender"),
    pytest.param({"tags": ["has space"]}, "tags", id="bad-tag"),
    pytest.param({"consents": {"sms": "yes"}}, "consents.sms", id="bad-consent"),
    pytest.param({"referrer_member_no": "999999999"}, "referrer_member_no", id="unknown-referrer"),
    pytest.param({"nickname": "x"}, "nickname", id="unknown-key"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_INPUT)
async def test_bad_registration_is_422_on_the_field_and_creates_nothing(world, clerk, fields, field):
    marker = rand_name("坏")
    phone = random_phone()
    body = {"name": marker, "phone": phone, **fields}
    r = await world.call("POST", "/api/v1/members", clerk, json=body)
    assert_problem(r, 422, "invalid_argument", field=field)
    if fields.get("name", marker) == marker:
        assert await search(world, world.admin, q=marker) == []
    assert await search(world, world.admin, phone=phone) == []


async def test_custom_field_of_the_wrong_type_is_refused_and_the_right_type_is_kept(world, clerk):
    key = await define_field(world, "integer", label="年龄段")
    phone = random_phone()
    r = await world.call(
        "POST", "/api/v1/members", clerk, json={"name": "类型", "phone": phone, "custom_fields": {key: "old"}}
    )
    assert_problem(r, 422, "invalid_argument", field=f"custom_fields.{key}")
    assert await search(world, world.admin, phone=phone) == []
    m = await world.register(clerk, phone=phone, custom_fields={key: 3})
    assert m["custom_fields"] == {key: 3}


async def test_choice_custom_field_accepts_only_its_choices(world, clerk):
    key = await define_field(world, "choice", choices=["S", "M", "L"])
    r = await world.call(
        "POST",
        "/api/v1/members",
        clerk,
        json={"name": "选择", "phone": random_phone(), "custom_fields": {key: "XL"}},
    )
    assert_problem(r, 422, "invalid_argument", field=f"custom_fields.{key}")
    assert (await world.register(clerk, custom_fields={key: "M"}))["custom_fields"] == {key: "M"}


async def test_only_hq_defines_custom_fields(world, store):
    manager = await world.staff("region_manager", store[0])
    r = await world.call(
        "PUT", f"/api/v1/members/custom-fields/f_{uuid.uuid4().hex[:8]}", manager, json={"type": "string"}
    )
    assert_problem(r, 403, "forbidden")
    key = await define_field(world, "boolean")
    r = await world.call("GET", "/api/v1/members/custom-fields", manager)
    assert r.status_code == 200
    assert key in {f["key"] for f in r.json()["items"]}


async def test_malformed_json_is_400_and_creates_nothing(world, clerk):
    phone = random_phone()
    r = await world.call(
        "POST",
        "/api/v1/members",
        clerk,
        content=f'{{"name": "破", "phone": "{phone}"',
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 400)
    assert await search(world, world.admin, phone=phone) == []


# --- read and search ------------------------------------------------------------------------
async def test_get_returns_the_full_profile(world, store, clerk):
    phone = random_phone()
    created = await world.register(
        clerk,
        name="赵六",
        phone=phone,
        gender="female",
        birthday="1990-03-07",
        email="Zhao6@Example.com",
        tags=["vip", "wine"],
        consents={"sms": True, "email": False, "wechat": True},
        source="call_center",
    )
    r = await world.call("GET", f"/api/v1/members/{created['member_no']}", clerk)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["member_no"] == created["member_no"]
    assert m["name"] == "赵六"
    assert m["phone"] == "+86" + phone
    assert m["email"] == "zhao6@example.com"
    assert m["gender"] == "female"
    assert m["birthday"] == "1990-03-07"
    assert m["tags"] == ["vip", "wine"]
    assert m["consents"] == {"sms": True, "email": False, "wechat": True}
    assert m["source"] == "call_center"
    assert m["home_store"] == store[1]
    assert m["pii_masked"] is False
    assert [c["card_no"] for c in m["cards"]] == [created["card"]["card_no"]]
    for key in ("tier", "points", "balance", "joined_on", "card"):
        assert key in m


async def test_get_of_an_unknown_member_is_404(world):
    assert_problem(await world.call("GET", "/api/v1/members/1234567890", world.admin), 404, "not_found")


async def test_search_by_store(world, populated):
    found = await search(world, world.admin, store=populated["store"])
    assert nos(found) == nos(populated["members"])


async def test_search_by_phone_written_any_way(world, populated):
    a = populated["members"][0]
    n = national(a["phone"])
    for written in (n, a["phone"], f"+86 {n[:3]} {n[3:7]} {n[7:]}"):
        assert nos(await search(world, world.admin, phone=written)) == {a["member_no"]}
    assert await search(world, world.admin, phone=random_phone()) == []


async def test_search_by_name_substring(world, populated):
    a, b, _ = populated["members"]
    assert nos(await search(world, world.admin, q=populated["stem"])) == {a["member_no"], b["member_no"]}
    assert nos(await search(world, world.admin, q=populated["stem"][2:] + "乙")) == {b["member_no"]}


async def test_search_by_card_number(world, populated):
    a = populated["members"][0]
    assert nos(await search(world, world.admin, q=a["card"]["card_no"])) == {a["member_no"]}
    assert await search(world, world.admin, q="9" * 16) == []


async def test_search_by_member_no_prefix(world, populated):
    a = populated["members"][0]
    assert a["member_no"] in nos(await search(world, world.admin, q=a["member_no"]))
    prefix = a["member_no"][:-2]
    found = await search(world, world.admin, q=prefix, store=populated["store"])
    assert a["member_no"] in nos(found)
    assert all(m["member_no"].startswith(prefix) for m in found)


async def test_search_by_tag_and_birthday_month(world, populated):
    a, b, c = populated["members"]
    assert nos(await search(world, world.admin, tag=populated["tag"])) == {a["member_no"]}
    assert nos(await search(world, world.admin, tag="common", store=populated["store"])) == {
        a["member_no"],
        b["member_no"],
    }
    feb = await search(world, world.admin, birthday_month=2, store=populated["store"])
    assert nos(feb) == {a["member_no"], c["member_no"]}
    r = await world.call("GET", "/api/v1/members", world.admin, params={"birthday_month": 13})
    assert_problem(r, 422, "invalid_argument", field="birthday_month")


async def test_pagination_walks_every_member_once(world, populated):
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 1, "store": populated["store"]}
        if cursor:
            params["cursor"] = cursor
        r = await world.call("GET", "/api/v1/members", world.admin, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 1
        seen += [m["member_no"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert sorted(seen) == sorted(nos(populated["members"]))
    assert len(seen) == len(set(seen)) == 3


async def test_search_limit_out_of_range_is_422(world):
    r = await world.call("GET", "/api/v1/members", world.admin, params={"limit": 501})
    assert_problem(r, 422, "invalid_argument", field="limit")
