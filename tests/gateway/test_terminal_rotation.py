"""Rotating a terminal's secret: the new one logs in, the old one is refused at once, the
terminal's refresh tokens stop renewing, another scope's terminal is not found, and it is audited."""

import pytest

from tests.gateway.helpers import assert_problem

pytestmark = pytest.mark.integration


def _rotate_path(client_id: str) -> str:
    return f"/api/v1/terminals/{client_id}/rotate-secret"


async def _grant(gateway, client_id: str, secret: str):  # type: ignore[no-untyped-def]
    return await gateway.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_new_secret_logs_in_and_the_old_one_is_refused(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    client_id, old_secret = await gateway.terminal(store["code"])
    before = await _grant(gateway, client_id, old_secret)
    assert before.status_code == 200, before.text

    r = await gateway.call("POST", _rotate_path(client_id), gateway.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["client_id"] == client_id and body["store"] == store["code"]
    new_secret = body["client_secret"]
    assert new_secret and new_secret != old_secret

    assert_problem(await _grant(gateway, client_id, old_secret), 401, "invalid_credentials")
    assert (await _grant(gateway, client_id, new_secret)).status_code == 200
    renewed = await gateway.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": before.json()["refresh_token"]},
    )
    assert_problem(renewed, 401, "invalid_credentials")


async def test_region_manager_rotates_in_its_region_and_not_in_another(gateway):
    mine, other = await gateway.unit("region", "HQ"), await gateway.unit("region", "HQ")
    my_store = await gateway.unit("store", mine["code"])
    other_store = await gateway.unit("store", other["code"])
    _, manager = await gateway.user("region_manager", mine["code"])
    theirs, their_secret = await gateway.terminal(other_store["code"])
    ours, _ = await gateway.terminal(my_store["code"])

    assert_problem(await gateway.call("POST", _rotate_path(theirs), manager), 404, "not_found")
    assert (await _grant(gateway, theirs, their_secret)).status_code == 200  # untouched
    assert (await gateway.call("POST", _rotate_path(ours), manager)).status_code == 200


async def test_unknown_terminal_is_not_found_and_clerks_are_forbidden(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    _, clerk = await gateway.user("clerk", store["code"])
    client_id, secret = await gateway.terminal(store["code"])
    assert_problem(await gateway.call("POST", _rotate_path("term_nosuch"), gateway.admin), 404, "not_found")
    assert_problem(await gateway.call("POST", _rotate_path(client_id), clerk), 403, "forbidden")
    assert (await _grant(gateway, client_id, secret)).status_code == 200  # the refusal changed nothing


async def test_rotation_is_audited_without_the_secret(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    client_id, _ = await gateway.terminal(store["code"])
    r = await gateway.call("POST", _rotate_path(client_id), gateway.admin)
    assert r.status_code == 200, r.text
    entries = await gateway.audit(action="terminal.rotate_secret", target_id=client_id)
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["actor"] == "admin"
    assert entry["target_type"] == "terminal"
    assert entry["org_path"] == store["path"]
    assert entry["request_id"] == r.headers["X-Request-Id"]
    assert r.json()["client_secret"] not in str(entry)
