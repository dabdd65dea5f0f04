"""Editing loyalty rules in place on real PostgreSQL and gRPC: only the named fields change,
the result is validated as on create, role and scope as on create, a coupon template's face
value is fixed once issued, a used rule keeps its name, and quotes use the edited values."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc
import pytest

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import ChainclubError, from_rpc_error
from tests.loyalty.conftest import STORE, random_member_no
from tests.loyalty.test_rule_changes import checkout_id, refused

pytestmark = pytest.mark.integration


async def refused_with(call) -> ChainclubError:  # type: ignore[no-untyped-def]
    """The error the call was refused with (its reason and extras, e.g. the field)."""
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call
    return from_rpc_error(exc.value)


def cat() -> str:
    return "cat-" + uuid.uuid4().hex[:6]


async def test_an_edited_earn_rule_keeps_its_id_and_the_next_quote_earns_by_it(loyalty_world):
    w = loyalty_world
    c = cat()
    # A member day that is not today in the chain's time zone: the quotes earn the base rate.
    today = datetime.now(ZoneInfo(w.settings.chain_timezone)).day
    day = 3 if today != 3 else 4
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="e-" + c, scope=STORE, category=c, points_per_yuan_bps=20_000, member_day=day,
                    member_day_multiplier_bps=20_000, active=True),
        metadata=w.hq,
    )  # fmt: skip
    m = random_member_no()
    lines = [pb.Line(sku="A", category=c, qty=1, unit_price=10_000)]
    assert (await w.stub.Quote(w.quote_request(m, lines), metadata=w.md())).points_to_earn == 200

    edited = await w.stub.UpdateEarnRule(
        pb.UpdateEarnRuleRequest(
            rule=pb.EarnRule(id=rule.id, name="e2-" + c, points_per_yuan_bps=30_000, member_day=9),
            fields=["name", "points_per_yuan_bps"],
        ),
        metadata=w.hq,
    )
    # only the named fields changed: member_day stays, the rest as before
    assert (edited.id, edited.name, edited.points_per_yuan_bps) == (rule.id, "e2-" + c, 30_000)
    assert (edited.member_day, edited.member_day_multiplier_bps, edited.scope, edited.category) == (
        day, 20_000, STORE, c,
    )  # fmt: skip
    assert edited.active
    q = await w.stub.Quote(w.quote_request(m, lines), metadata=w.md())
    assert (q.points_to_earn, list(q.earn_rules)) == (300, ["e2-" + c])
    listed = await w.stub.ListEarnRules(pb.ListEarnRulesRequest(), metadata=w.hq)
    assert [x.name for x in listed.rules if x.id == rule.id] == ["e2-" + c]

    # validated as on create: nothing changes
    for fields, values, field in (
        (["name"], pb.EarnRule(name=""), "name"),
        (["points_per_yuan_bps"], pb.EarnRule(points_per_yuan_bps=1_000_001), "points_per_yuan_bps"),
        (["member_day"], pb.EarnRule(member_day=32), "member_day"),
        (
            ["member_day_multiplier_bps"],
            pb.EarnRule(member_day_multiplier_bps=100_001),
            "member_day_multiplier_bps",
        ),
        (["scope"], pb.EarnRule(scope="ELSEWHERE"), "scope"),
        (["id"], pb.EarnRule(), "fields"),
        (["nope"], pb.EarnRule(), "fields"),
        ([], pb.EarnRule(), "fields"),
    ):
        values.id = rule.id
        error = await refused_with(
            w.stub.UpdateEarnRule(pb.UpdateEarnRuleRequest(rule=values, fields=fields), metadata=w.hq)
        )
        assert (error.reason, error.extra.get("field")) == ("invalid_argument", field), error
    again = await w.stub.ListEarnRules(pb.ListEarnRulesRequest(), metadata=w.hq)
    assert [x for x in again.rules if x.id == rule.id] == [edited]

    # deactivating through an edit: it earns nothing
    off = await w.stub.UpdateEarnRule(
        pb.UpdateEarnRuleRequest(rule=pb.EarnRule(id=rule.id, active=False), fields=["active"]), metadata=w.hq
    )
    assert not off.active
    q = await w.stub.Quote(w.quote_request(m, lines), metadata=w.md())
    assert "e2-" + c not in q.earn_rules


async def test_a_used_earn_rule_keeps_its_name_other_fields_change(loyalty_world):
    w = loyalty_world
    c = cat()
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="u-" + c, scope=STORE, category=c, points_per_yuan_bps=20_000, active=True),
        metadata=w.hq,
    )
    m, cid = random_member_no(), checkout_id()
    lines = [pb.Line(sku="A", category=c, qty=1, unit_price=10_000)]
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, lines)), metadata=w.md())
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())

    detail = await refused(
        w.stub.UpdateEarnRule(
            pb.UpdateEarnRuleRequest(rule=pb.EarnRule(id=rule.id, name="renamed-" + c), fields=["name"]),
            metadata=w.hq,
        ),
        "conflict",
    )
    assert "u-" + c in detail
    kept = await w.stub.UpdateEarnRule(
        pb.UpdateEarnRuleRequest(
            rule=pb.EarnRule(id=rule.id, name="u-" + c, points_per_yuan_bps=10_000, active=False),
            fields=["name", "points_per_yuan_bps", "active"],
        ),
        metadata=w.hq,
    )
    assert (kept.name, kept.points_per_yuan_bps, kept.active) == ("u-" + c, 10_000, False)


async def test_an_edited_promotion_discounts_the_next_quote_by_its_new_terms(loyalty_world):
    w = loyalty_world
    c = cat()
    promo = await w.stub.CreatePromotion(
        pb.Promotion(name="p-" + c, kind="category_discount", category=c, discount_bps=1_000, scope=STORE,
                     active=True),
        metadata=w.hq,
    )  # fmt: skip
    lines = [pb.Line(sku="A", category=c, qty=1, unit_price=10_000)]
    assert (await w.stub.Quote(w.quote_request("", lines), metadata=w.md())).total_due == 9_000

    edited = await w.stub.UpdatePromotion(
        pb.UpdatePromotionRequest(
            promotion=pb.Promotion(id=promo.id, discount_bps=2_500), fields=["discount_bps"]
        ),
        metadata=w.hq,
    )
    assert (edited.id, edited.name, edited.discount_bps, edited.category) == (promo.id, promo.name, 2_500, c)
    q = await w.stub.Quote(w.quote_request("", lines), metadata=w.md())
    assert q.total_due == 7_500 and [d.rule for d in q.discounts] == [promo.name]

    # a change of kind is checked as a new promotion of that kind would be
    await refused(
        w.stub.UpdatePromotion(
            pb.UpdatePromotionRequest(
                promotion=pb.Promotion(id=promo.id, kind="spend_x_save_y"), fields=["kind"]
            ),
            metadata=w.hq,
        ),
        "invalid_argument",
    )
    await refused(
        w.stub.UpdatePromotion(
            pb.UpdatePromotionRequest(promotion=pb.Promotion(id=promo.id, kind="nope"), fields=["kind"]),
            metadata=w.hq,
        ),
        "invalid_argument",
    )
    start = pb.Promotion(id=promo.id)
    start.starts_at.FromSeconds(2_000_000_000)
    start.ends_at.FromSeconds(1_900_000_000)
    await refused(
        w.stub.UpdatePromotion(
            pb.UpdatePromotionRequest(promotion=start, fields=["starts_at", "ends_at"]), metadata=w.hq
        ),
        "invalid_argument",
    )
    # it starts in the future: the quote has no discount; clearing the start brings it back
    later = pb.Promotion(id=promo.id)
    later.starts_at.FromSeconds(4_000_000_000)
    moved = await w.stub.UpdatePromotion(
        pb.UpdatePromotionRequest(promotion=later, fields=["starts_at"]), metadata=w.hq
    )
    assert moved.starts_at.seconds == 4_000_000_000
    assert (await w.stub.Quote(w.quote_request("", lines), metadata=w.md())).total_due == 10_000
    cleared = await w.stub.UpdatePromotion(
        pb.UpdatePromotionRequest(promotion=pb.Promotion(id=promo.id), fields=["starts_at"]), metadata=w.hq
    )
    assert not cleared.HasField("starts_at")
    assert (await w.stub.Quote(w.quote_request("", lines), metadata=w.md())).total_due == 7_500
    await w.stub.SetPromotionActive(pb.SetRuleActiveRequest(id=promo.id, active=False), metadata=w.hq)


async def test_a_coupon_templates_face_value_is_fixed_once_issued(loyalty_world):
    w = loyalty_world
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="edit-me", kind="amount_off", amount_off=500, total_quantity=10), metadata=w.hq
    )
    # before any coupon of it: the face value may change
    raised = await w.stub.UpdateCouponTemplate(
        pb.UpdateCouponTemplateRequest(
            template=pb.CouponTemplate(id=tpl.id, amount_off=800), fields=["amount_off"]
        ),
        metadata=w.hq,
    )
    assert (raised.id, raised.amount_off, raised.name) == (tpl.id, 800, "edit-me")
    m = random_member_no()
    issued = await w.stub.IssueCoupons(
        pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]), metadata=w.hq
    )
    assert issued.issued == 1

    for values, fields in (
        (pb.CouponTemplate(amount_off=900), ["amount_off"]),
        (pb.CouponTemplate(kind="percent_off", percent_off_bps=1_000), ["kind", "percent_off_bps"]),
    ):
        values.id = tpl.id
        detail = await refused(
            w.stub.UpdateCouponTemplate(
                pb.UpdateCouponTemplateRequest(template=values, fields=fields), metadata=w.hq
            ),
            "conflict",
        )
        assert "issued" in detail and "edit-me" in detail
    # the same face value given again, and the other fields, change
    renamed = await w.stub.UpdateCouponTemplate(
        pb.UpdateCouponTemplateRequest(
            template=pb.CouponTemplate(
                id=tpl.id, name="edited", amount_off=800, min_spend=2_000, valid_days=30
            ),
            fields=["name", "amount_off", "min_spend", "valid_days"],
        ),
        metadata=w.hq,
    )
    assert (renamed.name, renamed.amount_off, renamed.min_spend, renamed.valid_days, renamed.issued) == (
        "edited", 800, 2_000, 30, 1,
    )  # fmt: skip
    # the member's coupon is worth what it was issued for, under the new minimum spend
    coupons = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=m), metadata=w.hq)
    assert [(x.amount_off, x.min_spend, x.name) for x in coupons.coupons] == [(800, 2_000, "edited")]
    q = await w.stub.Quote(w.quote_request(m, coupon_code=issued.codes[0]), metadata=w.md())
    assert [d.amount for d in q.discounts if d.kind == "coupon"] == [800]

    detail = await refused(
        w.stub.UpdateCouponTemplate(
            pb.UpdateCouponTemplateRequest(template=pb.CouponTemplate(id=tpl.id), fields=["name"]),
            metadata=w.hq,
        ),
        "invalid_argument",
    )
    assert "name" in detail
    await refused(
        w.stub.UpdateCouponTemplate(
            pb.UpdateCouponTemplateRequest(
                template=pb.CouponTemplate(id=tpl.id, issued=0), fields=["issued"]
            ),
            metadata=w.hq,
        ),
        "invalid_argument",
    )
    # not below what was issued already (0 = unlimited is fine)
    await refused(
        w.stub.UpdateCouponTemplate(
            pb.UpdateCouponTemplateRequest(
                template=pb.CouponTemplate(id=tpl.id, total_quantity=0, per_member_limit=-1),
                fields=["per_member_limit"],
            ),
            metadata=w.hq,
        ),
        "invalid_argument",
    )
    unlimited = await w.stub.UpdateCouponTemplate(
        pb.UpdateCouponTemplateRequest(template=pb.CouponTemplate(id=tpl.id), fields=["total_quantity"]),
        metadata=w.hq,
    )
    assert unlimited.total_quantity == 0


async def test_editing_keeps_to_role_and_scope_as_creating(loyalty_world):
    w = loyalty_world
    rule = await w.stub.CreateEarnRule(
        pb.EarnRule(name="hq-" + cat(), scope="HQ", category=cat(), points_per_yuan_bps=10_000, active=False),
        metadata=w.hq,
    )
    east = await w.stub.CreatePromotion(
        pb.Promotion(name="east-" + cat(), kind="member_day", day_of_month=2, discount_bps=100, scope="HQ/EAST",
                     active=False),
        metadata=w.hq,
    )  # fmt: skip
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="east-tpl", kind="amount_off", amount_off=100, scope="HQ/EAST"), metadata=w.hq
    )
    rename_rule = pb.UpdateEarnRuleRequest(rule=pb.EarnRule(id=rule.id, name="x"), fields=["name"])
    rename_promo = pb.UpdatePromotionRequest(promotion=pb.Promotion(id=east.id, name="x"), fields=["name"])
    rename_tpl = pb.UpdateCouponTemplateRequest(
        template=pb.CouponTemplate(id=tpl.id, name="x"), fields=["name"]
    )
    # a region manager cannot edit an HQ rule (nor any: creating is HQ's too)
    for role, scope in (("region_manager", "HQ/EAST"), ("store_manager", STORE), ("clerk", STORE),
                        ("auditor", "HQ")):  # fmt: skip
        await refused(w.stub.UpdateEarnRule(rename_rule, metadata=w.md(role, scope)), "forbidden")
        await refused(w.stub.UpdatePromotion(rename_promo, metadata=w.md(role, scope)), "forbidden")
        await refused(w.stub.UpdateCouponTemplate(rename_tpl, metadata=w.md(role, scope)), "forbidden")
    # an HQ admin scoped to a region: the chain-wide rule is not theirs, the west does not see the east
    await refused(w.stub.UpdateEarnRule(rename_rule, metadata=w.md("hq_admin", "HQ/EAST")), "out_of_scope")
    west = w.md("hq_admin", "HQ/WEST")
    await refused(w.stub.UpdatePromotion(rename_promo, metadata=west), "out_of_scope")
    await refused(w.stub.UpdateCouponTemplate(rename_tpl, metadata=west), "out_of_scope")
    # the east's admin edits the east's rules, but cannot move them out of the east
    east_admin = w.md("hq_admin", "HQ/EAST")
    assert (await w.stub.UpdatePromotion(rename_promo, metadata=east_admin)).name == "x"
    await refused(
        w.stub.UpdatePromotion(
            pb.UpdatePromotionRequest(promotion=pb.Promotion(id=east.id, scope="HQ"), fields=["scope"]),
            metadata=east_admin,
        ),
        "invalid_argument",
    )
    moved = await w.stub.UpdateCouponTemplate(
        pb.UpdateCouponTemplateRequest(template=pb.CouponTemplate(id=tpl.id, scope=STORE), fields=["scope"]),
        metadata=east_admin,
    )
    assert moved.scope == STORE
    for bad in ("", "nope"):
        await refused(
            w.stub.UpdateEarnRule(
                pb.UpdateEarnRuleRequest(rule=pb.EarnRule(id=bad, name="x"), fields=["name"]), metadata=w.hq
            ),
            "invalid_argument",
        )
    await refused(
        w.stub.UpdatePromotion(
            pb.UpdatePromotionRequest(
                promotion=pb.Promotion(id=str(uuid.uuid4()), name="x"), fields=["name"]
            ),
            metadata=w.hq,
        ),
        "not_found",
    )
