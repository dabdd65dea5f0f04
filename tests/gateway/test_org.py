"""The org tree: HQ -> regions (nested) -> stores, codes, paths, scope, paging."""

import pytest

from tests.gateway.helpers import assert_problem, rand_code

pytestmark = pytest.mark.integration

UNITS = "/api/v1/org-units"


def _body(code: str, parent: str, kind: str = "store", name: str = "A unit") -> dict:
    return {"code": code, "name": name, "kind": kind, "parent": parent}


async def _all(gateway, token: str, **params) -> list[dict]:
    """Every unit the caller sees, walking the pages."""
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        query = {"limit": 500, **params, **({"cursor": cursor} if cursor else {})}
        r = await gateway.call("GET", UNITS, token, params=query)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


async def _absent(gateway, code: str) -> None:
    r = await gateway.call("GET", f"{UNITS}/{code}", gateway.admin)
    assert_problem(r, 404, "not_found")


# --- creating ----------------------------------------------------------------------------------
async def test_region_nested_region_and_store_get_materialized_paths(gateway):
    region, nested, store = rand_code("R"), rand_code("N"), rand_code("S")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(region, "HQ", "region", "East"))
    assert r.status_code == 201, r.text
    assert r.json() == {
        "code": region,
        "name": "East",
        "kind": "region",
        "parent": "HQ",
        "path": f"HQ/{region}",
        "active": True,
    }
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(nested, region, "region"))
    assert r.status_code == 201, r.text
    assert r.json()["path"] == f"HQ/{region}/{nested}"
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(store, nested))
    assert r.status_code == 201, r.text
    assert r.json()["path"] == f"HQ/{region}/{nested}/{store}"
    assert r.json()["kind"] == "store" and r.json()["parent"] == nested
    got = await gateway.call("GET", f"{UNITS}/{store}", gateway.admin)
    assert got.status_code == 200 and got.json()["path"] == f"HQ/{region}/{nested}/{store}"


async def test_store_directly_under_region_has_path_hq_region_store(gateway):
    region = await gateway.unit("region", "HQ")
    code = rand_code("S")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, region["code"]))
    assert r.status_code == 201
    assert r.json()["path"] == f"HQ/{region['code']}/{code}"


@pytest.mark.parametrize(
    "code",
    ["A", "ab" + rand_code("")[:6].lower(), "X" * 33, "A B" + rand_code("")[:4], "É" + rand_code("")[:4], ""],
    ids=["one-char", "lower-case", "33-chars", "space", "non-ascii", "empty"],
)
async def test_invalid_code_is_rejected_and_nothing_is_created(gateway, code):
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, "HQ", "region"))
    assert_problem(r, 422, "invalid_argument", field="code")
    if code:
        await _absent(gateway, code)


async def test_unknown_parent_is_rejected(gateway):
    code = rand_code("S")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, rand_code("NOPE")))
    assert_problem(r, 422, "invalid_argument", field="parent")
    await _absent(gateway, code)


async def test_store_cannot_be_a_parent(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    code = rand_code("S")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, store["code"]))
    assert_problem(r, 422, "invalid_argument", field="parent")
    await _absent(gateway, code)


async def test_unknown_kind_is_rejected(gateway):
    code = rand_code("K")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, "HQ", "hq"))
    assert_problem(r, 422, "invalid_argument", field="kind")
    await _absent(gateway, code)


async def test_duplicate_code_is_a_conflict_and_keeps_the_original(gateway):
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    r = await gateway.call(
        "POST", UNITS, gateway.admin, json=_body(region["code"], other["code"], "region", "Impostor")
    )
    assert_problem(r, 409, "conflict")
    got = (await gateway.call("GET", f"{UNITS}/{region['code']}", gateway.admin)).json()
    assert got["name"] == region["name"] and got["parent"] == "HQ"


async def test_hq_code_cannot_be_taken_again(gateway):
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body("HQ", "HQ", "region"))
    assert_problem(r, 409, "conflict")


async def test_malformed_json_is_400(gateway):
    r = await gateway.call(
        "POST",
        UNITS,
        gateway.admin,
        content=b'{"code": "AB", "name": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 400, "invalid_argument")


async def test_missing_fields_list_each_error(gateway):
    r = await gateway.call("POST", UNITS, gateway.admin, json={"name": "No code"})
    body = assert_problem(r, 422, "invalid_argument")
    fields = {e["field"] for e in body["errors"]}
    assert {"code", "kind", "parent"} <= fields, body
    assert all(e["message"] for e in body["errors"])


async def test_unknown_field_is_rejected(gateway):
    code = rand_code("R")
    r = await gateway.call("POST", UNITS, gateway.admin, json={**_body(code, "HQ", "region"), "path": "HQ/X"})
    assert_problem(r, 422, "invalid_argument")
    await _absent(gateway, code)


async def test_rejected_requests_leave_the_subtree_unchanged(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, manager = await gateway.user("region_manager", region["code"])
    before = await _all(gateway, manager)
    rejected = [
        _body("a", region["code"]),
        _body(rand_code("S").lower(), region["code"]),
        _body(rand_code("S"), store["code"]),
        _body(store["code"], region["code"]),
        _body(rand_code("S"), region["code"], "planet"),
    ]
    for body in rejected:
        r = await gateway.call("POST", UNITS, manager, json=body)
        assert 400 <= r.status_code < 500, r.text
    assert await _all(gateway, manager) == before


async def test_inactive_parent_takes_no_new_units(gateway):
    region = await gateway.unit("region", "HQ")
    r = await gateway.call("PATCH", f"{UNITS}/{region['code']}", gateway.admin, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    code = rand_code("S")
    r = await gateway.call("POST", UNITS, gateway.admin, json=_body(code, region["code"]))
    assert_problem(r, 422, "invalid_argument", field="parent")
    await _absent(gateway, code)


# --- scope -------------------------------------------------------------------------------------
async def test_region_manager_sees_only_its_subtree(gateway):
    region = await gateway.unit("region", "HQ")
    nested = await gateway.unit("region", region["code"])
    store = await gateway.unit("store", nested["code"])
    # a sibling whose code starts with this region's code: a prefix is not a subtree
    sibling = await gateway.unit("region", "HQ", code=region["code"] + "X")
    sibling_store = await gateway.unit("store", sibling["code"])
    _, manager = await gateway.user("region_manager", region["code"])
    seen = {u["code"] for u in await _all(gateway, manager)}
    assert seen == {region["code"], nested["code"], store["code"]}
    assert sibling["code"] not in seen and sibling_store["code"] not in seen and "HQ" not in seen


async def test_store_staff_see_only_their_store(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    await gateway.unit("store", region["code"])
    _, clerk = await gateway.user("clerk", store["code"])
    assert [u["code"] for u in await _all(gateway, clerk)] == [store["code"]]


async def test_unit_outside_scope_is_not_found(gateway):
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    other_store = await gateway.unit("store", other["code"])
    _, manager = await gateway.user("region_manager", region["code"])
    for code in (other["code"], other_store["code"], "HQ"):
        assert_problem(await gateway.call("GET", f"{UNITS}/{code}", manager), 404, "not_found")
    # the same answer as for a code that does not exist at all
    assert_problem(await gateway.call("GET", f"{UNITS}/{rand_code('NOPE')}", manager), 404, "not_found")


async def test_region_manager_creates_units_under_its_region_only(gateway):
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    _, manager = await gateway.user("region_manager", region["code"])
    store, nested = rand_code("S"), rand_code("N")
    r = await gateway.call("POST", UNITS, manager, json=_body(store, region["code"]))
    assert r.status_code == 201 and r.json()["path"] == f"{region['path']}/{store}"
    r = await gateway.call("POST", UNITS, manager, json=_body(nested, region["code"], "region"))
    assert r.status_code == 201 and r.json()["path"] == f"{region['path']}/{nested}"
    outside = rand_code("S")
    r = await gateway.call("POST", UNITS, manager, json=_body(outside, other["code"]))
    assert_problem(r, 422, "invalid_argument", field="parent")
    r = await gateway.call("POST", UNITS, manager, json=_body(outside, "HQ", "region"))
    assert_problem(r, 422, "invalid_argument", field="parent")
    await _absent(gateway, outside)


@pytest.mark.parametrize("role", ["store_manager", "clerk"])
async def test_store_staff_cannot_create_units(gateway, role):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, token = await gateway.user(role, store["code"])
    code = rand_code("S")
    r = await gateway.call("POST", UNITS, token, json=_body(code, region["code"]))
    assert_problem(r, 403, "forbidden")
    await _absent(gateway, code)


# --- changing ----------------------------------------------------------------------------------
async def test_patch_name_is_saved_and_audited(gateway):
    region = await gateway.unit("region", "HQ")
    r = await gateway.call("PATCH", f"{UNITS}/{region['code']}", gateway.admin, json={"name": "West Coast"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "West Coast" and r.json()["path"] == region["path"]
    got = await gateway.call("GET", f"{UNITS}/{region['code']}", gateway.admin)
    assert got.json()["name"] == "West Coast"
    entries = await gateway.audit(action="org_unit.update", target_id=region["code"])
    assert len(entries) == 1
    assert entries[0]["actor"] == "admin" and entries[0]["detail"] == {"name": "West Coast"}
    assert entries[0]["request_id"] == r.headers["X-Request-Id"]


async def test_hq_cannot_be_deactivated(gateway):
    r = await gateway.call("PATCH", f"{UNITS}/HQ", gateway.admin, json={"active": False})
    assert_problem(r, 422, "invalid_argument", field="active")
    assert (await gateway.call("GET", f"{UNITS}/HQ", gateway.admin)).json()["active"] is True


async def test_empty_patch_is_rejected(gateway):
    region = await gateway.unit("region", "HQ")
    r = await gateway.call("PATCH", f"{UNITS}/{region['code']}", gateway.admin, json={})
    assert_problem(r, 422, "invalid_argument")


async def test_region_manager_cannot_change_its_own_unit_but_can_change_below(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, manager = await gateway.user("region_manager", region["code"])
    r = await gateway.call("PATCH", f"{UNITS}/{region['code']}", manager, json={"name": "Mine now"})
    assert_problem(r, 403, "forbidden")
    assert (await gateway.call("GET", f"{UNITS}/{region['code']}", gateway.admin)).json()["name"] == region[
        "name"
    ]
    r = await gateway.call("PATCH", f"{UNITS}/{store['code']}", manager, json={"name": "Flagship"})
    assert r.status_code == 200 and r.json()["name"] == "Flagship"


async def test_patch_outside_scope_is_not_found_and_changes_nothing(gateway):
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    _, manager = await gateway.user("region_manager", region["code"])
    r = await gateway.call("PATCH", f"{UNITS}/{other['code']}", manager, json={"name": "Taken"})
    assert_problem(r, 404, "not_found")
    assert (await gateway.call("GET", f"{UNITS}/{other['code']}", gateway.admin)).json()["name"] == other[
        "name"
    ]


# --- paging ------------------------------------------------------------------------------------
async def test_paging_with_limit_one_walks_every_unit_once(gateway):
    region = await gateway.unit("region", "HQ")
    stores = [await gateway.unit("store", region["code"]) for _ in range(3)]
    _, manager = await gateway.user("region_manager", region["code"])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        r = await gateway.call("GET", UNITS, manager, params=params)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 1
        seen += [u["code"] for u in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert cursor is None, "paging did not end"
    assert sorted(seen) == sorted([region["code"], *(s["code"] for s in stores)])
    assert len(seen) == len(set(seen))


async def test_kind_filter(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, manager = await gateway.user("region_manager", region["code"])
    r = await gateway.call("GET", UNITS, manager, params={"kind": "store"})
    assert [u["code"] for u in r.json()["items"]] == [store["code"]]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"cursor": "!!not-a-cursor!!"}])
async def test_bad_paging_parameters_are_invalid_argument(gateway, params):
    r = await gateway.call("GET", UNITS, gateway.admin, params=params)
    assert_problem(r, 422, "invalid_argument")
