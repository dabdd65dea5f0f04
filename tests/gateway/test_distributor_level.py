"""A distributor's price level can be changed (PATCH /users/{username} {"price_level"}); it
applies from the distributor's next token and is refused for anyone else or when malformed."""

import pytest

from tests.gateway.helpers import PASSWORD, assert_problem

pytestmark = pytest.mark.integration


async def test_new_level_is_what_the_distributor_buys_at_next(gateway):
    region = await gateway.unit("region", "HQ")
    sku = (await gateway.product(price_levels={"A": 6000, "B": 5000}))["sku"]
    name, _ = await gateway.user("distributor", region["code"], "A")
    r = await gateway.call("PATCH", f"/api/v1/users/{name}", gateway.admin, json={"price_level": "B"})
    assert r.status_code == 200, r.text
    assert r.json()["price_level"] == "B"
    token = await gateway.token(name, PASSWORD)
    item = (await gateway.call("GET", f"/api/v1/products/{sku}", token)).json()
    assert item["price"] == 5000 and item["price_kind"] == "wholesale_B"
    entries = await gateway.audit(action="user.update", target_id=name)
    assert entries and entries[0]["detail"]["price_level"] == "B"


async def test_level_refused_for_staff_and_when_malformed(gateway):
    region = await gateway.unit("region", "HQ")
    clerk, _ = await gateway.user("clerk", (await gateway.unit("store", region["code"]))["code"])
    dist, _ = await gateway.user("distributor", region["code"], "A")
    r = await gateway.call("PATCH", f"/api/v1/users/{clerk}", gateway.admin, json={"price_level": "B"})
    assert_problem(r, 422, "invalid_argument", field="price_level")
    r = await gateway.call("PATCH", f"/api/v1/users/{dist}", gateway.admin, json={"price_level": "b-1"})
    assert_problem(r, 422, "invalid_argument", field="price_level")
    got = await gateway.call("GET", f"/api/v1/users/{dist}", gateway.admin)
    assert got.json()["price_level"] == "A"  # unchanged
