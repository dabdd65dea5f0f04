"""Loyalty use cases the REST routes (routes/loyalty.py), identify, the member profile and
the pages share: a member's points, their history and coupons (the member is first looked up
through the members service: its scope decides, 404 outside it); tiers, earn rules, coupon
templates and issuing them, promotions. Loyalty owns the figures and the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument
from services.gateway import audit
from services.gateway.org import unit_path
from services.gateway.protojson import plain, timestamp
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

READ_TIMEOUT = 3  # seconds; the counter does not wait longer for figures it can do without


# --- answers (the JSON of the routes, field for field) -------------------------------------------
class ExpiringPoints(BaseModel):
    points: int
    expires_on: str


class Points(BaseModel):
    member_no: str
    balance: int
    reserved: int
    expiring: list[ExpiringPoints]
    tier: str | None


class PointsEntry(BaseModel):
    id: str
    kind: str = Field(description="earn, redeem, reserve, release, expire, clawback, adjust, bonus")
    points: int = Field(description="signed")
    reference: str
    rules: list[str]
    at: str | None


class PointsHistory(BaseModel):
    items: list[PointsEntry]
    next_cursor: str | None


class MemberCoupon(BaseModel):
    code: str
    template_id: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    status: str = Field(description="available, reserved, redeemed, expired")
    valid_from: str | None
    valid_until: str | None


class MemberCoupons(BaseModel):
    items: list[MemberCoupon]
    next_cursor: None


class CouponBrief(BaseModel):
    """A coupon the member can use now, as the counter shows it."""

    code: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    valid_until: str | None


# --- gRPC reads ----------------------------------------------------------------------------------
async def member_in_scope(state: GatewayState, p: Principal, member_no: str) -> None:
    """The member must be in the caller's scope (else 404, as the members service says)."""
    await state.clients.call(state.clients.members.GetMember, mpb.GetMemberRequest(member_no=member_no), p)


async def points_balance(
    state: GatewayState, p: Principal, member_no: str, timeout: float = 15.0
) -> pb.PointsBalance | None:
    """Loyalty's points account of the member; None when it has none yet (the member never
    earned). Raises what loyalty answers otherwise."""
    try:
        return await state.clients.call(
            state.clients.loyalty.GetPoints, pb.GetPointsRequest(member_no=member_no), p, timeout=timeout
        )
    except ChainclubError as exc:
        if exc.reason != "not_found":
            raise
        return None


async def coupons_of(
    state: GatewayState, p: Principal, member_no: str, status: str | None = None, timeout: float = 15.0
) -> list[pb.MemberCoupon]:
    """The member's coupons (of one status); an available coupon past its end is "expired"."""
    req = pb.ListMemberCouponsRequest(member_no=member_no, status=status or "")
    reply = await state.clients.call(state.clients.loyalty.ListMemberCoupons, req, p, timeout=timeout)
    return list(reply.coupons)


def usable(c: pb.MemberCoupon, now: datetime) -> bool:
    """Available, already valid and not expired."""
    if c.status != "available":
        return False
    if c.HasField("valid_from") and c.valid_from.ToDatetime(tzinfo=UTC) > now:
        return False
    return not (c.HasField("valid_until") and c.valid_until.ToDatetime(tzinfo=UTC) <= now)


def coupon_brief(c: pb.MemberCoupon) -> dict[str, Any]:
    """-> ``CouponBrief``."""
    until = c.valid_until.ToDatetime(tzinfo=UTC).isoformat() if c.HasField("valid_until") else None
    return {
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "amount_off": c.amount_off,
        "percent_off_bps": c.percent_off_bps,
        "min_spend": c.min_spend,
        "valid_until": until,
    }


async def counter_points(state: GatewayState, p: Principal, member_no: str) -> tuple[int | None, str | None]:
    """(points, tier) as identify and the profile show them: the balance (0 without an
    account) and loyalty's tier (None without an account: members' tier stands); (None, None)
    when loyalty does not answer, so the counter keeps working without it."""
    try:
        b = await points_balance(state, p, member_no, timeout=READ_TIMEOUT)
    except ChainclubError:
        return None, None
    if b is None:
        return 0, None
    return b.balance, b.tier or None


async def usable_coupons(state: GatewayState, p: Principal, member_no: str) -> list[dict[str, Any]]:
    """The coupons the member can use now (``CouponBrief``); [] when loyalty does not answer."""
    try:
        found = await coupons_of(state, p, member_no, "available", timeout=READ_TIMEOUT)
    except ChainclubError:
        return []
    now = datetime.now(UTC)
    return [coupon_brief(c) for c in found if usable(c, now)]


# --- use cases -----------------------------------------------------------------------------------
async def points(state: GatewayState, p: Principal, member_no: str) -> dict[str, Any]:
    """The member's points. -> ``Points`` (all zero before the member's first points)."""
    await member_in_scope(state, p, member_no)
    b = await points_balance(state, p, member_no) or pb.PointsBalance(member_no=member_no)
    return {
        "member_no": member_no,
        "balance": b.balance,
        "reserved": b.reserved,
        "expiring": [{"points": e.points, "expires_on": e.expires_on} for e in b.expiring],
        "tier": b.tier or None,
    }


async def points_history(
    state: GatewayState, p: Principal, member_no: str, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The member's points entries, one page. -> ``PointsHistory``."""
    await member_in_scope(state, p, member_no)
    req = pb.ListPointsHistoryRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.loyalty.ListPointsHistory, req, p)
    return {"items": [plain(e) for e in reply.entries], "next_cursor": reply.page.next_cursor or None}


async def member_coupons(
    state: GatewayState, p: Principal, member_no: str, status: str | None = None
) -> dict[str, Any]:
    """The member's coupons (every status, or one). -> ``MemberCoupons``."""
    await member_in_scope(state, p, member_no)
    return {"items": [plain(c) for c in await coupons_of(state, p, member_no, status)], "next_cursor": None}


# --- rules: tiers, earn rules, coupon templates (and issuing them), promotions ------------------
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
    birthday_points: Annotated[StrictInt, Field(ge=0, le=10**9)] = 0
    keep_spend_12m: Fen = Field(
        default=0, description="fen to stay on it at the review (保级); 0 = min_spend_12m"
    )
    keep_points_12m: Annotated[StrictInt, Field(ge=0, le=10**12)] = Field(
        default=0, description="points to stay on it at the review; 0 = min_points_12m"
    )


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
    tag: str | None = Field(
        default=None, min_length=1, max_length=64, description="the members tagged so, in the caller's scope"
    )

    @model_validator(mode="after")
    def _one(self) -> IssueBody:
        if sum(x is not None for x in (self.member_nos, self.segment, self.tag)) != 1:
            raise ValueError("give either member_nos, segment or tag")
        return self


async def _scope(state: GatewayState, p: Principal, code: str | None) -> str:
    """The org path of ``code`` (an org unit in the caller's scope); the caller's own without."""
    return await unit_path(state, p, code, field="scope") if code else p.scope


async def tiers(state: GatewayState, p: Principal) -> list[dict[str, Any]]:
    reply = await state.clients.call(state.clients.loyalty.ListTiers, pb.ListTiersRequest(), p)
    return [plain(t) for t in reply.tiers]


async def upsert_tier(state: GatewayState, request: Request, p: Principal, body: TierBody) -> dict[str, Any]:
    """Create the tier ``body.code`` or replace it (HQ), audited."""
    tier = await state.clients.call(state.clients.loyalty.UpsertTier, pb.Tier(**body.model_dump()), p)
    await audit.record_alone(
        state, request, p, "loyalty.tier.put", "tier", tier.code, "HQ", body.model_dump()
    )
    return plain(tier)


async def earn_rules(state: GatewayState, p: Principal) -> list[dict[str, Any]]:
    reply = await state.clients.call(state.clients.loyalty.ListEarnRules, pb.ListEarnRulesRequest(), p)
    return [plain(r) for r in reply.rules]


async def create_earn_rule(
    state: GatewayState, request: Request, p: Principal, body: EarnRuleBody
) -> dict[str, Any]:
    """An earn rule at ``body.scope`` (default the caller's own), audited."""
    scope = await _scope(state, p, body.scope)
    rule = await state.clients.call(
        state.clients.loyalty.CreateEarnRule, pb.EarnRule(**{**body.model_dump(), "scope": scope}), p
    )
    await audit.record_alone(state, request, p, "loyalty.earn_rule.create", "earn_rule", rule.id, scope,
                             body.model_dump())  # fmt: skip
    return plain(rule)


async def coupon_templates(state: GatewayState, p: Principal) -> list[dict[str, Any]]:
    reply = await state.clients.call(
        state.clients.loyalty.ListCouponTemplates, pb.ListCouponTemplatesRequest(), p
    )
    return [plain(t) for t in reply.templates]


async def create_coupon_template(
    state: GatewayState, request: Request, p: Principal, body: CouponTemplateBody
) -> dict[str, Any]:
    """A coupon template at ``body.scope`` (default the caller's own), audited."""
    scope = await _scope(state, p, body.scope)
    values = body.model_dump(exclude={"valid_from", "valid_until", "scope"})
    req = pb.CouponTemplate(
        **values, scope=scope, valid_from=timestamp(body.valid_from), valid_until=timestamp(body.valid_until)
    )
    tpl = await state.clients.call(state.clients.loyalty.CreateCouponTemplate, req, p)
    await audit.record_alone(state, request, p, "loyalty.coupon_template.create", "coupon_template", tpl.id, scope,
                             body.model_dump(mode="json"))  # fmt: skip
    return plain(tpl)


async def issue_coupons(
    state: GatewayState, request: Request, p: Principal, key: str, template_id: str, body: IssueBody
) -> dict[str, Any]:
    """Issue the template to members (each in the caller's scope, else ``member_nos.<i>`` is
    refused), a segment or a tag, once per ``key`` (the Idempotency-Key), audited."""
    if body.tag is not None:
        return await issue_coupons_to_tag(state, request, p, key, template_id, body.tag)
    for i, member_no in enumerate(body.member_nos or ()):
        try:
            await member_in_scope(state, p, member_no)
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


async def promotions(state: GatewayState, p: Principal) -> list[dict[str, Any]]:
    reply = await state.clients.call(state.clients.loyalty.ListPromotions, pb.ListPromotionsRequest(), p)
    return [plain(x) for x in reply.promotions]


async def create_promotion(
    state: GatewayState, request: Request, p: Principal, body: PromotionBody
) -> dict[str, Any]:
    """A promotion at ``body.scope`` (default the caller's own), audited."""
    scope = await _scope(state, p, body.scope)
    values = body.model_dump(exclude={"starts_at", "ends_at", "scope"})
    req = pb.Promotion(
        **values, scope=scope, starts_at=timestamp(body.starts_at), ends_at=timestamp(body.ends_at)
    )
    promo = await state.clients.call(state.clients.loyalty.CreatePromotion, req, p)
    await audit.record_alone(state, request, p, "loyalty.promotion.create", "promotion", promo.id, scope,
                             body.model_dump(mode="json"))  # fmt: skip
    return plain(promo)


# --- taking rules back (the loyalty service checks role and scope as for creating them) ---------
async def delete_tier(state: GatewayState, request: Request, p: Principal, code: str) -> None:
    """Delete the tier ``code`` (HQ); a conflict while members are on it. Audited."""
    await state.clients.call(state.clients.loyalty.DeleteTier, pb.DeleteTierRequest(code=code), p)
    await audit.record_alone(state, request, p, "loyalty.tier.delete", "tier", code, "HQ")


async def set_earn_rule_active(
    state: GatewayState, request: Request, p: Principal, rule_id: str, active: bool
) -> dict[str, Any]:
    """Activate or deactivate an earn rule (a deactivated one earns nothing), audited."""
    rule = await state.clients.call(
        state.clients.loyalty.SetEarnRuleActive, pb.SetRuleActiveRequest(id=rule_id, active=active), p
    )
    await audit.record_alone(state, request, p, f"loyalty.earn_rule.{'activate' if active else 'deactivate'}",
                             "earn_rule", rule.id, rule.scope, {"name": rule.name})  # fmt: skip
    return plain(rule)


async def delete_earn_rule(state: GatewayState, request: Request, p: Principal, rule_id: str) -> None:
    """Delete an earn rule no purchase has earned under (else a conflict: deactivate it), audited."""
    gone = await state.clients.call(state.clients.loyalty.DeleteEarnRule, pb.DeleteRuleRequest(id=rule_id), p)
    await audit.record_alone(state, request, p, "loyalty.earn_rule.delete", "earn_rule", gone.id, gone.scope,
                             {"name": gone.name})  # fmt: skip


async def set_promotion_active(
    state: GatewayState, request: Request, p: Principal, promotion_id: str, active: bool
) -> dict[str, Any]:
    """Activate or deactivate a promotion (a deactivated one discounts nothing), audited."""
    promo = await state.clients.call(
        state.clients.loyalty.SetPromotionActive, pb.SetRuleActiveRequest(id=promotion_id, active=active), p
    )
    await audit.record_alone(state, request, p, f"loyalty.promotion.{'activate' if active else 'deactivate'}",
                             "promotion", promo.id, promo.scope, {"name": promo.name})  # fmt: skip
    return plain(promo)


async def delete_promotion(state: GatewayState, request: Request, p: Principal, promotion_id: str) -> None:
    """Delete a promotion no purchase was discounted by (else a conflict: deactivate it), audited."""
    gone = await state.clients.call(
        state.clients.loyalty.DeletePromotion, pb.DeleteRuleRequest(id=promotion_id), p
    )
    await audit.record_alone(state, request, p, "loyalty.promotion.delete", "promotion", gone.id, gone.scope,
                             {"name": gone.name})  # fmt: skip


async def set_coupon_template_active(
    state: GatewayState, request: Request, p: Principal, template_id: str, active: bool
) -> dict[str, Any]:
    """Stop issuing a coupon template (coupons already issued stay usable) or start again, audited."""
    tpl = await state.clients.call(
        state.clients.loyalty.SetCouponTemplateActive,
        pb.SetRuleActiveRequest(id=template_id, active=active),
        p,
    )
    await audit.record_alone(state, request, p,
                             f"loyalty.coupon_template.{'activate' if active else 'deactivate'}",
                             "coupon_template", tpl.id, tpl.scope, {"name": tpl.name})  # fmt: skip
    return plain(tpl)


# --- issuing to a tag ----------------------------------------------------------------------------
TAG_BATCH = 500  # members per IssueCoupons call (a page of SearchMembers)


async def issue_coupons_to_tag(
    state: GatewayState, request: Request, p: Principal, key: str, template_id: str, tag: str
) -> dict[str, Any]:
    """Issue the template to every member tagged ``tag`` in the caller's scope, a page of members
    at a time, each page under the key ``<key>:<page number>``: sending the same key again
    replays every page's answer and issues nothing twice. -> issued, skipped (a limit said
    no), codes and how many members were tagged; audited once."""
    issued = skipped = members = batch = 0
    codes: list[str] = []
    cursor = ""
    while True:
        page = await state.clients.call(
            state.clients.members.SearchMembers,
            mpb.SearchMembersRequest(tag=tag, page={"limit": TAG_BATCH, "cursor": cursor}),
            p,
        )
        numbers = [m.member_no for m in page.members]
        if numbers:
            batch += 1
            req = pb.IssueCouponsRequest(
                request_id=f"{key}:{batch}", template_id=template_id, member_nos=numbers
            )
            reply = await state.clients.call(state.clients.loyalty.IssueCoupons, req, p, timeout=60)
            issued, skipped, members = issued + reply.issued, skipped + reply.skipped, members + len(numbers)
            codes.extend(reply.codes)
        cursor = page.page.next_cursor
        if not cursor:
            break
    await audit.record_alone(state, request, p, "loyalty.coupons.issue", "coupon_template", template_id, p.scope,
                             {"tag": tag, "members": members, "issued": issued, "skipped": skipped})  # fmt: skip
    return {"issued": issued, "skipped": skipped, "codes": codes, "members": members}
