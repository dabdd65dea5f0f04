"""Changing members through the gateway: update, anonymize, visits, feedback, and the rest."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.members.helpers import (
    assert_problem,
    members_grpc,
    national,
    rand_code,
    random_phone,
    search,
)
from tests.members.member_api_helpers import define_field, nos

pytestmark = pytest.mark.integration


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


async def test_search_by_tier_asks_loyalty_and_says_so_when_it_does_not_answer(world, populated):
    """A member's tier is loyalty's (purchases move it; members keeps the tier at registration),
    so the search asks loyalty who is on it. This world runs no loyalty service: the search is
    503 ``unavailable`` rather than an answer from the registration tiers. The search itself is
    tested with loyalty in tests/checkout/test_member_purchases_routes.py."""
    r = await world.call(
        "GET", "/api/v1/members", world.admin, params={"tier": "standard", "store": populated["store"]}
    )
    assert_problem(r, 503, "unavailable")
    assert nos(await search(world, world.admin, store=populated["store"])) == nos(populated["members"])


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
