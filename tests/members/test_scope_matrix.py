"""Scope rules of the member archive as a matrix (docs/design.md §5, §7.5):
role × endpoint × {member in the caller's scope, member outside it}, each case against an
explicit expected status.

Org: HQ/R1/S1 and HQ/R2/S2. M1 lives at S1 (in scope for the R1/S1 principals), M2 at S2
(out of scope for them; HQ and the HQ auditor see both). Cases that change state work on a
fresh member from a factory, so every case is independent of the others."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.members.domain import mask_name
from tests.members.helpers import Org, national, rand_name, random_phone, two_regions

pytestmark = pytest.mark.integration

ROLES = ("hq", "rm1", "sm1", "clerk1", "term1", "auditor", "dist")
SCOPED = ("rm1", "sm1", "clerk1", "term1")  # the principals for whom M2 is out of scope


@dataclass
class Matrix:
    org: Org
    tokens: dict[str, str]
    m1: dict
    m2: dict


@pytest.fixture(scope="module")
async def matrix(world) -> Matrix:
    org = await two_regions(world)
    tokens = {
        "hq": await world.staff("hq_admin", "HQ"),
        "rm1": await world.staff("region_manager", org.r1),
        "sm1": await world.staff("store_manager", org.s1),
        "clerk1": await world.staff("clerk", org.s1),
        "term1": await world.terminal(org.s1),
        "auditor": await world.staff("auditor", "HQ"),
        "dist": await world.staff("distributor", org.s1, price_level="A"),
    }
    m1 = await world.register(world.admin, name="张三丰", home_store=org.s1, email="m1@example.com")
    m2 = await world.register(world.admin, name="李四光", home_store=org.s2, email="m2@example.com")
    return Matrix(org, tokens, m1, m2)


# --- the endpoints ------------------------------------------------------------------------------
Op = Callable[[Any, Matrix, str, dict], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Endpoint:
    call: Op
    fresh: bool = False  # works on a new member (it changes state)
    prepare: tuple[str, ...] = ()  # card actions done as HQ before the case


def member(path: str = "") -> Callable[[dict], str]:
    return lambda m: f"/api/v1/members/{m['member_no']}{path}"


async def op_register(w, mx: Matrix, token: str, m: dict) -> httpx.Response:
    store = m["home_store"]  # the target only says where: a new member at the same store
    return await w.call(
        "POST",
        "/api/v1/members",
        token,
        json={"name": "新会员", "phone": random_phone(), "home_store": store},
    )


async def op_get(w, mx, token, m):
    return await w.call("GET", member()(m), token)


async def op_list(w, mx, token, m):
    return await w.call("GET", "/api/v1/members", token, params={"q": m["member_no"]})


async def op_patch(w, mx, token, m):
    return await w.call("PATCH", member()(m), token, json={"tags": ["matrix"]})


async def op_delete(w, mx, token, m):
    return await w.call("DELETE", member()(m), token)


async def op_identify_card(w, mx, token, m):
    return await w.call("POST", "/api/v1/members/identify", token, json={"card_no": m["card"]["card_no"]})


async def op_identify_phone(w, mx, token, m):
    return await w.call("POST", "/api/v1/members/identify", token, json={"phone": national(m["phone"])})


async def op_get_card(w, mx, token, m):
    return await w.call("GET", f"/api/v1/cards/{m['card']['card_no']}", token)


def op_card(action: str) -> Op:
    async def call(w, mx, token, m):  # type: ignore[no-untyped-def]
        return await w.call("POST", f"/api/v1/cards/{m['card']['card_no']}/{action}", token)

    return call


async def op_issue_card(w, mx, token, m):
    return await w.call("POST", member("/cards")(m), token, json={"card_type": "STANDARD"})


async def op_visit_add(w, mx, token, m):
    return await w.call("POST", member("/visits")(m), token, json={"channel": "phone", "outcome": "ok"})


async def op_visit_list(w, mx, token, m):
    return await w.call("GET", member("/visits")(m), token)


async def op_feedback_add(w, mx, token, m):
    return await w.call("POST", member("/feedback")(m), token, json={"kind": "praise", "content": "好"})


async def op_feedback_list(w, mx, token, m):
    return await w.call("GET", member("/feedback")(m), token)


async def op_feedback_handle(w, mx, token, m):
    r = await w.call("POST", member("/feedback")(m), w.admin, json={"kind": "complaint", "content": "慢"})
    assert r.status_code == 201, r.text
    return await w.call("POST", member(f"/feedback/{r.json()['id']}/handle")(m), token, json={})


ENDPOINTS: dict[str, Endpoint] = {
    "register": Endpoint(op_register),
    "get": Endpoint(op_get),
    "list": Endpoint(op_list),
    "patch": Endpoint(op_patch),
    "delete": Endpoint(op_delete, fresh=True),
    "identify_card": Endpoint(op_identify_card),
    "identify_phone": Endpoint(op_identify_phone),
    "get_card": Endpoint(op_get_card),
    "report_loss": Endpoint(op_card("report-loss"), fresh=True),
    "cancel_loss": Endpoint(op_card("cancel-loss"), fresh=True, prepare=("report-loss",)),
    "freeze": Endpoint(op_card("freeze"), fresh=True),
    "unfreeze": Endpoint(op_card("unfreeze"), fresh=True, prepare=("freeze",)),
    "replace": Endpoint(op_card("replace"), fresh=True, prepare=("freeze",)),
    "issue_card": Endpoint(op_issue_card, fresh=True),
    "visit_add": Endpoint(op_visit_add),
    "visit_list": Endpoint(op_visit_list),
    "feedback_add": Endpoint(op_feedback_add),
    "feedback_list": Endpoint(op_feedback_list),
    "feedback_handle": Endpoint(op_feedback_handle),
}

# endpoint -> role -> (member in scope, member out of scope). For "list": whether the member
# is among the results ("found"/"absent") or the status. HQ and the auditor (scope HQ) have
# no member out of scope: their "out" column is M2 seen from HQ.
F, A = "found", "absent"
_COUNTER_HOME = {"hq": (200, 200), "rm1": (200, 403), "sm1": (200, 403), "clerk1": (200, 403), "term1": (200, 403), "auditor": (403, 403), "dist": (403, 403)}  # fmt: skip
EXPECTED: dict[str, dict[str, tuple[Any, Any]]] = {
    "register":        {"hq": (201, 201), "rm1": (201, 422), "sm1": (201, 422), "clerk1": (201, 422), "term1": (201, 422), "auditor": (403, 403), "dist": (403, 403)},
    "get":             {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (200, 404), "term1": (200, 404), "auditor": (200, 200), "dist": (403, 403)},
    "list":            {"hq": (F, F),     "rm1": (F, A),     "sm1": (F, A),     "clerk1": (F, A),     "term1": (F, A),     "auditor": (F, F),     "dist": (403, 403)},
    "patch":           {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (200, 404), "term1": (200, 404), "auditor": (403, 403), "dist": (403, 403)},
    "delete":          {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (403, 403), "term1": (403, 403), "auditor": (403, 403), "dist": (403, 403)},
    # 通存通兑: any store of the chain identifies a card and reports it lost
    "identify_card":   {"hq": (200, 200), "rm1": (200, 200), "sm1": (200, 200), "clerk1": (200, 200), "term1": (200, 200), "auditor": (403, 403), "dist": (403, 403)},
    "identify_phone":  {"hq": (200, 200), "rm1": (200, 200), "sm1": (200, 200), "clerk1": (200, 200), "term1": (200, 200), "auditor": (403, 403), "dist": (403, 403)},
    "get_card":        {"hq": (200, 200), "rm1": (200, 200), "sm1": (200, 200), "clerk1": (200, 200), "term1": (200, 200), "auditor": (200, 200), "dist": (403, 403)},
    "report_loss":     {"hq": (200, 200), "rm1": (200, 200), "sm1": (200, 200), "clerk1": (200, 200), "term1": (200, 200), "auditor": (403, 403), "dist": (403, 403)},
    # the rest of the card operations stay with the member's home scope and HQ
    "cancel_loss":     _COUNTER_HOME,
    "freeze":          _COUNTER_HOME,
    "unfreeze":        _COUNTER_HOME,
    "replace":         {"hq": (201, 201), "rm1": (201, 403), "sm1": (201, 403), "clerk1": (201, 403), "term1": (201, 403), "auditor": (403, 403), "dist": (403, 403)},
    "issue_card":      {"hq": (201, 201), "rm1": (201, 404), "sm1": (201, 404), "clerk1": (201, 404), "term1": (201, 404), "auditor": (403, 403), "dist": (403, 403)},
    "visit_add":       {"hq": (201, 201), "rm1": (201, 404), "sm1": (201, 404), "clerk1": (201, 404), "term1": (201, 404), "auditor": (403, 403), "dist": (403, 403)},
    "visit_list":      {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (200, 404), "term1": (200, 404), "auditor": (200, 200), "dist": (403, 403)},
    "feedback_add":    {"hq": (201, 201), "rm1": (201, 404), "sm1": (201, 404), "clerk1": (201, 404), "term1": (201, 404), "auditor": (403, 403), "dist": (403, 403)},
    "feedback_list":   {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (200, 404), "term1": (200, 404), "auditor": (200, 200), "dist": (403, 403)},
    "feedback_handle": {"hq": (200, 200), "rm1": (200, 404), "sm1": (200, 404), "clerk1": (403, 403), "term1": (403, 403), "auditor": (403, 403), "dist": (403, 403)},
}  # fmt: skip

CODES = {403: "forbidden", 404: "not_found", 422: "invalid_argument"}


def test_the_table_covers_every_endpoint_and_role():
    assert set(EXPECTED) == set(ENDPOINTS)
    for endpoint, row in EXPECTED.items():
        assert set(row) == set(ROLES), endpoint


CASES = [
    pytest.param(endpoint, role, where, id=f"{endpoint}-{role}-{where}")
    for endpoint in ENDPOINTS
    for role in ROLES
    for where in ("in", "out")
]


async def target(world, mx: Matrix, endpoint: Endpoint, where: str) -> dict:
    home = mx.org.s1 if where == "in" else mx.org.s2
    if not endpoint.fresh:
        return mx.m1 if where == "in" else mx.m2
    m = await world.register(world.admin, name=rand_name("矩阵"), home_store=home)
    for action in endpoint.prepare:
        r = await world.call("POST", f"/api/v1/cards/{m['card']['card_no']}/{action}", world.admin)
        assert r.status_code == 200, r.text
    return m


@pytest.mark.parametrize(("endpoint", "role", "where"), CASES)
async def test_scope_matrix(world, matrix, endpoint, role, where):
    ep = ENDPOINTS[endpoint]
    expected = EXPECTED[endpoint][role][0 if where == "in" else 1]
    m = await target(world, matrix, ep, where)
    r = await ep.call(world, matrix, matrix.tokens[role], m)
    if expected in (F, A):
        assert r.status_code == 200, r.text
        found = m["member_no"] in {x["member_no"] for x in r.json()["items"]}
        assert found == (expected == F), f"{role} listing {m['member_no']} ({where}): {r.json()['items']}"
        return
    assert r.status_code == expected, f"{endpoint} as {role} on a member {where} of scope: {r.text}"
    if expected >= 400:
        assert r.json()["code"] == CODES[expected], r.text
    if endpoint.startswith("identify") and expected == 200:
        assert_masked_identify(r.json(), m)
    await assert_effect(world, endpoint, m, r)


def assert_masked_identify(body: dict, m: dict) -> None:
    assert body["member_no"] == m["member_no"]
    assert body["display_name"] == mask_name(m["name"]) != m["name"]
    phone = national(m["phone"])
    assert body["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert body["card"]["card_no"] == m["card"]["card_no"]
    for key in ("name", "email", "address", "id_number", "birthday"):
        assert key not in body, f"identify leaks {key}: {body}"
    assert set(body) >= {"member_no", "display_name", "tier", "card", "balance", "points", "coupons"}


async def assert_effect(world, endpoint: str, m: dict, r: httpx.Response) -> None:
    """A refused state change changed nothing; an allowed one took effect."""
    card_status = {
        "report_loss": ("lost", "active"),
        "cancel_loss": ("active", "lost"),
        "freeze": ("frozen", "active"),
        "unfreeze": ("active", "frozen"),
        "replace": ("replaced", "frozen"),
    }
    if endpoint in card_status:
        done, untouched = card_status[endpoint]
        got = await world.call("GET", f"/api/v1/cards/{m['card']['card_no']}", world.admin)
        assert got.json()["status"] == (done if r.status_code < 300 else untouched)
    elif endpoint == "delete":
        got = await world.call("GET", f"/api/v1/members/{m['member_no']}", world.admin)
        assert got.json()["status"] == ("anonymized" if r.status_code < 300 else "active")
    elif endpoint == "issue_card":
        got = await world.call("GET", f"/api/v1/members/{m['member_no']}", world.admin)
        assert len(got.json()["cards"]) == (2 if r.status_code < 300 else 1)


# --- what each role sees ----------------------------------------------------------------------
PHONE_VISIBLE = {"hq": True, "rm1": True, "sm1": True, "clerk1": True, "term1": False, "auditor": False}


@pytest.mark.parametrize(("role", "full"), PHONE_VISIBLE.items())
async def test_pii_is_shown_only_to_staff_of_the_members_scope(world, matrix, role, full):
    m1 = matrix.m1
    for r in (
        await world.call("GET", f"/api/v1/members/{m1['member_no']}", matrix.tokens[role]),
        await world.call("GET", "/api/v1/members", matrix.tokens[role], params={"q": m1["member_no"]}),
    ):
        assert r.status_code == 200, r.text
        got = r.json()["items"][0] if "items" in r.json() else r.json()
        assert got["member_no"] == m1["member_no"]
        phone = national(m1["phone"])
        if full:
            assert got["phone"] == m1["phone"]
            assert got["email"] == "m1@example.com"
            assert got["pii_masked"] is False
        else:
            assert got["phone"] == f"{phone[:3]}****{phone[-4:]}"
            assert got["email"] == "m***@example.com"
            assert got["pii_masked"] is True


@pytest.mark.parametrize("role", SCOPED)
async def test_filters_never_reach_an_out_of_scope_member(world, matrix, role):
    token, m2 = matrix.tokens[role], matrix.m2
    for params in ({"phone": m2["phone"]}, {"q": m2["member_no"]}, {"q": m2["name"]}, {"tag": "matrix"}):
        r = await world.call("GET", "/api/v1/members", token, params={**params, "limit": 500})
        assert r.status_code == 200, r.text
        assert m2["member_no"] not in {x["member_no"] for x in r.json()["items"]}, params
    r = await world.call("GET", "/api/v1/members", token, params={"store": matrix.org.s2})
    assert r.status_code == 422, r.text
    assert "items" not in r.json()


async def test_distributor_is_refused_every_members_endpoint(world, matrix):
    token, m1 = matrix.tokens["dist"], matrix.m1
    calls = [
        ("GET", "/api/v1/members", None),
        ("GET", "/api/v1/members/custom-fields", None),
        ("GET", "/api/v1/card-types", None),
        ("GET", "/api/v1/members/export.xlsx", None),
        ("POST", "/api/v1/members", {"name": "x", "phone": random_phone(), "home_store": matrix.org.s1}),
        ("POST", "/api/v1/members/identify", {"phone": m1["phone"]}),
        ("GET", f"/api/v1/members/{m1['member_no']}", None),
        ("GET", f"/api/v1/cards/{m1['card']['card_no']}", None),
    ]
    for method, path, body in calls:
        r = await world.call(method, path, token, json=body)
        assert r.status_code == 403, f"{method} {path}: {r.status_code} {r.text}"
        assert r.json()["code"] == "forbidden"


async def test_a_region_does_not_reach_a_sibling_whose_code_extends_its_own(world, matrix):
    """HQ/R1 is not a prefix scope of HQ/R10: scope ends at a path separator."""
    sibling = matrix.org.r1 + "0"
    for code, kind, parent in ((sibling, "region", "HQ"), (sibling + "S", "store", sibling)):
        r = await world.call(
            "POST",
            "/api/v1/org-units",
            world.admin,
            json={"code": code, "name": code, "kind": kind, "parent": parent},
        )
        assert r.status_code == 201, r.text
    m = await world.register(world.admin, home_store=sibling + "S")
    token = matrix.tokens["rm1"]
    assert (await world.call("GET", f"/api/v1/members/{m['member_no']}", token)).status_code == 404
    r = await world.call("GET", "/api/v1/members", token, params={"q": m["member_no"]})
    assert r.json()["items"] == []
    r = await world.call("POST", f"/api/v1/cards/{m['card']['card_no']}/freeze", token)
    assert r.status_code == 403, r.text
