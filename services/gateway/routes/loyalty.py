"""Loyalty (docs/api.md "Loyalty"): a member's points, history and coupons (scoped through the
members service first), tiers, earn rules, coupon templates, promotions and issuing coupons.
The loyalty service owns the data; the gateway resolves org codes and maps JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kit.auth import Principal
from services.gateway import loyalty, loyalty_rule_edits
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.loyalty import (
    CouponTemplateBody,
    EarnRuleBody,
    IssueBody,
    PromotionBody,
    TierBody,
)
from services.gateway.loyalty_rule_edits import CouponTemplatePatch, EarnRulePatch, PromotionPatch

router = APIRouter(prefix="/api/v1", tags=["loyalty"])

RuleId = Annotated[str, Path(max_length=64, description="the rule's id")]


# --- a member's points and coupons ------------------------------------------------------------
@router.get("/members/{member_no}/points", response_model=loyalty.Points)
async def points(
    member_no: str, p: Annotated[Principal, Depends(permitted("loyalty.points.read"))], state: State
) -> dict:
    return await loyalty.points(state, p, member_no)


@router.get("/members/{member_no}/points/history", response_model=loyalty.PointsHistory)
async def points_history(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("loyalty.points.read"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict:
    return await loyalty.points_history(state, p, member_no, limit, cursor)


@router.get("/members/{member_no}/coupons", response_model=loyalty.MemberCoupons)
async def member_coupons(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("loyalty.coupons.read"))],
    state: State,
    status: Literal["available", "reserved", "redeemed", "expired"] | None = None,
) -> dict:
    return await loyalty.member_coupons(state, p, member_no, status)


# --- rules ------------------------------------------------------------------------------------
@router.get("/loyalty/tiers")
async def tiers(p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State) -> dict:
    return {"items": await loyalty.tiers(state, p), "next_cursor": None}


@router.post("/loyalty/tiers", status_code=201)
async def upsert_tier(
    body: TierBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.tiers.write"))],
    state: State,
) -> dict:
    return await loyalty.upsert_tier(state, request, p, body)


@router.delete("/loyalty/tiers/{code}", status_code=204)
async def delete_tier(
    code: Annotated[str, Path(max_length=32)],
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.tiers.write"))],
    state: State,
) -> Response:
    """Delete a tier no member is on (409 ``conflict`` saying how many are)."""
    await loyalty.delete_tier(state, request, p, code)
    return Response(status_code=204)


@router.get("/loyalty/earn-rules")
async def earn_rules(p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State) -> dict:
    return {"items": await loyalty.earn_rules(state, p), "next_cursor": None}


@router.post("/loyalty/earn-rules", status_code=201)
async def create_earn_rule(
    body: EarnRuleBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    return await loyalty.create_earn_rule(state, request, p, body)


@router.post("/loyalty/earn-rules/{rule_id}/deactivate")
async def deactivate_earn_rule(
    rule_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Deactivate an earn rule: it earns nothing until activated again."""
    return await loyalty.set_earn_rule_active(state, request, p, rule_id, False)


@router.post("/loyalty/earn-rules/{rule_id}/activate")
async def activate_earn_rule(
    rule_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Activate an earn rule again."""
    return await loyalty.set_earn_rule_active(state, request, p, rule_id, True)


@router.delete("/loyalty/earn-rules/{rule_id}", status_code=204)
async def delete_earn_rule(
    rule_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> Response:
    """Delete an earn rule nothing has earned under (409 ``conflict``: deactivate it instead)."""
    await loyalty.delete_earn_rule(state, request, p, rule_id)
    return Response(status_code=204)


@router.get("/loyalty/coupon-templates")
async def coupon_templates(
    p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State
) -> dict:
    return {"items": await loyalty.coupon_templates(state, p), "next_cursor": None}


@router.post("/loyalty/coupon-templates", status_code=201)
async def create_coupon_template(
    body: CouponTemplateBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    return await loyalty.create_coupon_template(state, request, p, body)


@router.post("/loyalty/coupon-templates/{template_id}/issue", status_code=201)
async def issue_coupons(
    template_id: str,
    body: IssueBody,
    p: Annotated[Principal, Depends(permitted("loyalty.coupons.issue"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    return await loyalty.issue_coupons(state, request, p, key, template_id, body)


@router.get("/loyalty/promotions")
async def promotions(p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State) -> dict:
    return {"items": await loyalty.promotions(state, p), "next_cursor": None}


@router.post("/loyalty/promotions", status_code=201)
async def create_promotion(
    body: PromotionBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    return await loyalty.create_promotion(state, request, p, body)


@router.post("/loyalty/promotions/{promotion_id}/deactivate")
async def deactivate_promotion(
    promotion_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Deactivate a promotion: it discounts nothing until activated again."""
    return await loyalty.set_promotion_active(state, request, p, promotion_id, False)


@router.post("/loyalty/promotions/{promotion_id}/activate")
async def activate_promotion(
    promotion_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Activate a promotion again."""
    return await loyalty.set_promotion_active(state, request, p, promotion_id, True)


@router.delete("/loyalty/promotions/{promotion_id}", status_code=204)
async def delete_promotion(
    promotion_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> Response:
    """Delete a promotion no purchase was discounted by (409 ``conflict``: deactivate it instead)."""
    await loyalty.delete_promotion(state, request, p, promotion_id)
    return Response(status_code=204)


@router.post("/loyalty/coupon-templates/{template_id}/deactivate")
async def deactivate_coupon_template(
    template_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Stop issuing a coupon template (by hand or by a campaign); coupons issued stay usable."""
    return await loyalty.set_coupon_template_active(state, request, p, template_id, False)


@router.post("/loyalty/coupon-templates/{template_id}/activate")
async def activate_coupon_template(
    template_id: RuleId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Issue a coupon template again."""
    return await loyalty.set_coupon_template_active(state, request, p, template_id, True)


# --- editing rules in place (only the fields given change; validated as on create) -------------
@router.patch("/loyalty/earn-rules/{rule_id}")
async def update_earn_rule(
    rule_id: RuleId,
    body: EarnRulePatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Change the given fields of an earn rule; the id stays. A rule purchases have earned
    under keeps its name (409 ``conflict``)."""
    return await loyalty_rule_edits.update_earn_rule(state, request, p, rule_id, body)


@router.patch("/loyalty/coupon-templates/{template_id}")
async def update_coupon_template(
    template_id: RuleId,
    body: CouponTemplatePatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Change the given fields of a coupon template; its face value (kind, amount_off,
    percent_off_bps, gift_sku) cannot change once coupons of it were issued (409 ``conflict``)."""
    return await loyalty_rule_edits.update_coupon_template(state, request, p, template_id, body)


@router.patch("/loyalty/promotions/{promotion_id}")
async def update_promotion(
    promotion_id: RuleId,
    body: PromotionPatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    """Change the given fields of a promotion; the id stays. A promotion purchases were
    discounted by keeps its name (409 ``conflict``)."""
    return await loyalty_rule_edits.update_promotion(state, request, p, promotion_id, body)
