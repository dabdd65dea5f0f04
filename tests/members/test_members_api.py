"""The member archive through the gateway (API.md "Members"), on the real members service."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from services.members.domain import luhn_valid
from tests.members.helpers import (
    assert_problem,
    members_grpc,
    national,
    rand_code,
    rand_name,
    random_phone,
    search,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(world):
    region = await world.unit("region", "HQ")
    return region, await world.unit("store", region)


@pytest.fixture
async def clerk(world, store):
    return await world.staff("clerk", store[1])


async def define_field(world, type_: str, **extra) -> str:
    key = f"f_{uuid.uuid4().hex[:10]}"
    r = await world.call(
        "PUT", f"/api/v1/members/custom-fields/{key}", world.admin, json={"type": type_, **extra}
    )
    assert r.status_code == 200, r.text
    return key


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


@pytest.fixture
async def populated(world, store):
    """Three members at a fresh store with distinct names, tags and birthdays."""
    clerk = await world.staff("clerk", store[1])
    tag = f"t{uuid.uuid4().hex[:8]}"
    stem = rand_name("检索")
    a = await world.register(clerk, name=f"{stem}甲", tags=[tag, "common"], birthday="1985-02-14")
    b = await world.register(clerk, name=f"{stem}乙", tags=["common"], birthday="1991-11-30")
    c = await world.register(clerk, name=rand_name("别名"), birthday="1970-02-01")
    return {"store": store[1], "clerk": clerk, "tag": tag, "stem": stem, "members": [a, b, c]}


def nos(items: list[dict]) -> set[str]:
    return {m["member_no"] for m in items}


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


# --- update ---------------------------------------------------------------------------------
async def test_patch_changes_name_tags_and_consents(world, clerk):
    m = await world.register(clerk)
    r = await world.call(
        "PATCH",
        f"/api/v1/members/{m['member_no']}",
        clerk,
        json={"name": "新名字", "tags": ["gold"], "consents": {"sms": True, "email": True, "wechat": False}},
    )
    assert r.status_code == 200, r.text
    r = await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)
    got = r.json()
    assert got["name"] == "新名字"
    assert got["tags"] == ["gold"]
    assert got["consents"] == {"sms": True, "email": True, "wechat": False}
    assert got["phone"] == m["phone"]


async def test_patch_to_another_members_phone_is_member_exists(world, clerk):
    a, b = await world.register(clerk), await world.register(clerk)
    r = await world.call(
        "PATCH", f"/api/v1/members/{b['member_no']}", clerk, json={"phone": national(a["phone"])}
    )
    assert_problem(r, 409, "member_exists")
    r = await world.call("GET", f"/api/v1/members/{b['member_no']}", clerk)
    assert r.json()["phone"] == b["phone"]


async def test_patch_phone_moves_the_phone_lookup(world, clerk):
    m = await world.register(clerk)
    new = random_phone()
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"phone": new})
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "+86" + new
    assert nos(await search(world, world.admin, phone=new)) == {m["member_no"]}
    assert await search(world, world.admin, phone=m["phone"]) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"phone": "123"}, "phone", id="bad-phone"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"birthday": "2021-13-01"}, "birthday", id="bad-birthday"),
        pytest.param({"name": None}, "name", id="null-name"),
        pytest.param({"home_store": "NOPE"}, "home_store", id="unknown-store"),
    ],
)
async def test_bad_patch_is_422_and_changes_nothing(world, clerk, body, field):
    m = await world.register(clerk)
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json=body)
    assert_problem(r, 422, "invalid_argument", field=field)
    got = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert (got["name"], got["phone"], got["birthday"], got["home_store"]) == (
        m["name"],
        m["phone"],
        m["birthday"],
        m["home_store"],
    )


async def test_custom_field_patch_is_validated_and_merged(world, clerk):
    size = await define_field(world, "choice", choices=["S", "M"])
    level = await define_field(world, "integer")
    m = await world.register(clerk, custom_fields={size: "S"})
    path = f"/api/v1/members/{m['member_no']}"
    r = await world.call("PATCH", path, clerk, json={"custom_fields": {level: "high"}})
    assert_problem(r, 422, "invalid_argument", field=f"custom_fields.{level}")
    r = await world.call("PATCH", path, clerk, json={"custom_fields": {level: 2}})
    assert r.status_code == 200, r.text
    assert r.json()["custom_fields"] == {size: "S", level: 2}


# --- anonymize ------------------------------------------------------------------------------
async def test_delete_anonymizes_pii_keeps_ids_and_cards_and_frees_the_phone(world, store, clerk):
    manager = await world.staff("store_manager", store[1])
    m = await world.register(
        clerk, email="erase@example.com", birthday="1980-01-02", tags=["x"], address="上海市浦东新区XX路1号"
    )
    r = await world.call("DELETE", f"/api/v1/members/{m['member_no']}", manager)
    assert r.status_code == 200, r.text
    r = await world.call("GET", f"/api/v1/members/{m['member_no']}", manager)
    assert r.status_code == 200
    gone = r.json()
    assert gone["member_no"] == m["member_no"]
    assert gone["name"] == "(anonymized)"
    assert not gone["phone"]
    assert not gone["email"]
    assert not gone["address"]
    assert not gone["birthday"]
    assert gone["tags"] == []
    assert gone["status"] == "anonymized"
    assert [c["card_no"] for c in gone["cards"]] == [m["card"]["card_no"]]
    assert await search(world, world.admin, phone=m["phone"]) == []
    again = await world.register(clerk, phone=national(m["phone"]))
    assert again["member_no"] != m["member_no"]
    assert nos(await search(world, world.admin, phone=m["phone"])) == {again["member_no"]}


async def test_clerk_cannot_anonymize(world, clerk):
    m = await world.register(clerk)
    assert_problem(await world.call("DELETE", f"/api/v1/members/{m['member_no']}", clerk), 403, "forbidden")
    assert (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()["name"] == m["name"]


# --- visits and feedback --------------------------------------------------------------------
async def test_visits_are_recorded_and_listed(world, clerk):
    m = await world.register(clerk)
    path = f"/api/v1/members/{m['member_no']}/visits"
    r = await world.call(
        "POST", path, clerk, json={"channel": "phone", "outcome": "reached", "notes": "喜欢红酒"}
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["channel"] == "phone" and visit["outcome"] == "reached" and visit["notes"] == "喜欢红酒"
    assert visit["staff"]
    r = await world.call("POST", path, clerk, json={"channel": "wechat", "outcome": "no answer"})
    assert r.status_code == 201, r.text
    r = await world.call("GET", path, clerk)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [v["outcome"] for v in items] == ["no answer", "reached"]  # newest first
    assert all(v["member_no"] == m["member_no"] for v in items)


async def test_visit_with_unknown_channel_is_422(world, clerk):
    m = await world.register(clerk)
    r = await world.call(
        "POST", f"/api/v1/members/{m['member_no']}/visits", clerk, json={"channel": "pigeon", "outcome": "x"}
    )
    assert_problem(r, 422, "invalid_argument", field="channel")
    assert (await world.call("GET", f"/api/v1/members/{m['member_no']}/visits", clerk)).json()["items"] == []


async def test_feedback_is_recorded_listed_and_handled_once(world, store, clerk):
    manager = await world.staff("store_manager", store[1])
    m = await world.register(clerk)
    path = f"/api/v1/members/{m['member_no']}/feedback"
    r = await world.call("POST", path, clerk, json={"kind": "complaint", "content": "排队太久"})
    assert r.status_code == 201, r.text
    fb = r.json()
    assert fb["status"] == "open" and fb["kind"] == "complaint"
    r = await world.call("GET", path, clerk)
    assert [f["id"] for f in r.json()["items"]] == [fb["id"]]
    r = await world.call("POST", f"{path}/{fb['id']}/handle", manager, json={"resolution": "已道歉"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "handled"
    assert r.json()["resolution"] == "已道歉"
    r = await world.call("POST", f"{path}/{fb['id']}/handle", manager, json={"resolution": "again"})
    assert_problem(r, 409)
    assert (await world.call("GET", path, clerk)).json()["items"][0]["resolution"] == "已道歉"


async def test_feedback_of_unknown_kind_is_422_and_unknown_id_404(world, store, clerk):
    manager = await world.staff("store_manager", store[1])
    m = await world.register(clerk)
    path = f"/api/v1/members/{m['member_no']}/feedback"
    r = await world.call("POST", path, clerk, json={"kind": "rant", "content": "x"})
    assert_problem(r, 422, "invalid_argument", field="kind")
    r = await world.call("POST", f"{path}/{uuid.uuid4()}/handle", manager, json={})
    assert_problem(r, 404, "not_found")


async def test_referral_source_is_inferred_from_the_referrer(world, clerk):
    referrer = await world.register(clerk)
    m = await world.register(clerk, referrer_member_no=referrer["member_no"])
    assert m["source"] == "referral"
    assert m["referrer_member_no"] == referrer["member_no"]


async def test_only_hq_defines_card_types(world, store):
    manager = await world.staff("region_manager", store[0])
    body = {"code": rand_code("CT"), "name": "x", "kind": "personal"}
    assert_problem(await world.call("POST", "/api/v1/card-types", manager, json=body), 403, "forbidden")


async def test_patching_one_custom_field_keeps_a_required_one_already_set(world, clerk):
    """Field definitions are chain-wide: the required one is switched off again at the end."""
    required = await define_field(world, "string", required=True)
    other = await define_field(world, "integer")
    try:
        r = await world.call("POST", "/api/v1/members", clerk, json={"name": "必填", "phone": random_phone()})
        assert_problem(r, 422, "invalid_argument", field=f"custom_fields.{required}")
        m = await world.register(clerk, custom_fields={required: "set"})
        r = await world.call(
            "PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"custom_fields": {other: 5}}
        )
        assert r.status_code == 200, r.text
        assert r.json()["custom_fields"] == {required: "set", other: 5}
    finally:
        r = await world.call(
            "PUT",
            f"/api/v1/members/custom-fields/{required}",
            world.admin,
            json={"type": "string", "required": True, "active": False},
        )
        assert r.status_code == 200, r.text


async def test_concurrent_registrations_of_one_phone_have_one_winner(world, clerk):
    phone = random_phone()
    rs = await asyncio.gather(
        *(
            world.call("POST", "/api/v1/members", clerk, json={"name": f"并发{i}", "phone": written})
            for i, written in enumerate([phone, "+86" + phone, f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"])
        )
    )
    assert sorted(r.status_code for r in rs) == [201, 409, 409], [r.text for r in rs]
    assert all(r.json()["code"] == "member_exists" for r in rs if r.status_code == 409)
    assert len(await search(world, world.admin, phone=phone)) == 1


async def test_concurrent_phone_changes_to_one_phone_have_one_winner(world, clerk):
    a, b = await world.register(clerk), await world.register(clerk)
    phone = random_phone()
    rs = await asyncio.gather(
        *(
            world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"phone": phone})
            for m in (a, b)
        )
    )
    assert sorted(r.status_code for r in rs) == [200, 409], [r.text for r in rs]
    assert len(await search(world, world.admin, phone=phone)) == 1


async def test_search_by_tier(world, populated):
    tier = populated["members"][0]["tier"]
    found = await search(world, world.admin, tier=tier, store=populated["store"])
    assert nos(found) == nos(populated["members"])
    assert await search(world, world.admin, tier="no-such-tier", store=populated["store"]) == []


async def test_anonymized_member_cannot_be_changed_or_get_a_card(world, store, clerk):
    manager = await world.staff("store_manager", store[1])
    m = await world.register(clerk)
    assert (await world.call("DELETE", f"/api/v1/members/{m['member_no']}", manager)).status_code == 200
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"name": "复活"})
    assert_problem(r, 409)
    r = await world.call(
        "POST", f"/api/v1/members/{m['member_no']}/cards", clerk, json={"card_type": "STANDARD"}
    )
    assert_problem(r, 409)
    got = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert got["name"] == "(anonymized)" and len(got["cards"]) == 1


async def test_moving_a_member_to_another_store_moves_its_card(world, store):
    """The card's home store is the member's: wallet reads it from GetCard for the home-scope
    rules (fees, adjustments, settlement), so it must follow the member."""
    region, s = store
    other = await world.unit("store", region)
    manager = await world.staff("region_manager", region)
    m = await world.register(manager, home_store=s)
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", manager, json={"home_store": other})
    assert r.status_code == 200, r.text
    assert r.json()["home_store"] == other
    # the old store's clerk lost the member, the new store's clerk has it
    old_clerk, new_clerk = await world.staff("clerk", s), await world.staff("clerk", other)
    assert (await world.call("GET", f"/api/v1/members/{m['member_no']}", old_clerk)).status_code == 404
    assert (await world.call("GET", f"/api/v1/members/{m['member_no']}", new_clerk)).status_code == 200
    r = await world.call("POST", f"/api/v1/cards/{m['card']['card_no']}/freeze", new_clerk)
    assert r.status_code == 200, r.text
    async with members_grpc(world) as client:
        card = await client.get_card(m["card"]["card_no"])
    assert card.home_store_path == f"HQ/{region}/{other}"


async def test_identify_needs_exactly_one_known_key(world, clerk):
    m = await world.register(clerk)
    url = "/api/v1/members/identify"
    assert_problem(await world.call("POST", url, clerk, json={}), 422, "invalid_argument")
    r = await world.call("POST", url, clerk, json={"card_no": m["card"]["card_no"], "phone": m["phone"]})
    assert_problem(r, 422, "invalid_argument")
    assert_problem(
        await world.call("POST", url, clerk, json={"phone": "abc"}), 422, "invalid_argument", "phone"
    )
    assert_problem(await world.call("POST", url, clerk, json={"phone": random_phone()}), 404, "not_found")
    r = await world.call("POST", url, clerk, json={"card_no": "8800000000000000"})
    assert_problem(r, 404, "not_found")
    r = await world.call("POST", url, clerk, json={"card_no": m["card"]["card_no"]})
    assert r.status_code == 200 and r.json()["member_no"] == m["member_no"]


async def test_search_with_a_bad_phone_is_422(world):
    r = await world.call("GET", "/api/v1/members", world.admin, params={"phone": "abc"})
    assert_problem(r, 422, "invalid_argument", field="phone")


async def test_empty_patch_is_422(world, clerk):
    m = await world.register(clerk)
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={})
    assert_problem(r, 422, "invalid_argument")


async def test_clerk_cannot_move_a_member_out_of_its_scope(world, clerk):
    m = await world.register(clerk)
    elsewhere = await world.unit("store", await world.unit("region", "HQ"))
    r = await world.call("PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"home_store": elsewhere})
    assert_problem(r, 422, "invalid_argument", field="home_store")
    got = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert got["home_store"] == m["home_store"]


async def test_visits_paginate_newest_first(world, clerk):
    m = await world.register(clerk)
    path = f"/api/v1/members/{m['member_no']}/visits"
    for outcome in ("first", "second", "third"):
        r = await world.call("POST", path, clerk, json={"channel": "sms", "outcome": outcome})
        assert r.status_code == 201, r.text
    seen, cursor = [], None
    for _ in range(5):
        r = await world.call(
            "GET", path, clerk, params={"limit": 1, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        seen += [v["outcome"] for v in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["third", "second", "first"]


@pytest.mark.parametrize("role", ["store_manager", "terminal"])
async def test_home_store_defaults_to_the_callers_store(world, store, role):
    token = await world.terminal(store[1]) if role == "terminal" else await world.staff(role, store[1])
    m = await world.register(token)
    assert m["home_store"] == store[1]
    assert m["home_store_path"] == f"HQ/{store[0]}/{store[1]}"


async def test_custom_field_set_to_null_is_removed(world, clerk):
    """custom_fields is merged like a JSON merge patch: null removes a value."""
    nick, level = await define_field(world, "string"), await define_field(world, "integer")
    m = await world.register(clerk, custom_fields={nick: "小明", level: 1})
    r = await world.call(
        "PATCH", f"/api/v1/members/{m['member_no']}", clerk, json={"custom_fields": {nick: None}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["custom_fields"] == {level: 1}
