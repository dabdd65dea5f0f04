"""gRPC servicer of the loyalty service: protobuf <-> use cases."""

from __future__ import annotations

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from kit.grpcserver import current_principal, service_info
from kit.runtime import Runtime
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
from services.loyalty.consumers import context_for

Ctx = grpc.aio.ServicerContext


class LoyaltyApi(loyalty_pb2_grpc.LoyaltyServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.ctx = context_for(runtime)

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.ServiceInfo:
        return service_info(self.rt)

    async def Quote(self, request: pb.QuoteRequest, context: Ctx) -> pb.PriceQuote:
        return await pricing.quote(self.ctx, current_principal(), request)

    async def Reserve(self, request: pb.ReserveRequest, context: Ctx) -> pb.Reservation:
        return await checkout.reserve(self.ctx, current_principal(), request)

    async def Confirm(self, request: pb.ConfirmRequest, context: Ctx) -> pb.Purchase:
        return await checkout.confirm(self.ctx, current_principal(), request)

    async def Cancel(self, request: pb.CancelRequest, context: Ctx) -> pb.Reservation:
        return await checkout.cancel(self.ctx, current_principal(), request)

    async def RefundPurchase(self, request: pb.RefundPurchaseRequest, context: Ctx) -> pb.Purchase:
        return await refunds.refund_purchase(self.ctx, current_principal(), request)

    async def GetPurchase(self, request: pb.GetPurchaseRequest, context: Ctx) -> pb.Purchase:
        return await checkout.get_purchase(self.ctx, current_principal(), request)

    async def GetPoints(self, request: pb.GetPointsRequest, context: Ctx) -> pb.PointsBalance:
        return await points.get_points(self.ctx, current_principal(), request)

    async def ListPointsHistory(
        self, request: pb.ListPointsHistoryRequest, context: Ctx
    ) -> pb.ListPointsHistoryResponse:
        return await points.list_history(self.ctx, current_principal(), request)

    async def ListMemberCoupons(
        self, request: pb.ListMemberCouponsRequest, context: Ctx
    ) -> pb.ListMemberCouponsResponse:
        return await coupons.list_member_coupons(self.ctx, current_principal(), request)

    async def ListTiers(self, request: pb.ListTiersRequest, context: Ctx) -> pb.ListTiersResponse:
        return await admin.list_tiers(self.ctx, current_principal())

    async def UpsertTier(self, request: pb.Tier, context: Ctx) -> pb.Tier:
        return await admin.upsert_tier(self.ctx, current_principal(), request)

    async def ListEarnRules(self, request: pb.ListEarnRulesRequest, context: Ctx) -> pb.ListEarnRulesResponse:
        return await admin.list_earn_rules(self.ctx, current_principal())

    async def CreateEarnRule(self, request: pb.EarnRule, context: Ctx) -> pb.EarnRule:
        return await admin.create_earn_rule(self.ctx, current_principal(), request)

    async def ListCouponTemplates(
        self, request: pb.ListCouponTemplatesRequest, context: Ctx
    ) -> pb.ListCouponTemplatesResponse:
        return await coupons.list_templates(self.ctx, current_principal())

    async def CreateCouponTemplate(self, request: pb.CouponTemplate, context: Ctx) -> pb.CouponTemplate:
        return await coupons.create_template(self.ctx, current_principal(), request)

    async def IssueCoupons(self, request: pb.IssueCouponsRequest, context: Ctx) -> pb.IssueCouponsResponse:
        return await coupons.issue_coupons(self.ctx, current_principal(), request)

    async def ListPromotions(
        self, request: pb.ListPromotionsRequest, context: Ctx
    ) -> pb.ListPromotionsResponse:
        return await admin.list_promotions(self.ctx, current_principal())

    async def CreatePromotion(self, request: pb.Promotion, context: Ctx) -> pb.Promotion:
        return await admin.create_promotion(self.ctx, current_principal(), request)

    async def DeleteTier(self, request: pb.DeleteTierRequest, context: Ctx) -> pb.DeleteTierResponse:
        return await admin.delete_tier(self.ctx, current_principal(), request)

    async def SetEarnRuleActive(self, request: pb.SetRuleActiveRequest, context: Ctx) -> pb.EarnRule:
        return await admin.set_earn_rule_active(self.ctx, current_principal(), request)

    async def DeleteEarnRule(self, request: pb.DeleteRuleRequest, context: Ctx) -> pb.DeleteRuleResponse:
        return await admin.delete_earn_rule(self.ctx, current_principal(), request)

    async def SetPromotionActive(self, request: pb.SetRuleActiveRequest, context: Ctx) -> pb.Promotion:
        return await admin.set_promotion_active(self.ctx, current_principal(), request)

    async def DeletePromotion(self, request: pb.DeleteRuleRequest, context: Ctx) -> pb.DeleteRuleResponse:
        return await admin.delete_promotion(self.ctx, current_principal(), request)

    async def SetCouponTemplateActive(
        self, request: pb.SetRuleActiveRequest, context: Ctx
    ) -> pb.CouponTemplate:
        return await admin.set_coupon_template_active(self.ctx, current_principal(), request)

    async def UpdateEarnRule(self, request: pb.UpdateEarnRuleRequest, context: Ctx) -> pb.EarnRule:
        return await rule_edits.update_earn_rule(self.ctx, current_principal(), request)

    async def UpdateCouponTemplate(
        self, request: pb.UpdateCouponTemplateRequest, context: Ctx
    ) -> pb.CouponTemplate:
        return await rule_edits.update_coupon_template(self.ctx, current_principal(), request)

    async def UpdatePromotion(self, request: pb.UpdatePromotionRequest, context: Ctx) -> pb.Promotion:
        return await rule_edits.update_promotion(self.ctx, current_principal(), request)

    async def RecomputeSegments(
        self, request: pb.RecomputeSegmentsRequest, context: Ctx
    ) -> pb.RecomputeSegmentsResponse:
        return await segments.recompute_segments(self.ctx, current_principal(), request)

    async def GetRfm(self, request: pb.SegmentQuery, context: Ctx) -> pb.RfmReport:
        return await segments.get_rfm(self.ctx, current_principal(), request)

    async def GetQuadrants(self, request: pb.SegmentQuery, context: Ctx) -> pb.QuadrantReport:
        return await segments.get_quadrants(self.ctx, current_principal(), request)

    async def GetLifecycle(self, request: pb.SegmentQuery, context: Ctx) -> pb.LifecycleReport:
        return await segments.get_lifecycle(self.ctx, current_principal(), request)

    async def MembersInSegment(
        self, request: pb.MembersInSegmentRequest, context: Ctx
    ) -> pb.MembersInSegmentResponse:
        return await segments.members_in_segment(self.ctx, current_principal(), request)

    async def MembersOnTier(self, request: pb.MembersOnTierRequest, context: Ctx) -> pb.MembersOnTierResponse:
        return await member_lists.members_on_tier(self.ctx, current_principal(), request)

    async def ListMemberPurchases(
        self, request: pb.ListMemberPurchasesRequest, context: Ctx
    ) -> pb.ListMemberPurchasesResponse:
        return await member_lists.list_member_purchases(self.ctx, current_principal(), request)

    async def MemberTiers(self, request: pb.MemberTiersRequest, context: Ctx) -> pb.MemberTiersResponse:
        return await member_lists.member_tiers(self.ctx, current_principal(), request)

    async def ListRewards(self, request: pb.ListRewardsRequest, context: Ctx) -> pb.ListRewardsResponse:
        return await rewards.list_rewards(self.ctx, current_principal(), request)

    async def CreateReward(self, request: pb.Reward, context: Ctx) -> pb.Reward:
        return await rewards.create_reward(self.ctx, current_principal(), request)

    async def RedeemReward(self, request: pb.RedeemRewardRequest, context: Ctx) -> pb.Redemption:
        return await rewards.redeem(self.ctx, current_principal(), request)

    async def UpdateReward(self, request: pb.UpdateRewardRequest, context: Ctx) -> pb.Reward:
        return await rewards.update_reward(self.ctx, current_principal(), request)

    async def SetRewardActive(self, request: pb.SetRewardActiveRequest, context: Ctx) -> pb.Reward:
        return await rewards.set_reward_active(self.ctx, current_principal(), request)

    async def DeleteReward(self, request: pb.DeleteRewardRequest, context: Ctx) -> pb.DeleteRewardResponse:
        return await rewards.delete_reward(self.ctx, current_principal(), request)

    async def GetReferralRule(self, request: pb.GetReferralRuleRequest, context: Ctx) -> pb.ReferralRule:
        return await referral.get_rule(self.ctx, current_principal())

    async def SetReferralRule(self, request: pb.ReferralRule, context: Ctx) -> pb.ReferralRule:
        return await referral.set_rule(self.ctx, current_principal(), request)

    async def DailySummary(
        self, request: common_pb2.DailySummaryRequest, context: Ctx
    ) -> common_pb2.DailySummaryResponse:
        return await summary.daily_summary(self.ctx, current_principal(), request)

    async def GetPointsLiability(
        self, request: pb.GetPointsLiabilityRequest, context: Ctx
    ) -> pb.PointsLiability:
        return await liability.points_liability(self.ctx, current_principal(), request)
