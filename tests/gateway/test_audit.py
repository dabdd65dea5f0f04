"""The audit log: every state change with who, what, from where and which request."""

import base64
import json
import uuid

import pytest

from tests.gateway.helpers import PASSWORD, assert_problem, rand_code, rand_letters, rand_name

pytestmark = pytest.mark.integration

AUDIT = "/api/v1/audit-log"


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def _the_entry(gateway, response, action: str, target_id: str, actor: str) -> dict:
    """The one audit entry a change wrote, checked against the change's response."""
    assert 200 <= response.status_code < 300, response.text
    entries = await gateway.audit(action=action, target_id=target_id)
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["actor"] == actor
    assert entry["action"] == action
    assert entry["target_id"] == target_id
    assert entry["ip"] == "127.0.0.1"
    assert entry["request_id"] == response.headers["X-Request-Id"]
    return entry


async def test_every_state_change_is_audited_with_its_request_id(gateway):
    admin = gateway.admin
    region_code, store_code = rand_code("R"), rand_code("S")

    r = await gateway.call(
        "POST",
        "/api/v1/org-units",
        admin,
        json={"code": region_code, "name": "R", "kind": "region", "parent": "HQ"},
    )
    entry = await _the_entry(gateway, r, "org_unit.create", region_code, "admin")
    assert entry["org_path"] == f"HQ/{region_code}" and entry["actor_role"] == "hq_admin"

    # a region manager's change is audited under its own name
    manager_name, manager = await gateway.user("region_manager", region_code)
    r = await gateway.call(
        "POST",
        "/api/v1/org-units",
        manager,
        json={"code": store_code, "name": "S", "kind": "store", "parent": region_code},
    )
    entry = await _the_entry(gateway, r, "org_unit.create", store_code, manager_name)
    assert entry["actor_role"] == "region_manager"

    r = await gateway.call("PATCH", f"/api/v1/org-units/{store_code}", manager, json={"name": "Flagship"})
    await _the_entry(gateway, r, "org_unit.update", store_code, manager_name)

    username = rand_name("clerk")
    r = await gateway.call(
        "POST",
        "/api/v1/users",
        manager,
        json={"username": username, "password": PASSWORD, "role": "clerk", "org_unit": store_code},
    )
    entry = await _the_entry(gateway, r, "user.create", username, manager_name)
    assert PASSWORD not in json.dumps(entry), "the password must never reach the audit log"

    r = await gateway.call("PATCH", f"/api/v1/users/{username}", manager, json={"password": "another-pass"})
    entry = await _the_entry(gateway, r, "user.update", username, manager_name)
    assert "another-pass" not in json.dumps(entry)

    r = await gateway.call("POST", "/api/v1/terminals", manager, json={"store": store_code, "name": "Till"})
    client_id = r.json()["client_id"]
    entry = await _the_entry(gateway, r, "terminal.create", client_id, manager_name)
    assert r.json()["client_secret"] not in json.dumps(entry)

    r = await gateway.call("PATCH", f"/api/v1/terminals/{client_id}", manager, json={"active": False})
    await _the_entry(gateway, r, "terminal.update", client_id, manager_name)

    sku = rand_letters()
    r = await gateway.call(
        "POST",
        "/api/v1/products",
        admin,
        json={"sku": sku, "name": "Tea", "retail_price": 100, "price_levels": {"A": 90}},
    )
    await _the_entry(gateway, r, "product.create", sku, "admin")

    r = await gateway.call("PATCH", f"/api/v1/products/{sku}", admin, json={"retail_price": 120})
    entry = await _the_entry(gateway, r, "product.update", sku, "admin")
    assert entry["detail"]["retail_price"] == 120


async def test_incoming_request_id_is_recorded(gateway):
    rid = uuid.uuid4().hex
    code = rand_code("R")
    r = await gateway.call(
        "POST",
        "/api/v1/org-units",
        gateway.admin,
        headers={"X-Request-Id": rid},
        json={"code": code, "name": "R", "kind": "region", "parent": "HQ"},
    )
    assert r.headers["X-Request-Id"] == rid
    entry = await _the_entry(gateway, r, "org_unit.create", code, "admin")
    assert entry["request_id"] == rid


async def test_logins_are_audited(gateway):
    region = await gateway.unit("region", "HQ")
    username, _ = await gateway.user("region_manager", region["code"])
    entries = await gateway.audit(action="auth.login", target_id=username)
    assert len(entries) == 1 and entries[0]["actor"] == username


async def test_rejected_requests_write_no_audit_entry(gateway):
    region = await gateway.unit("region", "HQ")
    rid = uuid.uuid4().hex
    r = await gateway.call(
        "POST",
        "/api/v1/org-units",
        gateway.admin,
        headers={"X-Request-Id": rid},
        json={"code": region["code"], "name": "Again", "kind": "region", "parent": "HQ"},
    )
    assert_problem(r, 409, "conflict")
    r = await gateway.call(
        "PATCH",
        f"/api/v1/org-units/{region['code']}",
        gateway.admin,
        headers={"X-Request-Id": rid},
        json={"name": ""},
    )
    assert_problem(r, 422, "invalid_argument")
    _, clerk = await gateway.user("clerk", (await gateway.unit("store", region["code"]))["code"])
    r = await gateway.call(
        "PATCH",
        f"/api/v1/org-units/{region['code']}",
        clerk,
        headers={"X-Request-Id": rid},
        json={"name": "Mine"},
    )
    assert_problem(r, 403, "forbidden")
    entries = await gateway.audit(target_id=region["code"])
    assert [e["action"] for e in entries] == ["org_unit.create"]
    assert all(e["request_id"] != rid for e in await gateway.audit())


async def test_auditor_reads_the_audit_log(gateway):
    region = await gateway.unit("region", "HQ")
    _, auditor = await gateway.user("auditor", "HQ")
    r = await gateway.call("GET", AUDIT, auditor, params={"target_id": region["code"]})
    assert r.status_code == 200
    assert [e["action"] for e in r.json()["items"]] == ["org_unit.create"]


async def test_regional_auditor_sees_its_region_only(gateway):
    region = await gateway.unit("region", "HQ")
    other = await gateway.unit("region", "HQ")
    _, auditor = await gateway.user("auditor", region["code"])
    r = await gateway.call("GET", AUDIT, auditor, params={"limit": 500})
    assert r.status_code == 200
    paths = {e["org_path"] for e in r.json()["items"]}
    assert region["path"] in paths
    assert all(p == region["path"] or p.startswith(region["path"] + "/") for p in paths), paths
    r = await gateway.call("GET", AUDIT, auditor, params={"target_id": other["code"]})
    assert r.json()["items"] == []


@pytest.mark.parametrize("role", ["region_manager", "store_manager", "clerk", "distributor", "terminal"])
async def test_others_cannot_read_the_audit_log(gateway, role):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    if role == "terminal":
        token = await gateway.terminal_token(*await gateway.terminal(store["code"]))
    else:
        unit = region if role == "region_manager" else store
        _, token = await gateway.user(role, unit["code"], "A" if role == "distributor" else None)
    assert_problem(await gateway.call("GET", AUDIT, token), 403, "forbidden")


async def test_audit_log_requires_a_token(gateway):
    assert_problem(await gateway.call("GET", AUDIT), 401)


async def test_audit_paging_walks_newest_first(gateway):
    region = await gateway.unit("region", "HQ")
    for name in ("one", "two", "three"):
        r = await gateway.call(
            "PATCH", f"/api/v1/org-units/{region['code']}", gateway.admin, json={"name": name}
        )
        assert r.status_code == 200
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 1, "target_id": region["code"], **({"cursor": cursor} if cursor else {})}
        r = await gateway.call("GET", AUDIT, gateway.admin, params=params)
        seen += [f"{e['action']}:{e['detail']['name']}" for e in r.json()["items"]]
        if (cursor := r.json()["next_cursor"]) is None:
            break
    update = "org_unit.update"
    assert seen == [f"{update}:three", f"{update}:two", f"{update}:one", f"org_unit.create:{region['name']}"]


@pytest.mark.parametrize(
    "value", [10**30, -(10**30), True, "abc", 1.5], ids=["huge", "huge-negative", "bool", "str", "float"]
)
async def test_forged_audit_cursor_is_invalid_argument(gateway, value):
    r = await gateway.call("GET", AUDIT, gateway.admin, params={"cursor": _cursor(value)})
    assert_problem(r, 422, "invalid_argument")
