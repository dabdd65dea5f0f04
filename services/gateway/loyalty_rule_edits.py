"""Editing loyalty's rules in place over REST and the console (earn rules, coupon templates,
promotions): only the fields given change, and the rule as it would then be is checked as a new
one would be (the loyalty service checks again, with role and scope, and keeps a coupon
template's face value once coupons of it exist)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StrictBool, StrictInt, ValidationError

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit
from services.gateway.loyalty import (
    Bps,
    CouponTemplateBody,
    EarnRuleBody,
    Fen,
    Multiplier,
    PromotionBody,
    _scope,
    coupon_templates,
    earn_rules,
    promotions,
)
from services.gateway.protojson import plain, timestamp
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState


class EarnRulePatch(Strict):
    """The fields of ``EarnRuleBody`` to change; the others keep their values."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    scope: str | None = Field(default=None, max_length=64, description="org unit code")
    category: str | None = Field(default=None, max_length=100)
    points_per_yuan_bps: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    member_day: StrictInt | None = Field(default=None, ge=0, le=31)
    member_day_multiplier_bps: Multiplier | None = None
    birthday_month_multiplier_bps: Multiplier | None = None
    active: StrictBool | None = None


class CouponTemplatePatch(Strict):
    """The fields of ``CouponTemplateBody`` to change (``valid_from``/``valid_until`` null clears
    them); the face value (kind, amount_off, percent_off_bps, gift_sku) only before coupons of it
    were issued (409 after)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Literal["amount_off", "percent_off", "gift"] | None = None
    amount_off: Fen | None = None
    percent_off_bps: Bps | None = None
    min_spend: Fen | None = None
    gift_sku: str | None = Field(default=None, max_length=64)
    valid_days: StrictInt | None = Field(default=None, ge=0, le=3660)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    scope: str | None = Field(default=None, max_length=64, description="org unit code")
    per_member_limit: StrictInt | None = Field(default=None, ge=0, le=1000)
    total_quantity: StrictInt | None = Field(default=None, ge=0, le=10**9)
    campaign: Literal["", "welcome", "birthday", "tier_upgrade", "top_up", "referral"] | None = None


class PromotionPatch(Strict):
    """The fields of ``PromotionBody`` to change (``starts_at``/``ends_at`` null clears them)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Literal["spend_x_save_y", "category_discount", "member_day"] | None = None
    spend_threshold: Fen | None = None
    save_amount: Fen | None = None
    category: str | None = Field(default=None, max_length=100)
    discount_bps: Bps | None = None
    day_of_month: StrictInt | None = Field(default=None, ge=0, le=31)
    members_only: StrictBool | None = None
    scope: str | None = Field(default=None, max_length=64, description="org unit code")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: StrictBool | None = None


CLEARABLE = frozenset({"valid_from", "valid_until", "starts_at", "ends_at"})


def _given(patch: Strict) -> dict[str, Any]:
    """The fields the patch gives (null only for the dates that may be cleared)."""
    given = patch.model_dump(exclude_unset=True)
    if not given:
        raise InvalidArgument("give at least one field to change", field="body")
    for name, value in given.items():
        if value is None and name not in CLEARABLE:
            raise InvalidArgument(f"{name} cannot be null", field=name)
    return given


def _checked_as_created(model: type[Strict], current: dict[str, Any] | None, given: dict[str, Any]) -> None:
    """The rule as it would be after the patch, validated by the create model (422 as create's).
    The rule's scope is checked by the org lookup and the loyalty service."""
    if current is None:  # not in the caller's list: the loyalty service answers (404)
        return
    values = {k: v for k, v in current.items() if k in model.model_fields}
    try:
        model.model_validate({**values, **given, "scope": None})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


async def _patch(
    state: GatewayState, p: Principal, given: dict[str, Any], message: Any, stamps: tuple[str, ...]
) -> list[str]:
    """Fill ``message`` with the given values (the scope's code as its path, dates as
    timestamps); the names of the fields to change."""
    for name, value in given.items():
        if name == "scope":
            message.scope = await _scope(state, p, value)
        elif name in stamps:
            if value is not None:
                getattr(message, name).CopyFrom(timestamp(value))
        else:
            setattr(message, name, value)
    return list(given)


def _found(items: list[dict[str, Any]], rule_id: str) -> dict[str, Any] | None:
    return next((x for x in items if x.get("id") == rule_id), None)


async def update_earn_rule(
    state: GatewayState, request: Request, p: Principal, rule_id: str, patch: EarnRulePatch
) -> dict[str, Any]:
    """Change the given fields of an earn rule (the id stays), audited."""
    given = _given(patch)
    _checked_as_created(EarnRuleBody, _found(await earn_rules(state, p), rule_id), given)
    rule = pb.EarnRule(id=rule_id)
    fields = await _patch(state, p, given, rule, ())
    edited = await state.clients.call(
        state.clients.loyalty.UpdateEarnRule, pb.UpdateEarnRuleRequest(rule=rule, fields=fields), p
    )
    await audit.record_alone(state, request, p, "loyalty.earn_rule.update", "earn_rule", edited.id, edited.scope,
                             patch.model_dump(mode="json", exclude_unset=True))  # fmt: skip
    return plain(edited)


async def update_coupon_template(
    state: GatewayState, request: Request, p: Principal, template_id: str, patch: CouponTemplatePatch
) -> dict[str, Any]:
    """Change the given fields of a coupon template (its face value only while none was
    issued), audited."""
    given = _given(patch)
    _checked_as_created(CouponTemplateBody, _found(await coupon_templates(state, p), template_id), given)
    tpl = pb.CouponTemplate(id=template_id)
    fields = await _patch(state, p, given, tpl, ("valid_from", "valid_until"))
    edited = await state.clients.call(
        state.clients.loyalty.UpdateCouponTemplate,
        pb.UpdateCouponTemplateRequest(template=tpl, fields=fields),
        p,
    )
    await audit.record_alone(state, request, p, "loyalty.coupon_template.update", "coupon_template", edited.id,
                             edited.scope, patch.model_dump(mode="json", exclude_unset=True))  # fmt: skip
    return plain(edited)


async def update_promotion(
    state: GatewayState, request: Request, p: Principal, promotion_id: str, patch: PromotionPatch
) -> dict[str, Any]:
    """Change the given fields of a promotion (the id stays), audited."""
    given = _given(patch)
    _checked_as_created(PromotionBody, _found(await promotions(state, p), promotion_id), given)
    promo = pb.Promotion(id=promotion_id)
    fields = await _patch(state, p, given, promo, ("starts_at", "ends_at"))
    edited = await state.clients.call(
        state.clients.loyalty.UpdatePromotion, pb.UpdatePromotionRequest(promotion=promo, fields=fields), p
    )
    await audit.record_alone(state, request, p, "loyalty.promotion.update", "promotion", edited.id, edited.scope,
                             patch.model_dump(mode="json", exclude_unset=True))  # fmt: skip
    return plain(edited)
