"""Staff users (the role ladder, scope, disable, password reset) and store terminals."""

from dataclasses import dataclass

import pytest

from tests.gateway.helpers import PASSWORD, assert_problem, rand_name

pytestmark = pytest.mark.integration

USERS = "/api/v1/users"
TERMINALS = "/api/v1/terminals"


@dataclass
class Tree:
    """HQ -> region (with a store) and another region (with a store)."""

    region: dict
    store: dict
    other_region: dict
    other_store: dict


@pytest.fixture
async def tree(gateway) -> Tree:
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    return Tree(
        region, await gateway.unit("store", region["code"]), other, await gateway.unit("store", other["code"])
    )


def _user(role: str, org_unit: str, **extra) -> dict:
    return {"username": rand_name(role), "password": PASSWORD, "role": role, "org_unit": org_unit, **extra}


async def _absent(gateway, username: str) -> None:
    assert_problem(await gateway.call("GET", f"{USERS}/{username}", gateway.admin), 404, "not_found")


async def _all_users(gateway, token: str) -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        r = await gateway.call(
            "GET", USERS, token, params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if (cursor := r.json()["next_cursor"]) is None:
            return items
    raise AssertionError("paging did not end")


# --- the role ladder ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "where"),
    [
        ("hq_admin", "hq"),
        ("region_manager", "region"),
        ("store_manager", "store"),
        ("clerk", "store"),
        ("auditor", "hq"),
        ("auditor", "region"),
        ("distributor", "store"),
    ],
)
async def test_hq_admin_creates_any_role(gateway, tree, role, where):
    unit = {"hq": {"code": "HQ", "path": "HQ"}, "region": tree.region, "store": tree.store}[where]
    extra = {"price_level": "A"} if role == "distributor" else {}
    body = _user(role, unit["code"], **extra)
    r = await gateway.call("POST", USERS, gateway.admin, json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["username"], got["role"], got["org_unit"], got["scope"]) == (
        body["username"],
        role,
        unit["code"],
        unit["path"],
    )
    assert "password" not in got and "password_hash" not in got
    # and the new user can log in
    assert (await gateway.login(body["username"], PASSWORD)).status_code == 200


@pytest.mark.parametrize("role", ["store_manager", "clerk"])
async def test_region_manager_creates_store_staff_in_its_region(gateway, tree, role):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call("POST", USERS, manager, json=_user(role, tree.store["code"]))
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == tree.store["path"]


async def test_region_manager_creates_a_distributor_in_its_region(gateway, tree):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call(
        "POST", USERS, manager, json=_user("distributor", tree.region["code"], price_level="B")
    )
    assert r.status_code == 201, r.text
    assert r.json()["price_level"] == "B"


@pytest.mark.parametrize("org_unit", ["region", "hq"])
async def test_region_manager_cannot_create_an_hq_admin(gateway, tree, org_unit):
    # The role is above the caller's: 403, whatever unit the body names.
    _, manager = await gateway.user("region_manager", tree.region["code"])
    body = _user("hq_admin", tree.region["code"] if org_unit == "region" else "HQ")
    r = await gateway.call("POST", USERS, manager, json=body)
    assert_problem(r, 403, "forbidden")
    await _absent(gateway, body["username"])


async def test_region_manager_cannot_create_an_auditor(gateway, tree):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    body = _user("auditor", tree.region["code"])
    assert_problem(await gateway.call("POST", USERS, manager, json=body), 403, "forbidden")
    await _absent(gateway, body["username"])


async def test_region_manager_cannot_create_users_outside_its_region(gateway, tree):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    body = _user("clerk", tree.other_store["code"])
    r = await gateway.call("POST", USERS, manager, json=body)
    assert_problem(r, 422, "invalid_argument", field="org_unit")
    await _absent(gateway, body["username"])


async def test_store_manager_creates_a_clerk_in_its_store(gateway, tree):
    _, manager = await gateway.user("store_manager", tree.store["code"])
    r = await gateway.call("POST", USERS, manager, json=_user("clerk", tree.store["code"]))
    assert r.status_code == 201, r.text


async def test_store_manager_cannot_create_a_region_manager(gateway, tree):
    _, manager = await gateway.user("store_manager", tree.store["code"])
    body = _user("region_manager", tree.store["code"])
    assert_problem(await gateway.call("POST", USERS, manager, json=body), 403, "forbidden")
    await _absent(gateway, body["username"])


async def test_store_manager_cannot_create_a_distributor(gateway, tree):
    _, manager = await gateway.user("store_manager", tree.store["code"])
    body = _user("distributor", tree.store["code"], price_level="A")
    assert_problem(await gateway.call("POST", USERS, manager, json=body), 403, "forbidden")
    await _absent(gateway, body["username"])


async def test_store_manager_cannot_create_a_clerk_in_another_store(gateway, tree):
    _, manager = await gateway.user("store_manager", tree.store["code"])
    sibling = await gateway.unit("store", tree.region["code"])
    body = _user("clerk", sibling["code"])
    assert_problem(
        await gateway.call("POST", USERS, manager, json=body), 422, "invalid_argument", field="org_unit"
    )
    await _absent(gateway, body["username"])


# --- rules of a user ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "where", "extra", "field"),
    [
        ("distributor", "region", {}, "price_level"),
        ("distributor", "region", {"price_level": "a"}, "price_level"),
        ("clerk", "store", {"price_level": "A"}, "price_level"),
        ("clerk", "region", {}, "org_unit"),
        ("store_manager", "region", {}, "org_unit"),
        ("region_manager", "store", {}, "org_unit"),
        ("hq_admin", "region", {}, "org_unit"),
        ("auditor", "store", {}, "org_unit"),
        ("superuser", "store", {}, "role"),
        ("service", "store", {}, "role"),
        ("terminal", "store", {}, "role"),
        ("clerk", "store", {"password": "short"}, "password"),
        ("clerk", "store", {"username": "a b"}, "username"),
        ("clerk", "store", {"username": "ab"}, "username"),
    ],
    ids=[
        "distributor-without-level",
        "distributor-lowercase-level",
        "clerk-with-level",
        "clerk-on-region",
        "store-manager-on-region",
        "region-manager-on-store",
        "hq-admin-on-region",
        "auditor-on-store",
        "unknown-role",
        "service-role",
        "terminal-role",
        "short-password",
        "username-with-space",
        "short-username",
    ],
)
async def test_invalid_user_is_rejected_and_not_created(gateway, tree, role, where, extra, field):
    unit = {"region": tree.region, "store": tree.store}[where]
    body = _user(role, unit["code"], **extra)
    r = await gateway.call("POST", USERS, gateway.admin, json=body)
    assert_problem(r, 422, "invalid_argument", field=field)
    await _absent(gateway, body["username"])


async def test_unknown_org_unit_is_rejected(gateway):
    body = _user("clerk", "NOPE" + rand_name("x").upper()[-8:])
    assert_problem(
        await gateway.call("POST", USERS, gateway.admin, json=body), 422, "invalid_argument", field="org_unit"
    )


async def test_duplicate_username_is_a_conflict(gateway, tree):
    body = _user("clerk", tree.store["code"])
    assert (await gateway.call("POST", USERS, gateway.admin, json=body)).status_code == 201
    again = {**body, "org_unit": tree.other_store["code"], "password": "another-pass"}
    assert_problem(await gateway.call("POST", USERS, gateway.admin, json=again), 409, "conflict")
    got = (await gateway.call("GET", f"{USERS}/{body['username']}", gateway.admin)).json()
    assert got["org_unit"] == tree.store["code"]
    assert (await gateway.login(body["username"], PASSWORD)).status_code == 200


# --- reading -----------------------------------------------------------------------------------
async def test_auditor_reads_users_but_cannot_create_them(gateway, tree):
    _, auditor = await gateway.user("auditor", "HQ")
    assert (await gateway.call("GET", USERS, auditor)).status_code == 200
    body = _user("clerk", tree.store["code"])
    assert_problem(await gateway.call("POST", USERS, auditor, json=body), 403, "forbidden")
    await _absent(gateway, body["username"])


async def test_user_list_is_scoped_to_the_callers_subtree(gateway, tree):
    mine, _ = await gateway.user("clerk", tree.store["code"])
    theirs, _ = await gateway.user("clerk", tree.other_store["code"])
    manager_name, manager = await gateway.user("region_manager", tree.region["code"])
    seen = {u["username"]: u for u in await _all_users(gateway, manager)}
    assert mine in seen and manager_name in seen
    assert theirs not in seen and "admin" not in seen
    assert all(u["scope"].startswith(tree.region["path"]) for u in seen.values())
    assert_problem(await gateway.call("GET", f"{USERS}/{theirs}", manager), 404, "not_found")
    assert (await gateway.call("GET", f"{USERS}/{mine}", manager)).json()["org_unit"] == tree.store["code"]


async def test_role_filter(gateway, tree):
    await gateway.user("clerk", tree.store["code"])
    manager_name, manager = await gateway.user("store_manager", tree.store["code"])
    r = await gateway.call("GET", USERS, manager, params={"role": "store_manager"})
    assert [u["username"] for u in r.json()["items"]] == [manager_name]


@pytest.mark.parametrize("role", ["clerk", "distributor"])
async def test_non_managers_cannot_read_users(gateway, tree, role):
    extra = ("A",) if role == "distributor" else ()
    _, token = await gateway.user(role, tree.store["code"], *extra)
    assert_problem(await gateway.call("GET", USERS, token), 403, "forbidden")


# --- changing ----------------------------------------------------------------------------------
async def test_disabled_user_shows_inactive_and_cannot_log_in(gateway, tree):
    username, _ = await gateway.user("clerk", tree.store["code"])
    _, manager = await gateway.user("store_manager", tree.store["code"])
    r = await gateway.call("PATCH", f"{USERS}/{username}", manager, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await gateway.call("GET", f"{USERS}/{username}", manager)).json()["active"] is False
    assert_problem(await gateway.login(username, PASSWORD), 401, "invalid_credentials")
    r = await gateway.call("PATCH", f"{USERS}/{username}", manager, json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    assert (await gateway.login(username, PASSWORD)).status_code == 200


async def test_password_reset_replaces_the_password(gateway, tree):
    username, _ = await gateway.user("clerk", tree.store["code"])
    _, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call("PATCH", f"{USERS}/{username}", manager, json={"password": "brand-new-pass"})
    assert r.status_code == 200, r.text
    assert_problem(await gateway.login(username, PASSWORD), 401, "invalid_credentials")
    assert (await gateway.login(username, "brand-new-pass")).status_code == 200


async def test_password_reset_to_a_short_password_is_rejected(gateway, tree):
    username, _ = await gateway.user("clerk", tree.store["code"])
    r = await gateway.call("PATCH", f"{USERS}/{username}", gateway.admin, json={"password": "short"})
    assert_problem(r, 422, "invalid_argument", field="password")
    assert (await gateway.login(username, PASSWORD)).status_code == 200


async def test_clerk_cannot_patch_users(gateway, tree):
    target, _ = await gateway.user("clerk", tree.store["code"])
    _, clerk = await gateway.user("clerk", tree.store["code"])
    r = await gateway.call("PATCH", f"{USERS}/{target}", clerk, json={"active": False})
    assert_problem(r, 403, "forbidden")
    assert (await gateway.call("GET", f"{USERS}/{target}", gateway.admin)).json()["active"] is True


async def test_store_manager_cannot_disable_its_region_manager(gateway, tree):
    boss, _ = await gateway.user("region_manager", tree.region["code"])
    _, manager = await gateway.user("store_manager", tree.store["code"])
    r = await gateway.call("PATCH", f"{USERS}/{boss}", manager, json={"active": False})
    assert r.status_code in (403, 404), r.text
    assert (await gateway.call("GET", f"{USERS}/{boss}", gateway.admin)).json()["active"] is True


@pytest.mark.parametrize(
    ("caller", "target"),
    [("region_manager", "auditor"), ("store_manager", "distributor")],
)
async def test_managers_cannot_manage_roles_they_may_not_create(gateway, tree, caller, target):
    caller_unit = tree.region if caller == "region_manager" else tree.store
    target_unit = tree.region if target == "auditor" else tree.store
    target_name, _ = await gateway.user(
        target, target_unit["code"], *(("A",) if target == "distributor" else ())
    )
    _, token = await gateway.user(caller, caller_unit["code"])
    r = await gateway.call("PATCH", f"{USERS}/{target_name}", token, json={"password": "hijacked-pass"})
    assert_problem(r, 403, "forbidden")
    assert (await gateway.login(target_name, PASSWORD)).status_code == 200


async def test_region_manager_cannot_touch_hq_admin(gateway, tree):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call("PATCH", f"{USERS}/admin", manager, json={"password": "hijacked-pass"})
    assert_problem(r, 404, "not_found")


async def test_nobody_disables_their_own_account(gateway, tree):
    username, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call("PATCH", f"{USERS}/{username}", manager, json={"active": False})
    assert_problem(r, 422, "invalid_argument", field="active")


async def test_empty_user_patch_is_rejected(gateway, tree):
    username, _ = await gateway.user("clerk", tree.store["code"])
    assert_problem(
        await gateway.call("PATCH", f"{USERS}/{username}", gateway.admin, json={}), 422, "invalid_argument"
    )


# --- terminals ---------------------------------------------------------------------------------
async def test_terminal_secret_is_shown_once(gateway, tree):
    _, manager = await gateway.user("store_manager", tree.store["code"])
    r = await gateway.call("POST", TERMINALS, manager, json={"store": tree.store["code"], "name": "Till 1"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["store"] == tree.store["code"]
    assert created["client_id"] and len(created["client_secret"]) >= 32
    listed = await gateway.call("GET", TERMINALS, manager, params={"limit": 500})
    assert listed.status_code == 200
    mine = [t for t in listed.json()["items"] if t["client_id"] == created["client_id"]]
    assert mine == [
        {"client_id": created["client_id"], "store": tree.store["code"], "name": "Till 1", "active": True}
    ]
    assert created["client_secret"] not in listed.text and "secret" not in listed.text


async def test_terminal_must_sit_on_a_store(gateway, tree):
    r = await gateway.call(
        "POST", TERMINALS, gateway.admin, json={"store": tree.region["code"], "name": "Till"}
    )
    assert_problem(r, 422, "invalid_argument", field="store")


async def test_terminal_for_a_store_outside_scope_is_rejected(gateway, tree):
    _, manager = await gateway.user("region_manager", tree.region["code"])
    before = (await gateway.call("GET", TERMINALS, gateway.admin, params={"limit": 500})).json()["items"]
    r = await gateway.call(
        "POST", TERMINALS, manager, json={"store": tree.other_store["code"], "name": "Till"}
    )
    assert_problem(r, 422, "invalid_argument", field="store")
    after = (await gateway.call("GET", TERMINALS, gateway.admin, params={"limit": 500})).json()["items"]
    assert [t for t in after if t["store"] == tree.other_store["code"]] == [
        t for t in before if t["store"] == tree.other_store["code"]
    ]


async def test_terminal_list_is_scoped(gateway, tree):
    mine, _ = await gateway.terminal(tree.store["code"])
    theirs, _ = await gateway.terminal(tree.other_store["code"])
    _, manager = await gateway.user("region_manager", tree.region["code"])
    ids = [t["client_id"] for t in (await gateway.call("GET", TERMINALS, manager)).json()["items"]]
    assert mine in ids and theirs not in ids


async def test_disabled_terminal_cannot_get_a_token(gateway, tree):
    client_id, secret = await gateway.terminal(tree.store["code"])
    await gateway.terminal_token(client_id, secret)
    r = await gateway.call("PATCH", f"{TERMINALS}/{client_id}", gateway.admin, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    r = await gateway.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert_problem(r, 401, "invalid_credentials")


async def test_terminal_outside_scope_cannot_be_patched(gateway, tree):
    theirs, secret = await gateway.terminal(tree.other_store["code"])
    _, manager = await gateway.user("region_manager", tree.region["code"])
    r = await gateway.call("PATCH", f"{TERMINALS}/{theirs}", manager, json={"active": False})
    assert_problem(r, 404, "not_found")
    assert await gateway.terminal_token(theirs, secret)
