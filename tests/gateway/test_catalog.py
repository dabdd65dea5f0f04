"""Products and the catalog: each caller sees the one price it is entitled to, nothing more."""

import pytest

from tests.gateway.helpers import assert_problem, rand_letters

pytestmark = pytest.mark.integration

PRODUCTS = "/api/v1/products"
CATALOG = "/api/v1/catalog"


def _product(**fields) -> dict:
    # letters-only sku and category: the only digits in a catalog answer are prices
    return {
        "sku": rand_letters(),
        "name": "Oolong Tea",
        "category": rand_letters(),
        "retail_price": 9900,
        "price_levels": {"A": 6000, "B": 7000},
        **fields,
    }


async def _create(gateway, **fields) -> dict:
    body = _product(**fields)
    r = await gateway.call("POST", PRODUCTS, gateway.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def _catalog_item(gateway, token, product: dict):
    """The one item of the product's own category as the caller sees it, and the raw body."""
    r = await gateway.call("GET", CATALOG, token, params={"category": product["category"]})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["sku"] for i in items] == [product["sku"]]
    return items[0], r.text


async def _absent(gateway, sku: str) -> None:
    assert_problem(await gateway.call("GET", f"{PRODUCTS}/{sku}", gateway.admin), 404, "not_found")


# --- creating ----------------------------------------------------------------------------------
async def test_hq_creates_a_product_with_price_levels(gateway):
    body = _product()
    r = await gateway.call("POST", PRODUCTS, gateway.admin, json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["sku"] == body["sku"] and got["retail_price"] == 9900
    assert got["price_levels"] == {"A": 6000, "B": 7000}
    full = await gateway.call("GET", f"{PRODUCTS}/{body['sku']}", gateway.admin)
    assert full.json()["price_levels"] == {"A": 6000, "B": 7000}


@pytest.mark.parametrize("role", ["region_manager", "store_manager", "clerk", "distributor", "auditor"])
async def test_only_hq_creates_products(gateway, role):
    region = await gateway.unit("region", "HQ")
    unit = (
        region
        if role in ("region_manager", "auditor", "distributor")
        else await gateway.unit("store", region["code"])
    )
    _, token = await gateway.user(role, unit["code"], "A" if role == "distributor" else None)
    body = _product()
    assert_problem(await gateway.call("POST", PRODUCTS, token, json=body), 403, "forbidden")
    await _absent(gateway, body["sku"])


async def test_duplicate_sku_is_a_conflict(gateway):
    product = await _create(gateway)
    again = _product(sku=product["sku"], retail_price=1)
    assert_problem(await gateway.call("POST", PRODUCTS, gateway.admin, json=again), 409, "conflict")
    got = (await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", gateway.admin)).json()
    assert got["retail_price"] == 9900


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"retail_price": 80.5}, "retail_price"),
        ({"retail_price": -1}, "retail_price"),
        ({"retail_price": "9900"}, "retail_price"),
        ({"retail_price": True}, "retail_price"),
        ({"price_levels": {"A": 60.5}}, "price_levels.A"),
        ({"price_levels": {"A": -6000}}, "price_levels.A"),
        ({"price_levels": {"A": "6000"}}, "price_levels.A"),
        ({"price_levels": {"a": 6000}}, "price_levels.a"),
        ({"region_prices": {"HQ": 5000}}, "region_prices.HQ"),
        ({"sku": "has space"}, "sku"),
    ],
    ids=[
        "float-price",
        "negative-price",
        "string-price",
        "bool-price",
        "float-level",
        "negative-level",
        "string-level",
        "lowercase-level",
        "region-price-on-hq",
        "bad-sku",
    ],
)
async def test_invalid_product_is_rejected_and_not_created(gateway, fields, field):
    body = _product(**fields)
    r = await gateway.call("POST", PRODUCTS, gateway.admin, json=body)
    assert_problem(r, 422, "invalid_argument", field=field)
    if " " not in body["sku"]:
        await _absent(gateway, body["sku"])
    # nothing of it reached the catalog either
    listed = await gateway.call("GET", CATALOG, params={"category": body["category"]})
    assert listed.json()["items"] == []


# --- who sees which price ----------------------------------------------------------------------
async def test_anonymous_catalog_shows_retail(gateway):
    product = await _create(gateway)
    item, text = await _catalog_item(gateway, None, product)
    assert item == {
        "sku": product["sku"],
        "name": "Oolong Tea",
        "category": product["category"],
        "price": 9900,
        "price_kind": "retail",
    }
    assert "6000" not in text and "7000" not in text


@pytest.mark.parametrize(("level", "price", "other"), [("A", 6000, 7000), ("B", 7000, 6000)])
async def test_distributor_sees_its_own_level_only(gateway, level, price, other):
    product = await _create(gateway)
    _, token = await gateway.user("distributor", "HQ", level)
    item, text = await _catalog_item(gateway, token, product)
    assert (item["price"], item["price_kind"]) == (price, f"wholesale_{level}")
    assert str(other) not in text and "9900" not in text and "price_levels" not in text
    r = await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", token)
    assert r.status_code == 200
    assert (r.json()["price"], r.json()["price_kind"]) == (price, f"wholesale_{level}")
    assert str(other) not in r.text and "price_levels" not in r.text and "retail_price" not in r.text


async def test_distributor_without_a_price_for_its_level_sees_retail(gateway):
    product = await _create(gateway)
    _, token = await gateway.user("distributor", "HQ", "C")
    item, text = await _catalog_item(gateway, token, product)
    assert (item["price"], item["price_kind"]) == (9900, "retail")
    assert "6000" not in text and "7000" not in text


@pytest.mark.parametrize("role", ["clerk", "store_manager", "region_manager"])
async def test_staff_see_retail_and_no_levels(gateway, role):
    product = await _create(gateway)
    region = await gateway.unit("region", "HQ")
    unit = region if role == "region_manager" else await gateway.unit("store", region["code"])
    _, token = await gateway.user(role, unit["code"])
    item, text = await _catalog_item(gateway, token, product)
    assert (item["price"], item["price_kind"]) == (9900, "retail")
    r = await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", token)
    assert r.json()["price"] == 9900
    for body in (text, r.text):
        assert "6000" not in body and "7000" not in body and "price_levels" not in body


async def test_region_override_applies_inside_that_region_only(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    elsewhere = await gateway.unit("store", (await gateway.unit("region", "HQ"))["code"])
    product = await _create(gateway, region_prices={region["code"]: 8800})
    _, clerk_in = await gateway.user("clerk", store["code"])
    _, manager_in = await gateway.user("region_manager", region["code"])
    _, clerk_out = await gateway.user("clerk", elsewhere["code"])
    client_id, secret = await gateway.terminal(store["code"])
    terminal_in = await gateway.terminal_token(client_id, secret)
    for token in (clerk_in, manager_in, terminal_in):
        item, _ = await _catalog_item(gateway, token, product)
        assert (item["price"], item["price_kind"]) == (8800, "retail")
    for token in (clerk_out, None):
        item, text = await _catalog_item(gateway, token, product)
        assert (item["price"], item["price_kind"]) == (9900, "retail")
        assert "8800" not in text


async def test_store_override_beats_region_override(gateway):
    region = await gateway.unit("region", "HQ")
    store = await gateway.unit("store", region["code"])
    sibling = await gateway.unit("store", region["code"])
    product = await _create(gateway, region_prices={region["code"]: 8800, store["code"]: 8500})
    _, here = await gateway.user("clerk", store["code"])
    _, there = await gateway.user("clerk", sibling["code"])
    assert (await _catalog_item(gateway, here, product))[0]["price"] == 8500
    assert (await _catalog_item(gateway, there, product))[0]["price"] == 8800


async def test_distributor_never_sees_region_overrides(gateway):
    region = await gateway.unit("region", "HQ")
    product = await _create(gateway, region_prices={region["code"]: 8800})
    _, token = await gateway.user("distributor", region["code"], "A")
    item, text = await _catalog_item(gateway, token, product)
    assert (item["price"], item["price_kind"]) == (6000, "wholesale_A")
    assert "8800" not in text


async def test_only_hq_sees_every_price_on_the_product(gateway):
    product = await _create(gateway)
    got = (await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", gateway.admin)).json()
    assert got["price_levels"] == {"A": 6000, "B": 7000} and got["retail_price"] == 9900
    _, auditor = await gateway.user("auditor", "HQ")
    r = await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", auditor)
    assert r.status_code == 200
    assert r.json() == {
        **{k: product[k] for k in ("sku", "name", "category")},
        "price": 9900,
        "price_kind": "retail",
    }
    assert "6000" not in r.text and "7000" not in r.text


# --- changing ----------------------------------------------------------------------------------
async def test_patch_changes_retail_price(gateway):
    product = await _create(gateway)
    r = await gateway.call(
        "PATCH", f"{PRODUCTS}/{product['sku']}", gateway.admin, json={"retail_price": 10500}
    )
    assert r.status_code == 200, r.text
    assert r.json()["retail_price"] == 10500
    item, _ = await _catalog_item(gateway, None, product)
    assert item["price"] == 10500


async def test_patch_with_null_removes_a_level(gateway):
    product = await _create(gateway)
    _, level_b = await gateway.user("distributor", "HQ", "B")
    r = await gateway.call(
        "PATCH", f"{PRODUCTS}/{product['sku']}", gateway.admin, json={"price_levels": {"B": None}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["price_levels"] == {"A": 6000}
    item, text = await _catalog_item(gateway, level_b, product)
    assert (item["price"], item["price_kind"]) == (9900, "retail")
    assert "6000" not in text and "7000" not in text


async def test_patch_adds_and_changes_levels(gateway):
    product = await _create(gateway)
    r = await gateway.call(
        "PATCH", f"{PRODUCTS}/{product['sku']}", gateway.admin, json={"price_levels": {"A": 5500, "C": 5000}}
    )
    assert r.json()["price_levels"] == {"A": 5500, "B": 7000, "C": 5000}


@pytest.mark.parametrize(
    "body",
    [
        {"retail_price": 80.5},
        {"retail_price": -5},
        {"price_levels": {"a": 1}},
        {"price_levels": {"A": -1}},
        {},
    ],
    ids=["float", "negative", "lowercase-level", "negative-level", "empty"],
)
async def test_invalid_patch_changes_nothing(gateway, body):
    product = await _create(gateway)
    r = await gateway.call("PATCH", f"{PRODUCTS}/{product['sku']}", gateway.admin, json=body)
    assert_problem(r, 422, "invalid_argument")
    got = (await gateway.call("GET", f"{PRODUCTS}/{product['sku']}", gateway.admin)).json()
    assert (got["retail_price"], got["price_levels"]) == (9900, {"A": 6000, "B": 7000})


async def test_unknown_sku_is_not_found(gateway):
    sku = rand_letters()
    for token in (None, gateway.admin):
        assert_problem(await gateway.call("GET", f"{PRODUCTS}/{sku}", token), 404, "not_found")
    r = await gateway.call("PATCH", f"{PRODUCTS}/{sku}", gateway.admin, json={"retail_price": 1})
    assert_problem(r, 404, "not_found")


async def test_deactivated_product_leaves_the_catalog(gateway):
    product = await _create(gateway)
    r = await gateway.call("PATCH", f"{PRODUCTS}/{product['sku']}", gateway.admin, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    listed = await gateway.call("GET", CATALOG, params={"category": product["category"]})
    assert listed.json()["items"] == []
    assert_problem(await gateway.call("GET", f"{PRODUCTS}/{product['sku']}"), 404, "not_found")


async def test_product_list_is_for_hq_and_auditors(gateway):
    product = await _create(gateway)
    region = await gateway.unit("region", "HQ")
    _, manager = await gateway.user("region_manager", region["code"])
    assert_problem(await gateway.call("GET", PRODUCTS, manager), 403, "forbidden")
    skus: list[str] = []
    cursor = None
    for _ in range(100):
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        r = await gateway.call("GET", PRODUCTS, gateway.admin, params=params)
        skus += [p["sku"] for p in r.json()["items"]]
        if (cursor := r.json()["next_cursor"]) is None:
            break
    assert product["sku"] in skus
