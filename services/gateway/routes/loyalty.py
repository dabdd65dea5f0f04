"""Loyalty (docs/api.md "Loyalty"): a member's points, history and coupons (scoped through the
members service first), tiers, earn rules, coupon templates, promotions and issuing coupons.
The loyalty service owns the data; the gateway resolves org codes and maps JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from kit.auth import Principal
from services.gateway import loyalty
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.loyalty import CouponTemplateBody, EarnRuleBody, IssueBody, PromotionBody, TierBody

router = APIRouter(prefix="/api/v1", tags=["loyalty"])


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
