"""Cards through the gateway (docs/api.md "Cards"): the lifecycle, replacement, family cards and
HQ's narrowing of a card type to a region."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from services.members.cards import expire_due
from services.members.context import CHAIN_TZ
from services.members.domain import add_months
from services.members.main import SYSTEM
from services.members.models import cards
from tests.members.helpers import (
    assert_problem,
    card_action,
    members_grpc,
    new_card_type,
    random_phone,
    search,
    set_card_status,
    two_regions,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def org(world):
    return await two_regions(world)


@pytest.fixture
async def clerk(world, org):
    return await world.staff("clerk", org.s1)


async def status_of(world, card_no: str) -> str:
    r = await world.call("GET", f"/api/v1/cards/{card_no}", world.admin)
    assert r.status_code == 200, r.text
    return r.json()["status"]


async def test_lifecycle_with_state_errors(world, clerk):
    card = (await world.register(clerk))["card"]["card_no"]

    async def step(action: str, status: int, expect: str) -> None:
        r = await card_action(world, clerk, card, action)
        if status == 200:
            assert r.status_code == 200, f"{action}: {r.text}"
            assert r.json()["status"] == expect
        else:
            assert_problem(r, status, "invalid_card_state")
        assert await status_of(world, card) == expect, f"after {action}"

    await step("report-loss", 200, "lost")
    await step("report-loss", 409, "lost")
    await step("freeze", 409, "lost")
    await step("unfreeze", 409, "lost")
    await step("cancel-loss", 200, "active")
    await step("cancel-loss", 409, "active")
    await step("unfreeze", 409, "active")
    await step("freeze", 200, "frozen")
    await step("freeze", 409, "frozen")
    await step("report-loss", 409, "frozen")
    await step("cancel-loss", 409, "frozen")
    await step("unfreeze", 200, "active")
    r = await world.call("POST", f"/api/v1/cards/{card}/replace", clerk, json={"fee_payment": "cash"})
    assert_problem(r, 409, "invalid_card_state")
    assert await status_of(world, card) == "active"


async def test_card_read_shows_owner_and_holders(world, clerk):
    m = await world.register(clerk)
    r = await world.call("GET", f"/api/v1/cards/{m['card']['card_no']}", clerk)
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["card_no"] == m["card"]["card_no"]
    assert card["card_type"] == "STANDARD"
    assert card["status"] == "active"
    assert card["member_no"] == m["member_no"]
    assert card["holders"] == [{"member_no": m["member_no"], "role": "owner"}]


async def test_unknown_card_is_404(world, clerk):
    assert_problem(await card_action(world, clerk, "8800000000000000", "report-loss"), 404, "not_found")
    assert_problem(await world.call("GET", "/api/v1/cards/8800000000000000", clerk), 404, "not_found")


@pytest.mark.parametrize("first", ["freeze", "report-loss"])
async def test_replace_issues_a_new_card_on_the_same_account(world, clerk, first):
    m = await world.register(clerk)
    old = m["card"]["card_no"]
    await set_card_status(world, old, first)
    r = await world.call("POST", f"/api/v1/cards/{old}/replace", clerk, json={"fee_payment": "stored_value"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["card_no"] != old
    assert new["status"] == "active"
    assert new["member_no"] == m["member_no"]
    assert new["replaces"] == old
    assert new["card_type"] == m["card"]["card_type"]

    r = await world.call("GET", f"/api/v1/cards/{old}", clerk)
    assert r.json()["status"] == "replaced"
    assert r.json()["replaced_by"] == new["card_no"]

    async with members_grpc(world) as grpc_client:
        old_pb = await grpc_client.get_card(old)
        new_pb = await grpc_client.get_card(new["card_no"])
    assert old_pb.status == "replaced"
    assert new_pb.account_id and new_pb.account_id == old_pb.account_id

    member = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert member["card"]["card_no"] == new["card_no"]
    assert {c["card_no"]: c["status"] for c in member["cards"]} == {old: "replaced", new["card_no"]: "active"}

    # the old card is dead for good: no state change brings it back
    for action in ("cancel-loss", "unfreeze", "report-loss", "freeze"):
        assert_problem(await card_action(world, clerk, old, action), 409, "invalid_card_state")
    r = await world.call("POST", f"/api/v1/cards/{old}/replace", clerk)
    assert_problem(r, 409, "invalid_card_state")


async def test_identify_by_phone_after_replace_shows_the_new_card(world, clerk):
    m = await world.register(clerk)
    await set_card_status(world, m["card"]["card_no"], "report-loss", "replace")
    r = await world.call("POST", "/api/v1/members/identify", clerk, json={"phone": m["phone"]})
    assert r.status_code == 200, r.text
    card = r.json()["card"]
    assert card["card_no"] != m["card"]["card_no"]
    assert card["status"] == "active"


async def test_replace_with_unknown_fee_payment_is_422(world, clerk):
    m = await world.register(clerk)
    await set_card_status(world, m["card"]["card_no"], "freeze")
    r = await world.call(
        "POST", f"/api/v1/cards/{m['card']['card_no']}/replace", clerk, json={"fee_payment": "ious"}
    )
    assert_problem(r, 422, "invalid_argument", field="fee_payment")
    assert await status_of(world, m["card"]["card_no"]) == "frozen"


async def test_family_card_is_issued_with_holders(world, clerk):
    family = await new_card_type(world, kind="family", max_holders=3)
    owner, a, b, c = [await world.register(clerk) for _ in range(4)]
    r = await world.call(
        "POST",
        f"/api/v1/members/{owner['member_no']}/cards",
        clerk,
        json={"card_type": family, "holders": [a["member_no"], b["member_no"]]},
    )
    assert r.status_code == 201, r.text
    card = r.json()
    assert card["card_type"] == family and card["status"] == "active"
    assert card["member_no"] == owner["member_no"]
    assert sorted((h["member_no"], h["role"]) for h in card["holders"]) == sorted(
        [(owner["member_no"], "owner"), (a["member_no"], "holder"), (b["member_no"], "holder")]
    )
    held = (await world.call("GET", f"/api/v1/members/{a['member_no']}", clerk)).json()
    assert card["card_no"] in {x["card_no"] for x in held["cards"]}

    r = await world.call(
        "POST",
        f"/api/v1/members/{owner['member_no']}/cards",
        clerk,
        json={"card_type": family, "holders": [a["member_no"], b["member_no"], c["member_no"]]},
    )
    assert_problem(r, 422, "invalid_argument", field="holders")


async def test_personal_card_with_holders_is_422(world, clerk):
    owner, other = await world.register(clerk), await world.register(clerk)
    r = await world.call(
        "POST",
        f"/api/v1/members/{owner['member_no']}/cards",
        clerk,
        json={"card_type": "STANDARD", "holders": [other["member_no"]]},
    )
    assert_problem(r, 422, "invalid_argument", field="holders")
    member = (await world.call("GET", f"/api/v1/members/{owner['member_no']}", clerk)).json()
    assert len(member["cards"]) == 1


async def test_extra_personal_card_and_unknown_type(world, clerk):
    m = await world.register(clerk)
    r = await world.call(
        "POST", f"/api/v1/members/{m['member_no']}/cards", clerk, json={"card_type": "STANDARD"}
    )
    assert r.status_code == 201, r.text
    r = await world.call("POST", f"/api/v1/members/{m['member_no']}/cards", clerk, json={"card_type": "NOPE"})
    assert_problem(r, 422, "invalid_argument", field="card_type")
    member = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert len(member["cards"]) == 2


async def test_card_type_validation(world):
    for body, field in (
        ({"kind": "family", "max_holders": 0}, "max_holders"),
        ({"kind": "personal", "discount_bps": 10000}, "discount_bps"),
        ({"kind": "personal", "joining_fee": -1}, "joining_fee"),
        ({"kind": "loyalty"}, "kind"),
    ):
        r = await world.call(
            "POST", "/api/v1/card-types", world.admin, json={"code": "CTBAD", "name": "bad", **body}
        )
        assert_problem(r, 422, "invalid_argument", field=field)
    r = await world.call("GET", "/api/v1/card-types", world.admin)
    assert "CTBAD" not in {t["code"] for t in r.json()["items"]}


async def test_card_type_narrowed_to_a_region(world, org):
    regional = await new_card_type(world, home_scope=org.r1, discount_bps=500)
    clerk1 = await world.staff("clerk", org.s1)
    clerk2 = await world.staff("clerk", org.s2)
    m1 = await world.register(clerk1)
    m2 = await world.register(clerk2)

    r = await world.call(
        "POST", f"/api/v1/members/{m1['member_no']}/cards", clerk1, json={"card_type": regional}
    )
    assert r.status_code == 201, r.text
    card = r.json()
    assert card["discount_bps"] == 500

    # a member of R2 cannot get it, later or at registration
    r = await world.call(
        "POST", f"/api/v1/members/{m2['member_no']}/cards", world.admin, json={"card_type": regional}
    )
    assert_problem(r, 422, "invalid_argument", field="card_type")
    phone = random_phone()
    r = await world.call(
        "POST", "/api/v1/members", clerk2, json={"name": "区外", "phone": phone, "card_type": regional}
    )
    assert_problem(r, 422, "invalid_argument", field="card_type")
    assert await search(world, world.admin, phone=phone) == []

    # identify works in R1, a store of R2 is refused by the policy
    r = await world.call("POST", "/api/v1/members/identify", clerk1, json={"card_no": card["card_no"]})
    assert r.status_code == 200, r.text
    r = await world.call("POST", "/api/v1/members/identify", clerk2, json={"card_no": card["card_no"]})
    body = assert_problem(r, 403, "forbidden")
    assert regional in body["detail"] and f"HQ/{org.r1}" in body["detail"] and "policy" in body["detail"]
    terminal2 = await world.terminal(org.s2)
    r = await world.call("POST", "/api/v1/members/identify", terminal2, json={"card_no": card["card_no"]})
    assert_problem(r, 403, "forbidden")
    # nor may R2 report it lost; R1 may
    assert_problem(await card_action(world, clerk2, card["card_no"], "report-loss"), 403, "forbidden")
    assert await status_of(world, card["card_no"]) == "active"
    r = await card_action(world, clerk1, card["card_no"], "report-loss")
    assert r.status_code == 200, r.text


async def test_registration_with_a_narrowed_type_outside_its_region_is_422(world, org):
    regional = await new_card_type(world, home_scope=org.s1)
    clerk2 = await world.staff("clerk", org.s2)
    phone = random_phone()
    r = await world.call(
        "POST", "/api/v1/members", clerk2, json={"name": "区外", "phone": phone, "card_type": regional}
    )
    assert_problem(r, 422, "invalid_argument", field="card_type")
    assert await search(world, world.admin, phone=phone) == []
    clerk1 = await world.staff("clerk", org.s1)
    assert (await world.register(clerk1, card_type=regional))["card"]["card_type"] == regional


async def test_replacing_a_family_card_keeps_its_holders(world, clerk):
    family = await new_card_type(world, kind="family", max_holders=2)
    owner, partner = await world.register(clerk), await world.register(clerk)
    r = await world.call(
        "POST",
        f"/api/v1/members/{owner['member_no']}/cards",
        clerk,
        json={"card_type": family, "holders": [partner["member_no"]]},
    )
    assert r.status_code == 201, r.text
    old = r.json()
    await set_card_status(world, old["card_no"], "report-loss")
    r = await world.call("POST", f"/api/v1/cards/{old['card_no']}/replace", clerk)
    assert r.status_code == 201, r.text
    assert r.json()["card_type"] == family

    def pairs(card: dict) -> list[tuple[str, str]]:
        return sorted((h["member_no"], h["role"]) for h in card["holders"])

    assert (
        pairs(r.json())
        == pairs(old)
        == sorted([(owner["member_no"], "owner"), (partner["member_no"], "holder")])
    )


async def test_validity_sets_the_expiry_and_an_expired_card_is_dead(world, clerk):
    yearly = await new_card_type(world, validity_months=12)
    m = await world.register(clerk, card_type=yearly)
    r = await world.call("GET", f"/api/v1/cards/{m['card']['card_no']}", clerk)
    today = datetime.now(CHAIN_TZ).date()
    assert r.json()["expires_on"] == add_months(today, 12).isoformat()
    keeps = await world.register(clerk, card_type=yearly)

    rt = world.service.runtime
    async with rt.db.transaction() as session:
        await session.execute(
            update(cards)
            .where(cards.c.card_no == m["card"]["card_no"])
            .values(expires_on=today - timedelta(days=1))
        )
    await expire_due(world.service.context, SYSTEM)
    assert await status_of(world, m["card"]["card_no"]) == "expired"
    assert await status_of(world, keeps["card"]["card_no"]) == "active"
    for action in ("report-loss", "freeze", "cancel-loss", "unfreeze"):
        assert_problem(
            await card_action(world, clerk, m["card"]["card_no"], action), 409, "invalid_card_state"
        )


async def test_card_type_narrowed_to_an_unknown_unit_is_422(world):
    r = await world.call(
        "POST",
        "/api/v1/card-types",
        world.admin,
        json={"code": "CTNOWHERE", "name": "x", "kind": "personal", "home_scope": "NOWHERE"},
    )
    assert_problem(r, 422, "invalid_argument", field="home_scope")
