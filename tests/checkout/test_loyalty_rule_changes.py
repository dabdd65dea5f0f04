"""Taking loyalty rules back through the gateway, with the real services behind it: deleting
tiers, deactivating and activating earn rules, promotions and coupon templates, deleting rules
nothing used; refusals are problems (403, 404, 409, 422), never 500; every change is audited."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import update

from services.loyalty.models import points_accounts
from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


def problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["code"] == code, r.text
    return r.json()


async def audited(w: CheckoutWorld, action: str, target_id: str) -> bool:
    r = await w.call("GET", "/api/v1/audit-log", w.admin, params={"action": action, "target_id": target_id})
    assert r.status_code == 200, r.text
    return len(r.json()["items"]) == 1


async def ids(w: CheckoutWorld, path: str, key: str = "id") -> set[str]:
    r = await w.call("GET", f"/api/v1/loyalty/{path}", w.clerk)
    assert r.status_code == 200, r.text
    return {x[key] for x in r.json()["items"]}


async def test_a_deactivated_promotion_no_longer_discounts_and_comes_back(
    checkout_world: CheckoutWorld,
) -> None:
    w = checkout_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    body = {"name": "p-" + cat, "kind": "category_discount", "category": cat, "discount_bps": 1000,
            "scope": w.store}  # fmt: skip
    r = await w.call("POST", "/api/v1/loyalty/promotions", w.admin, json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    sku = await w.product(10_000, cat)
    lines = {"lines": [{"sku": sku, "qty": 1}]}
    assert (await w.quote(lines))["total_due"] == 9_000

    r = await w.call("POST", f"/api/v1/loyalty/promotions/{pid}/deactivate", w.admin)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["id"] == pid
    assert (await w.quote(lines))["total_due"] == 10_000
    assert await audited(w, "loyalty.promotion.deactivate", pid)

    r = await w.call("POST", f"/api/v1/loyalty/promotions/{pid}/activate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    assert (await w.quote(lines))["total_due"] == 9_000
    assert await audited(w, "loyalty.promotion.activate", pid)

    # a purchase took its discount: it stays, deactivated, for that purchase's history
    m = await w.member()
    r = await w.checkout(
        {"card_no": m["card_no"], **lines, "payments": [{"method": "cash", "amount": 9_000}]}
    )
    assert r.status_code == 201, r.text
    detail = problem(await w.call("DELETE", f"/api/v1/loyalty/promotions/{pid}", w.admin), 409, "conflict")
    assert "deactivate" in detail["detail"]
    r = await w.call("POST", f"/api/v1/loyalty/promotions/{pid}/deactivate", w.admin)
    assert r.status_code == 200, r.text
    assert pid in await ids(w, "promotions")


async def test_rules_nothing_used_can_be_deleted(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    r = await w.call("POST", "/api/v1/loyalty/promotions", w.admin, json={
        "name": "never", "kind": "member_day", "day_of_month": 1, "discount_bps": 100, "active": False})  # fmt: skip
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = await w.call("POST", "/api/v1/loyalty/earn-rules", w.admin,
                     json={"name": "e-" + uuid.uuid4().hex[:6], "category": "none-" + uuid.uuid4().hex[:6],
                           "points_per_yuan_bps": 20_000})  # fmt: skip
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await w.call("POST", f"/api/v1/loyalty/earn-rules/{rid}/deactivate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert await audited(w, "loyalty.earn_rule.deactivate", rid)
    r = await w.call("POST", f"/api/v1/loyalty/earn-rules/{rid}/activate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text

    for path, target, action in ((f"promotions/{pid}", pid, "loyalty.promotion.delete"),
                                 (f"earn-rules/{rid}", rid, "loyalty.earn_rule.delete")):  # fmt: skip
        r = await w.call("DELETE", f"/api/v1/loyalty/{path}", w.admin)
        assert r.status_code == 204, r.text
        assert await audited(w, action, target)
        problem(await w.call("DELETE", f"/api/v1/loyalty/{path}", w.admin), 404, "not_found")
    assert pid not in await ids(w, "promotions") and rid not in await ids(w, "earn-rules")


async def test_a_tier_with_members_cannot_be_deleted_an_empty_one_can(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    code = "t" + uuid.uuid4().hex[:8]
    taken = {t["rank"] for t in (await w.call("GET", "/api/v1/loyalty/tiers", w.admin)).json()["items"]}
    rank = random.choice([r for r in range(50, 101) if r not in taken])
    tier = {"code": code, "name": code, "rank": rank, "min_spend_12m": 10**11}  # nobody reaches it
    assert (await w.call("POST", "/api/v1/loyalty/tiers", w.admin, json=tier)).status_code == 201
    m = await w.member()
    await w.grant_points(m, 1)  # loyalty knows the member now
    assert w.loyalty_service is not None
    async with w.loyalty_service.runtime.db.transaction() as s:
        await s.execute(
            update(points_accounts).where(points_accounts.c.member_no == m["member_no"]).values(tier=code)
        )

    problem(await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", w.clerk), 403, "forbidden")
    manager = await w.staff("store_manager", w.store)
    problem(await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", manager), 403, "forbidden")
    refused = problem(await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", w.admin), 409, "conflict")
    assert "1 member" in refused["detail"]
    assert code in await ids(w, "tiers", "code")

    async with w.loyalty_service.runtime.db.transaction() as s:
        await s.execute(
            update(points_accounts)
            .where(points_accounts.c.member_no == m["member_no"])
            .values(tier="standard")
        )
    r = await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", w.admin)
    assert r.status_code == 204 and r.content == b"", r.text
    assert code not in await ids(w, "tiers", "code")
    assert await audited(w, "loyalty.tier.delete", code)
    problem(await w.call("DELETE", f"/api/v1/loyalty/tiers/{code}", w.admin), 404, "not_found")
    problem(await w.call("DELETE", "/api/v1/loyalty/tiers/standard", w.admin), 409, "conflict")
    problem(await w.call("DELETE", f"/api/v1/loyalty/tiers/{'x' * 33}", w.admin), 422, "invalid_argument")


async def test_a_stopped_coupon_template_is_not_issued(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    m = await w.member()
    await w.coupon(m, 300)
    tid = (await w.call("GET", "/api/v1/loyalty/coupon-templates", w.admin)).json()["items"][-1]["id"]
    r = await w.call("POST", f"/api/v1/loyalty/coupon-templates/{tid}/deactivate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    r = await w.call("POST", f"/api/v1/loyalty/coupon-templates/{tid}/issue", w.admin,
                     json={"member_nos": [m["member_no"]]}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    problem(r, 404, "not_found")
    r = await w.call("POST", f"/api/v1/loyalty/coupon-templates/{tid}/activate", w.admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    assert await audited(w, "loyalty.coupon_template.deactivate", tid)


@pytest.mark.parametrize("rule", ["not-an-id", "123", "x" * 65])
@pytest.mark.parametrize(
    ("method", "tail"),
    [("POST", "/deactivate"), ("POST", "/activate"), ("DELETE", "")],
)
@pytest.mark.parametrize("kind", ["earn-rules", "promotions"])
async def test_bad_ids_are_422_unknown_ones_404(
    checkout_world: CheckoutWorld, kind: str, method: str, tail: str, rule: str
) -> None:
    w = checkout_world
    problem(await w.call(method, f"/api/v1/loyalty/{kind}/{rule}{tail}", w.admin), 422, "invalid_argument")
    problem(await w.call(method, f"/api/v1/loyalty/{kind}/{uuid.uuid4()}{tail}", w.admin), 404, "not_found")


async def test_managers_and_other_scopes_may_not_change_rules(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    r = await w.call("POST", "/api/v1/loyalty/promotions", w.admin, json={
        "name": "hq-only", "kind": "member_day", "day_of_month": 1, "discount_bps": 100, "active": False})  # fmt: skip
    pid = r.json()["id"]
    manager = await w.staff("store_manager", w.store)
    for method, tail in (("POST", "/activate"), ("POST", "/deactivate"), ("DELETE", "")):
        problem(await w.call(method, f"/api/v1/loyalty/promotions/{pid}{tail}", manager), 403, "forbidden")
        problem(await w.call(method, f"/api/v1/loyalty/promotions/{pid}{tail}", w.clerk), 403, "forbidden")
        assert (await w.call(method, f"/api/v1/loyalty/promotions/{pid}{tail}")).status_code == 401
