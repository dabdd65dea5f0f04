"""Loyalty (docs/api.md "Loyalty"): a member's points, history and coupons (scoped through the
members service first), tiers, earn rules, coupon templates, promotions and issuing coupons.
The loyalty service owns the data; the gateway resolves org codes and maps JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, StrictBool, StrictInt, model_validator

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit, loyalty
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.org import unit_path
from services.gateway.protojson import plain, timestamp
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

router = APIRouter(prefix="/api/v1", tags=["loyalty"])

MAX_FEN = 10**11
Fen = Annotated[StrictInt, Field(ge=0, le=MAX_FEN)]
Bps = Annotated[StrictInt, Field(ge=0, le=10_000)]
Multiplier = Annotated[StrictInt, Field(ge=0, le=100_000)]


class TierBody(Strict):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=100)
    rank: StrictInt = Field(ge=0, le=100)
    min_spend_12m: Fen = 0
    min_points_12m: Annotated[StrictInt, Field(ge=0, le=10**12)] = 0
    discount_bps: Bps = 0
    points_multiplier_bps: Multiplier = 10_000
    birthday_gift_template_id: str = Field(default="", max_length=64)


class EarnRuleBody(Strict):
    name: str = Field(min_length=1, max_length=200)
    scope: str | None = Field(default=None, max_length=64, description="org unit code; default: the caller's")
    category: str = Field(default="", max_length=100)
    points_per_yuan_bps: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 10_000
    member_day: StrictInt = Field(default=0, ge=0, le=31)
    member_day_multiplier_bps: Multiplier = 10_000
    birthday_month_multiplier_bps: Multiplier = 10_000
    active: StrictBool = True


class CouponTemplateBody(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["amount_off", "percent_off", "gift"]
    amount_off: Fen = 0
    percent_off_bps: Bps = 0
    min_spend: Fen = 0
    gift_sku: str = Field(default="", max_length=64)
    valid_days: StrictInt = Field(default=0, ge=0, le=3660)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    scope: str | None = Field(default=None, max_length=64, description="org unit code; default: the caller's")
    per_member_limit: StrictInt = Field(default=0, ge=0, le=1000)
    total_quantity: StrictInt = Field(default=0, ge=0, le=10**9)
    campaign: Literal["", "welcome", "birthday", "tier_upgrade", "top_up", "referral"] = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> CouponTemplateBody:
        if self.kind == "amount_off" and self.amount_off <= 0:
            raise ValueError("an amount_off coupon needs amount_off > 0")
        if self.kind == "percent_off" and not 0 < self.percent_off_bps <= 10_000:
            raise ValueError("a percent_off coupon needs percent_off_bps in 1..10000")
        if self.kind == "gift" and not self.gift_sku:
            raise ValueError("a gift coupon needs gift_sku")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class PromotionBody(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["spend_x_save_y", "category_discount", "member_day"]
    spend_threshold: Fen = 0
    save_amount: Fen = 0
    category: str = Field(default="", max_length=100)
    discount_bps: Bps = 0
    day_of_month: StrictInt = Field(default=0, ge=0, le=31)
    members_only: StrictBool = False
    scope: str | None = Field(default=None, max_length=64, description="org unit code; default: the caller's")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: StrictBool = True

    @model_validator(mode="after")
    def _kind_fields(self) -> PromotionBody:
        if self.kind == "spend_x_save_y" and not (0 < self.save_amount <= self.spend_threshold):
            raise ValueError("spend_x_save_y needs 0 < save_amount <= spend_threshold")
        if self.kind in ("category_discount", "member_day") and not 0 < self.discount_bps <= 10_000:
            raise ValueError(f"{self.kind} needs discount_bps in 1..10000")
        if self.kind == "category_discount" and not self.category:
            raise ValueError("category_discount needs a category")
        if self.kind == "member_day" and not self.day_of_month:
            raise ValueError("member_day needs day_of_month")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class IssueBody(Strict):
    member_nos: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, min_length=1, max_length=10_000
    )
    segment: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> IssueBody:
        if (self.member_nos is None) == (self.segment is None):
            raise ValueError("give either member_nos or segment")
        return self


async def _scope(state: GatewayState, p: Principal, code: str | None) -> str:
    return await unit_path(state, p, code, field="scope") if code else p.scope


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
    reply = await state.clients.call(state.clients.loyalty.ListTiers, pb.ListTiersRequest(), p)
    return {"items": [plain(t) for t in reply.tiers], "next_cursor": None}


@router.post("/loyalty/tiers", status_code=201)
async def upsert_tier(
    body: TierBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.tiers.write"))],
    state: State,
) -> dict:
    tier = await state.clients.call(state.clients.loyalty.UpsertTier, pb.Tier(**body.model_dump()), p)
    await audit.record_alone(
        state, request, p, "loyalty.tier.put", "tier", tier.code, "HQ", body.model_dump()
    )
    return plain(tier)


@router.get("/loyalty/earn-rules")
async def earn_rules(p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State) -> dict:
    reply = await state.clients.call(state.clients.loyalty.ListEarnRules, pb.ListEarnRulesRequest(), p)
    return {"items": [plain(r) for r in reply.rules], "next_cursor": None}


@router.post("/loyalty/earn-rules", status_code=201)
async def create_earn_rule(
    body: EarnRuleBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    scope = await _scope(state, p, body.scope)
    rule = await state.clients.call(
        state.clients.loyalty.CreateEarnRule, pb.EarnRule(**{**body.model_dump(), "scope": scope}), p
    )
    await audit.record_alone(state, request, p, "loyalty.earn_rule.create", "earn_rule", rule.id, scope,
                             body.model_dump())  # fmt: skip
    return plain(rule)


@router.get("/loyalty/coupon-templates")
async def coupon_templates(
    p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State
) -> dict:
    reply = await state.clients.call(
        state.clients.loyalty.ListCouponTemplates, pb.ListCouponTemplatesRequest(), p
    )
    return {"items": [plain(t) for t in reply.templates], "next_cursor": None}


@router.post("/loyalty/coupon-templates", status_code=201)
async def create_coupon_template(
    body: CouponTemplateBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    scope = await _scope(state, p, body.scope)
    values = body.model_dump(exclude={"valid_from", "valid_until", "scope"})
    req = pb.CouponTemplate(
        **values, scope=scope, valid_from=timestamp(body.valid_from), valid_until=timestamp(body.valid_until)
    )
    tpl = await state.clients.call(state.clients.loyalty.CreateCouponTemplate, req, p)
    await audit.record_alone(state, request, p, "loyalty.coupon_template.create", "coupon_template", tpl.id, scope,
                             body.model_dump(mode="json"))  # fmt: skip
    return plain(tpl)


@router.post("/loyalty/coupon-templates/{template_id}/issue", status_code=201)
async def issue_coupons(
    template_id: str,
    body: IssueBody,
    p: Annotated[Principal, Depends(permitted("loyalty.coupons.issue"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    for i, member_no in enumerate(body.member_nos or ()):
        try:
            await loyalty.member_in_scope(state, p, member_no)
        except Exception as exc:
            if getattr(exc, "reason", None) in ("not_found", "out_of_scope"):
                raise InvalidArgument(f"unknown member {member_no!r}", field=f"member_nos.{i}") from None
            raise
    req = pb.IssueCouponsRequest(request_id=key, template_id=template_id, member_nos=body.member_nos or [],
                                 segment=body.segment or "")  # fmt: skip
    reply = await state.clients.call(state.clients.loyalty.IssueCoupons, req, p, timeout=60)
    await audit.record_alone(state, request, p, "loyalty.coupons.issue", "coupon_template", template_id, p.scope,
                             {"members": len(body.member_nos or ()), "segment": body.segment,
                              "issued": reply.issued})  # fmt: skip
    return plain(reply)


@router.get("/loyalty/promotions")
async def promotions(p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State) -> dict:
    reply = await state.clients.call(state.clients.loyalty.ListPromotions, pb.ListPromotionsRequest(), p)
    return {"items": [plain(x) for x in reply.promotions], "next_cursor": None}


@router.post("/loyalty/promotions", status_code=201)
async def create_promotion(
    body: PromotionBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rules.write"))],
    state: State,
) -> dict:
    scope = await _scope(state, p, body.scope)
    values = body.model_dump(exclude={"starts_at", "ends_at", "scope"})
    req = pb.Promotion(
        **values, scope=scope, starts_at=timestamp(body.starts_at), ends_at=timestamp(body.ends_at)
    )
    promo = await state.clients.call(state.clients.loyalty.CreatePromotion, req, p)
    await audit.record_alone(state, request, p, "loyalty.promotion.create", "promotion", promo.id, scope,
                             body.model_dump(mode="json"))  # fmt: skip
    return plain(promo)
