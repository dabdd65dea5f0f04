"""Editing loyalty rules through the gateway with the real services behind it (PATCH earn
rules, coupon templates, promotions: only the fields given change, validated as on create,
audited) and issuing a coupon to the members of a tag (a retry with the same key issues
nothing twice). Refusals are problems (403, 404, 409, 422), never 500."""

from __future__ import annotations

import uuid

import pytest

from tests.checkout.conftest import CheckoutWorld
from tests.checkout.test_loyalty_rule_changes import audited, problem

pytestmark = pytest.mark.integration


async def created(w: CheckoutWorld, path: str, body: dict) -> dict:
    r = await w.call("POST", f"/api/v1/loyalty/{path}", w.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def listed(w: CheckoutWorld, path: str, rule_id: str) -> dict:
    r = await w.call("GET", f"/api/v1/loyalty/{path}", w.clerk)
    assert r.status_code == 200, r.text
    return next(x for x in r.json()["items"] if x["id"] == rule_id)


async def test_patching_an_earn_rule_changes_only_the_fields_given(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    rule = await created(w, "earn-rules", {"name": "e-" + cat, "scope": w.store, "category": cat,
                                           "points_per_yuan_bps": 20_000, "member_day": 5})  # fmt: skip
    sku = await w.product(10_000, cat)
    m = await w.member()
    lines = {"card_no": m["card_no"], "lines": [{"sku": sku, "qty": 1}]}
    assert (await w.quote(lines))["points_to_earn"] == 200

    r = await w.call("PATCH", f"/api/v1/loyalty/earn-rules/{rule['id']}", w.admin,
                     json={"points_per_yuan_bps": 30_000, "name": "e2-" + cat})  # fmt: skip
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["id"], edited["name"], edited["points_per_yuan_bps"]) == (rule["id"], "e2-" + cat, 30_000)
    assert (edited["member_day"], edited["scope"], edited["category"]) == (5, w.store_path, cat)
    assert await listed(w, "earn-rules", rule["id"]) == edited
    assert (await w.quote(lines))["points_to_earn"] == 300
    assert await audited(w, "loyalty.earn_rule.update", rule["id"])

    # refused as create refuses, and nothing changes
    for body, field in (
        ({"points_per_yuan_bps": -1}, "points_per_yuan_bps"),
        ({"member_day": 32}, "member_day"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"scope": "NOWHERE"}, "scope"),
        ({"colour": "red"}, "colour"),
        ({}, "body"),
    ):
        detail = problem(await w.call("PATCH", f"/api/v1/loyalty/earn-rules/{rule['id']}", w.admin, json=body),
                         422, "invalid_argument")  # fmt: skip
        assert field in {e["field"] for e in detail["errors"]}, detail
    assert await listed(w, "earn-rules", rule["id"]) == edited
    r = await w.call("PATCH", f"/api/v1/loyalty/earn-rules/{rule['id']}", w.admin, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False, r.text


async def test_patching_a_promotion_is_validated_as_creating_one(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    promo = await created(w, "promotions", {"name": "p-" + cat, "kind": "category_discount", "category": cat,
                                            "discount_bps": 1_000, "scope": w.store})  # fmt: skip
    sku = await w.product(10_000, cat)
    lines = {"lines": [{"sku": sku, "qty": 1}]}
    assert (await w.quote(lines))["total_due"] == 9_000

    path = f"/api/v1/loyalty/promotions/{promo['id']}"
    r = await w.call("PATCH", path, w.admin, json={"discount_bps": 2_000, "ends_at": "2099-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    assert (r.json()["discount_bps"], r.json()["category"], r.json()["name"]) == (2_000, cat, "p-" + cat)
    assert r.json()["ends_at"].startswith("2099-01-01")
    assert (await w.quote(lines))["total_due"] == 8_000
    assert await audited(w, "loyalty.promotion.update", promo["id"])

    # the merged promotion must still be a valid one of its kind (the create model's checks)
    for body, words in (
        ({"kind": "spend_x_save_y"}, "spend_x_save_y"),
        ({"discount_bps": 0}, "discount_bps"),
        ({"category": ""}, "category"),
        ({"starts_at": "2099-02-01T00:00:00Z"}, "ends_at must be after starts_at"),
        ({"discount_bps": 10_001}, "discount_bps"),
    ):
        detail = problem(await w.call("PATCH", path, w.admin, json=body), 422, "invalid_argument")
        assert words in detail["detail"], detail
    r = await w.call("PATCH", path, w.admin, json={"kind": "spend_x_save_y", "spend_threshold": 5_000,
                                                   "save_amount": 500})  # fmt: skip
    assert r.status_code == 200 and r.json()["kind"] == "spend_x_save_y", r.text
    assert (await w.quote(lines))["total_due"] == 9_500
    # a date cleared with null
    r = await w.call("PATCH", path, w.admin, json={"ends_at": None, "active": False})
    assert r.status_code == 200 and r.json()["ends_at"] is None and r.json()["active"] is False, r.text

    # HQ's only: a store manager is refused by the loyalty service; 404 for an unknown id
    manager = await w.staff("store_manager", w.store)
    problem(await w.call("PATCH", path, manager, json={"name": "x"}), 403, "forbidden")
    problem(await w.call("PATCH", path, w.clerk, json={"name": "x"}), 403, "forbidden")
    problem(await w.call("PATCH", f"/api/v1/loyalty/promotions/{uuid.uuid4()}", w.admin, json={"name": "x"}),
            404, "not_found")  # fmt: skip
    problem(await w.call("PATCH", "/api/v1/loyalty/promotions/nope", w.admin, json={"name": "x"}),
            422, "invalid_argument")  # fmt: skip
    assert (await w.call("PATCH", path, json={"name": "x"})).status_code == 401


async def test_a_coupon_templates_face_value_is_fixed_once_issued(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    tpl = await created(w, "coupon-templates", {"name": "tpl-edit", "kind": "amount_off", "amount_off": 500})
    path = f"/api/v1/loyalty/coupon-templates/{tpl['id']}"
    r = await w.call("PATCH", path, w.admin, json={"amount_off": 700})
    assert r.status_code == 200 and r.json()["amount_off"] == 700, r.text
    problem(await w.call("PATCH", path, w.admin, json={"kind": "gift"}), 422, "invalid_argument")  # no sku
    m = await w.member()
    r = await w.call("POST", f"{path}/issue", w.admin, json={"member_nos": [m["member_no"]]},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201 and r.json()["issued"] == 1, r.text

    detail = problem(await w.call("PATCH", path, w.admin, json={"amount_off": 900}), 409, "conflict")
    assert "face value" in detail["detail"]
    r = await w.call(
        "PATCH", path, w.admin, json={"name": "tpl-edited", "min_spend": 3_000, "amount_off": 700}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["min_spend"], r.json()["amount_off"], r.json()["issued"]) == (
        "tpl-edited", 3_000, 700, 1,
    )  # fmt: skip
    r = await w.call("GET", "/api/v1/audit-log", w.admin,
                     params={"action": "loyalty.coupon_template.update", "target_id": tpl["id"]})  # fmt: skip
    details = [e["detail"] for e in r.json()["items"]]
    assert len(details) == 2 and {"name": "tpl-edited", "min_spend": 3_000, "amount_off": 700} in details
    r = await w.call("GET", f"/api/v1/members/{m['member_no']}/coupons", w.clerk)
    assert [(c["amount_off"], c["min_spend"]) for c in r.json()["items"]] == [(700, 3_000)]


async def test_issuing_to_a_tag_reaches_its_members_once(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    tag = "t" + uuid.uuid4().hex[:8]
    tagged = [(await w.register(w.clerk, tags=[tag, "other"]))["member_no"] for _ in range(3)]
    untagged = (await w.register(w.clerk, tags=["other"]))["member_no"]
    tpl = await created(w, "coupon-templates", {"name": "for-" + tag, "kind": "amount_off", "amount_off": 300,
                                                "per_member_limit": 1})  # fmt: skip
    path = f"/api/v1/loyalty/coupon-templates/{tpl['id']}/issue"
    key = uuid.uuid4().hex
    r = await w.call("POST", path, w.admin, json={"tag": tag}, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    assert (r.json()["issued"], r.json()["skipped"], r.json()["members"], len(r.json()["codes"])) == (
        3,
        0,
        3,
        3,
    )
    first = r.json()

    # the same key again: the same answer, nothing issued twice
    r = await w.call("POST", path, w.admin, json={"tag": tag}, headers={"Idempotency-Key": key})
    assert r.status_code == 201 and r.json() == first, r.text
    for member_no in tagged:
        r = await w.call("GET", f"/api/v1/members/{member_no}/coupons", w.clerk)
        assert [c["template_id"] for c in r.json()["items"]] == [tpl["id"]], r.text
    r = await w.call("GET", f"/api/v1/members/{untagged}/coupons", w.clerk)
    assert r.json()["items"] == []
    r = await w.call("GET", "/api/v1/loyalty/coupon-templates", w.clerk)
    assert [t["issued"] for t in r.json()["items"] if t["id"] == tpl["id"]] == [3]

    # a new key: the per-member limit skips them all
    r = await w.call("POST", path, w.admin, json={"tag": tag}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201 and (r.json()["issued"], r.json()["skipped"]) == (0, 3), r.text
    # a tag nobody has: nothing to issue
    r = await w.call("POST", path, w.admin, json={"tag": "nobody-" + tag},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201 and (r.json()["issued"], r.json()["members"]) == (0, 0), r.text
    for body in ({"tag": ""}, {"tag": tag, "segment": "ally"}, {"tag": "x" * 65}):
        problem(await w.call("POST", path, w.admin, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}),
                422, "invalid_argument")  # fmt: skip
    r = await w.call("GET", "/api/v1/audit-log", w.admin,
                     params={"action": "loyalty.coupons.issue", "target_id": tpl["id"]})  # fmt: skip
    assert {"tag": tag, "members": 3, "issued": 3, "skipped": 0} in [e["detail"] for e in r.json()["items"]]


async def test_a_retry_after_the_tag_changed_issues_nothing_more(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    tag = "t" + uuid.uuid4().hex[:8]
    first = (await w.register(w.clerk, tags=[tag]))["member_no"]
    tpl = await created(
        w, "coupon-templates", {"name": "retry-" + tag, "kind": "amount_off", "amount_off": 100}
    )
    path = f"/api/v1/loyalty/coupon-templates/{tpl['id']}/issue"
    key = uuid.uuid4().hex
    r = await w.call("POST", path, w.admin, json={"tag": tag}, headers={"Idempotency-Key": key})
    assert r.status_code == 201 and r.json()["issued"] == 1, r.text

    later = (await w.register(w.clerk, tags=[tag]))["member_no"]
    # the same key now names other members: refused, and the member tagged later got nothing
    problem(await w.call("POST", path, w.admin, json={"tag": tag}, headers={"Idempotency-Key": key}),
            409, "idempotency_key_reused")  # fmt: skip
    r = await w.call("GET", f"/api/v1/members/{later}/coupons", w.clerk)
    assert r.json()["items"] == []
    r = await w.call("GET", f"/api/v1/members/{first}/coupons", w.clerk)
    assert len(r.json()["items"]) == 1
