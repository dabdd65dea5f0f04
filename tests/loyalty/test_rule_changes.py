"""Taking loyalty rules back on real PostgreSQL and gRPC: deleting tiers, deactivating and
activating earn rules, promotions and coupon templates, deleting rules nothing used."""

from __future__ import annotations

import random
import uuid

import grpc
import pytest
from sqlalchemy import update

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from services.loyalty.models import points_accounts
from tests.loyalty.conftest import STORE, random_member_no

pytestmark = pytest.mark.integration


def reason(exc: grpc.aio.AioRpcError) -> str:
    return from_rpc_error(exc).reason


def checkout_id() -> str:
    return "co-" + uuid.uuid4().hex


async def refused(call, want: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call
    assert reason(exc.value) == want, exc.value.details()
    return exc.value.details() or ""


async def new_tier(w) -> str:  # type: ignore[no-untyped-def]
    """A tier nobody reaches by spending (ranks are unique, so a random high one)."""
    code = "t" + uuid.uuid4().hex[:8]
    await w.stub.UpsertTier(
        pb.Tier(code=code, name=code, rank=random.randint(10_000, 2_000_000_000), min_spend_12m=10**15,
                discount_bps=3_000),
        metadata=w.hq,
    )  # fmt: skip
    return code


async def tier_codes(w) -> set[str]:  # type: ignore[no-untyped-def]
    return {t.code for t in (await w.stub.ListTiers(pb.ListTiersRequest(), metadata=w.md())).tiers}


async def test_a_tier_with_members_cannot_be_deleted_an_empty_one_can(loyalty_world):
    w = loyalty_world
    code = await new_tier(w)
    members = [random_member_no() for _ in range(2)]
    for m in members:
        await w.give_points(m, 1)
    async with w.db.transaction() as s:
        await s.execute(
            update(points_accounts).where(points_accounts.c.member_no.in_(members)).values(tier=code)
        )
    q = await w.stub.Quote(w.quote_request(members[0]), metadata=w.md())
    assert q.tier == code and q.total_due == 7_000  # its 30 % applies

    detail = await refused(w.stub.DeleteTier(pb.DeleteTierRequest(code=code), metadata=w.hq), "conflict")
    assert "2 members" in detail
    assert code in await tier_codes(w)

    async with w.db.transaction() as s:
        await s.execute(
            update(points_accounts).where(points_accounts.c.member_no.in_(members)).values(tier="standard")
        )
    await w.stub.DeleteTier(pb.DeleteTierRequest(code=code), metadata=w.hq)
    assert code not in await tier_codes(w)
    await refused(w.stub.DeleteTier(pb.DeleteTierRequest(code=code), metadata=w.hq), "not_found")


async def test_deleting_tiers_is_for_hq_and_the_entry_tier_stays(loyalty_world):
    w = loyalty_world
    code = await new_tier(w)
    for role, scope in (("region_manager", "HQ/EAST"), ("store_manager", STORE), ("auditor", "HQ")):
        await refused(
            w.stub.DeleteTier(pb.DeleteTierRequest(code=code), metadata=w.md(role, scope)), "forbidden"
        )
    await refused(w.stub.DeleteTier(pb.DeleteTierRequest(code=""), metadata=w.hq), "invalid_argument")
    await refused(w.stub.DeleteTier(pb.DeleteTierRequest(code="x" * 33), metadata=w.hq), "invalid_argument")
    await refused(w.stub.DeleteTier(pb.DeleteTierRequest(code="standard"), metadata=w.hq), "conflict")
    assert {"standard", code} <= await tier_codes(w)
    await w.stub.DeleteTier(pb.DeleteTierRequest(code=code), metadata=w.hq)


async def test_a_deactivated_promotion_no_longer_discounts_a_quote(loyalty_world):
    w = loyalty_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    promo = await w.stub.CreatePromotion(
        pb.Promotion(name="p-" + cat, kind="category_discount", category=cat, discount_bps=1_000, scope=STORE,
                     active=True),
        metadata=w.hq,
    )  # fmt: skip
    lines = [pb.Line(sku="A", category=cat, qty=1, unit_price=10_000)]
    q = await w.stub.Quote(w.quote_request("", lines), metadata=w.md())
    assert q.total_due == 9_000

    off = await w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=promo.id, active=False), metadata=w.hq)
    assert not off.active and off.name == promo.name
    q = await w.stub.Quote(w.quote_request("", lines), metadata=w.md())
    assert q.total_due == 10_000 and not q.discounts
    listed = await w.stub.ListPromotions(pb.ListPromotionsRequest(), metadata=w.md())
    assert [x.active for x in listed.promotions if x.id == promo.id] == [False]

    on = await w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=promo.id, active=True), metadata=w.hq)
    assert on.active
    q = await w.stub.Quote(w.quote_request("", lines), metadata=w.md())
    assert q.total_due == 9_000


async def test_a_deactivated_earn_rule_no_longer_earns(loyalty_world):
    w = loyalty_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="x5-" + cat, scope=STORE, category=cat, points_per_yuan_bps=50_000, active=True),
        metadata=w.hq,
    )
    m = random_member_no()
    lines = [pb.Line(sku="A", category=cat, qty=1, unit_price=10_000)]
    q = await w.stub.Quote(w.quote_request(m, lines), metadata=w.md())
    assert (q.points_to_earn, list(q.earn_rules)) == (500, [rule.name])

    await w.stub.SetEarnRuleActive(pb.SetRuleActiveRequest(id=rule.id, active=False), metadata=w.hq)
    cid = checkout_id()
    r = await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, lines)), metadata=w.md()
    )
    assert rule.name not in r.quote.earn_rules and r.quote.points_to_earn == 100  # the HQ default
    bought = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert bought.points_earned == 100

    # nothing has earned under it: it may go
    await w.stub.DeleteEarnRule(pb.DeleteRuleRequest(id=rule.id), metadata=w.hq)
    listed = await w.stub.ListEarnRules(pb.ListEarnRulesRequest(), metadata=w.hq)
    assert rule.id not in {x.id for x in listed.rules}
    await refused(
        w.stub.SetEarnRuleActive(pb.SetRuleActiveRequest(id=rule.id, active=True), metadata=w.hq), "not_found"
    )


async def test_a_rule_purchases_used_cannot_be_deleted_only_deactivated(loyalty_world):
    w = loyalty_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="x2-" + cat, scope=STORE, category=cat, points_per_yuan_bps=20_000, active=True),
        metadata=w.hq,
    )
    promo = await w.stub.CreatePromotion(
        pb.Promotion(name="p-" + cat, kind="category_discount", category=cat, discount_bps=500, scope=STORE,
                     active=True),
        metadata=w.hq,
    )  # fmt: skip
    unused = await w.stub.CreatePromotion(
        pb.Promotion(
            name="u-" + cat, kind="member_day", day_of_month=1, discount_bps=500, scope=STORE, active=False
        ),
        metadata=w.hq,
    )
    m = random_member_no()
    cid = checkout_id()
    lines = [pb.Line(sku="A", category=cat, qty=1, unit_price=10_000)]
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, lines)), metadata=w.md())
    bought = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert bought.quote.earn_rules == [rule.name]
    assert [d.rule for d in bought.quote.discounts] == [promo.name]

    await refused(w.stub.DeleteEarnRule(pb.DeleteRuleRequest(id=rule.id), metadata=w.hq), "conflict")
    await refused(w.stub.DeletePromotion(pb.DeleteRuleRequest(id=promo.id), metadata=w.hq), "conflict")
    assert not (await w.stub.SetEarnRuleActive(pb.SetRuleActiveRequest(id=rule.id), metadata=w.hq)).active
    assert not (await w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=promo.id), metadata=w.hq)).active
    await w.stub.DeletePromotion(pb.DeleteRuleRequest(id=unused.id), metadata=w.hq)
    listed = {
        x.id for x in (await w.stub.ListPromotions(pb.ListPromotionsRequest(), metadata=w.hq)).promotions
    }
    assert promo.id in listed and unused.id not in listed


async def test_rule_changes_keep_to_role_and_scope(loyalty_world):
    w = loyalty_world
    east = await w.stub.CreatePromotion(
        pb.Promotion(
            name="east", kind="member_day", day_of_month=2, discount_bps=100, scope="HQ/EAST", active=False
        ),
        metadata=w.hq,
    )
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="east-earn", scope="HQ/EAST", points_per_yuan_bps=10_000, active=False),
        metadata=w.hq,
    )
    # inactive from the start and at the end: the quotes of the other tests share this world
    on = pb.SetRuleActiveRequest(id=east.id, active=False)
    for role in ("store_manager", "clerk", "auditor", "terminal"):
        await refused(w.stub.SetPromotionActive(on, metadata=w.md(role, STORE)), "forbidden")
        await refused(w.stub.DeletePromotion(pb.DeleteRuleRequest(id=east.id), metadata=w.md(role, STORE)),
                      "forbidden")  # fmt: skip
        await refused(
            w.stub.SetEarnRuleActive(pb.SetRuleActiveRequest(id=rule.id), metadata=w.md(role, STORE)),
            "forbidden",
        )
    # an HQ admin account scoped to another region does not see it
    west = w.md("hq_admin", "HQ/WEST")
    await refused(w.stub.SetPromotionActive(on, metadata=west), "out_of_scope")  # 404
    await refused(w.stub.DeleteEarnRule(pb.DeleteRuleRequest(id=rule.id), metadata=west), "out_of_scope")
    for bad in ("", "nope", "123"):
        await refused(
            w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=bad), metadata=w.hq), "invalid_argument"
        )
        await refused(w.stub.DeleteEarnRule(pb.DeleteRuleRequest(id=bad), metadata=w.hq), "invalid_argument")
    await refused(
        w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=str(uuid.uuid4())), metadata=w.hq), "not_found"
    )
    assert not (await w.stub.SetPromotionActive(on, metadata=w.md("hq_admin", "HQ/EAST"))).active


async def test_a_stopped_coupon_template_is_issued_no_more(loyalty_world):
    w = loyalty_world
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="stop-me", kind="amount_off", amount_off=500), metadata=w.hq
    )
    assert tpl.active
    m = random_member_no()
    first = await w.stub.IssueCoupons(
        pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]), metadata=w.hq
    )
    stopped = await w.stub.SetCouponTemplateActive(
        pb.SetRuleActiveRequest(id=tpl.id, active=False), metadata=w.hq
    )
    assert not stopped.active
    await refused(
        w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]),
            metadata=w.hq,
        ),
        "not_found",
    )
    # the coupon already issued stays usable
    q = await w.stub.Quote(w.quote_request(m, coupon_code=first.codes[0]), metadata=w.md())
    assert "coupon" in [d.kind for d in q.discounts]
    assert (
        await w.stub.SetCouponTemplateActive(pb.SetRuleActiveRequest(id=tpl.id, active=True), metadata=w.hq)
    ).active
