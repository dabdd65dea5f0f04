"""Loyalty's use cases, one entry point per RPC of ``LoyaltyService``. The servicer
(``api.py``) only translates calls to these; the work lives in the modules named here
(``checkout``, ``pricing``, ``points``, ``coupons``, ...), which check the caller's access
themselves. Consumers and jobs call those modules directly: they act as the service."""

from __future__ import annotations

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from services.loyalty import (
    admin,
    checkout,
    coupons,
    liability,
    member_lists,
    points,
    pricing,
    referral,
    refunds,
    rewards,
    rule_edits,
    segments,
    summary,
)
from services.loyalty.context import LoyaltyContext

# --- The counter: price, reserve, confirm, cancel, refund; what a member holds ---------


async def quote(ctx: LoyaltyContext, p: Principal, req: pb.QuoteRequest) -> pb.PriceQuote:
    return await pricing.quote(ctx, p, req)


async def reserve(ctx: LoyaltyContext, p: Principal, req: pb.ReserveRequest) -> pb.Reservation:
    return await checkout.reserve(ctx, p, req)


async def confirm(ctx: LoyaltyContext, p: Principal, req: pb.ConfirmRequest) -> pb.Purchase:
    return await checkout.confirm(ctx, p, req)


async def cancel(ctx: LoyaltyContext, p: Principal, req: pb.CancelRequest) -> pb.Reservation:
    return await checkout.cancel(ctx, p, req)


async def refund_purchase(ctx: LoyaltyContext, p: Principal, req: pb.RefundPurchaseRequest) -> pb.Purchase:
    return await refunds.refund_purchase(ctx, p, req)


async def get_purchase(ctx: LoyaltyContext, p: Principal, req: pb.GetPurchaseRequest) -> pb.Purchase:
    return await checkout.get_purchase(ctx, p, req)


async def get_points(ctx: LoyaltyContext, p: Principal, req: pb.GetPointsRequest) -> pb.PointsBalance:
    return await points.get_points(ctx, p, req)


async def list_points_history(
    ctx: LoyaltyContext, p: Principal, req: pb.ListPointsHistoryRequest
) -> pb.ListPointsHistoryResponse:
    return await points.list_history(ctx, p, req)


async def list_member_coupons(
    ctx: LoyaltyContext, p: Principal, req: pb.ListMemberCouponsRequest
) -> pb.ListMemberCouponsResponse:
    return await coupons.list_member_coupons(ctx, p, req)


async def list_member_purchases(
    ctx: LoyaltyContext, p: Principal, req: pb.ListMemberPurchasesRequest
) -> pb.ListMemberPurchasesResponse:
    return await member_lists.list_member_purchases(ctx, p, req)


async def member_tiers(
    ctx: LoyaltyContext, p: Principal, req: pb.MemberTiersRequest
) -> pb.MemberTiersResponse:
    return await member_lists.member_tiers(ctx, p, req)


async def redeem_reward(ctx: LoyaltyContext, p: Principal, req: pb.RedeemRewardRequest) -> pb.Redemption:
    return await rewards.redeem(ctx, p, req)


# --- The programme: tiers, earn rules, coupon templates, promotions (HQ changes, staff read) ---


async def list_tiers(ctx: LoyaltyContext, p: Principal) -> pb.ListTiersResponse:
    return await admin.list_tiers(ctx, p)


async def upsert_tier(ctx: LoyaltyContext, p: Principal, req: pb.Tier) -> pb.Tier:
    return await admin.upsert_tier(ctx, p, req)


async def delete_tier(ctx: LoyaltyContext, p: Principal, req: pb.DeleteTierRequest) -> pb.DeleteTierResponse:
    return await admin.delete_tier(ctx, p, req)


async def list_earn_rules(ctx: LoyaltyContext, p: Principal) -> pb.ListEarnRulesResponse:
    return await admin.list_earn_rules(ctx, p)


async def create_earn_rule(ctx: LoyaltyContext, p: Principal, req: pb.EarnRule) -> pb.EarnRule:
    return await admin.create_earn_rule(ctx, p, req)


async def update_earn_rule(ctx: LoyaltyContext, p: Principal, req: pb.UpdateEarnRuleRequest) -> pb.EarnRule:
    return await rule_edits.update_earn_rule(ctx, p, req)


async def set_earn_rule_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.EarnRule:
    return await admin.set_earn_rule_active(ctx, p, req)


async def delete_earn_rule(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRuleRequest
) -> pb.DeleteRuleResponse:
    return await admin.delete_earn_rule(ctx, p, req)


async def list_coupon_templates(ctx: LoyaltyContext, p: Principal) -> pb.ListCouponTemplatesResponse:
    return await coupons.list_templates(ctx, p)


async def create_coupon_template(
    ctx: LoyaltyContext, p: Principal, req: pb.CouponTemplate
) -> pb.CouponTemplate:
    return await coupons.create_template(ctx, p, req)


async def update_coupon_template(
    ctx: LoyaltyContext, p: Principal, req: pb.UpdateCouponTemplateRequest
) -> pb.CouponTemplate:
    return await rule_edits.update_coupon_template(ctx, p, req)


async def set_coupon_template_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.CouponTemplate:
    return await admin.set_coupon_template_active(ctx, p, req)


async def issue_coupons(
    ctx: LoyaltyContext, p: Principal, req: pb.IssueCouponsRequest
) -> pb.IssueCouponsResponse:
    return await coupons.issue_coupons(ctx, p, req)


async def list_promotions(ctx: LoyaltyContext, p: Principal) -> pb.ListPromotionsResponse:
    return await admin.list_promotions(ctx, p)


async def create_promotion(ctx: LoyaltyContext, p: Principal, req: pb.Promotion) -> pb.Promotion:
    return await admin.create_promotion(ctx, p, req)


async def update_promotion(ctx: LoyaltyContext, p: Principal, req: pb.UpdatePromotionRequest) -> pb.Promotion:
    return await rule_edits.update_promotion(ctx, p, req)


async def set_promotion_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.Promotion:
    return await admin.set_promotion_active(ctx, p, req)


async def delete_promotion(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRuleRequest
) -> pb.DeleteRuleResponse:
    return await admin.delete_promotion(ctx, p, req)


# --- Rewards and the referral rule -----------------------------------------------------


async def list_rewards(
    ctx: LoyaltyContext, p: Principal, req: pb.ListRewardsRequest
) -> pb.ListRewardsResponse:
    return await rewards.list_rewards(ctx, p, req)


async def create_reward(ctx: LoyaltyContext, p: Principal, req: pb.Reward) -> pb.Reward:
    return await rewards.create_reward(ctx, p, req)


async def update_reward(ctx: LoyaltyContext, p: Principal, req: pb.UpdateRewardRequest) -> pb.Reward:
    return await rewards.update_reward(ctx, p, req)


async def set_reward_active(ctx: LoyaltyContext, p: Principal, req: pb.SetRewardActiveRequest) -> pb.Reward:
    return await rewards.set_reward_active(ctx, p, req)


async def delete_reward(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRewardRequest
) -> pb.DeleteRewardResponse:
    return await rewards.delete_reward(ctx, p, req)


async def get_referral_rule(ctx: LoyaltyContext, p: Principal) -> pb.ReferralRule:
    return await referral.get_rule(ctx, p)


async def set_referral_rule(ctx: LoyaltyContext, p: Principal, req: pb.ReferralRule) -> pb.ReferralRule:
    return await referral.set_rule(ctx, p, req)


# --- Analysis and reports --------------------------------------------------------------


async def recompute_segments(
    ctx: LoyaltyContext, p: Principal, req: pb.RecomputeSegmentsRequest
) -> pb.RecomputeSegmentsResponse:
    return await segments.recompute_segments(ctx, p, req)


async def get_rfm(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.RfmReport:
    return await segments.get_rfm(ctx, p, req)


async def get_quadrants(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.QuadrantReport:
    return await segments.get_quadrants(ctx, p, req)


async def get_lifecycle(ctx: LoyaltyContext, p: Principal, req: pb.SegmentQuery) -> pb.LifecycleReport:
    return await segments.get_lifecycle(ctx, p, req)


async def members_in_segment(
    ctx: LoyaltyContext, p: Principal, req: pb.MembersInSegmentRequest
) -> pb.MembersInSegmentResponse:
    return await segments.members_in_segment(ctx, p, req)


async def members_on_tier(
    ctx: LoyaltyContext, p: Principal, req: pb.MembersOnTierRequest
) -> pb.MembersOnTierResponse:
    return await member_lists.members_on_tier(ctx, p, req)


async def daily_summary(
    ctx: LoyaltyContext, p: Principal, req: common_pb2.DailySummaryRequest
) -> common_pb2.DailySummaryResponse:
    return await summary.daily_summary(ctx, p, req)


async def get_points_liability(
    ctx: LoyaltyContext, p: Principal, req: pb.GetPointsLiabilityRequest
) -> pb.PointsLiability:
    return await liability.points_liability(ctx, p, req)
