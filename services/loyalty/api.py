"""gRPC servicer of the loyalty service: protobuf in, the use case of ``service.py``,
protobuf out (kit's interceptor turns the use cases' errors into status codes)."""

from __future__ import annotations

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from kit.grpcserver import current_principal, service_info
from services.loyalty import service
from services.loyalty.context import LoyaltyContext

Ctx = grpc.aio.ServicerContext


class LoyaltyApi(loyalty_pb2_grpc.LoyaltyServiceServicer):
    def __init__(self, ctx: LoyaltyContext) -> None:
        self.ctx = ctx

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: Ctx
    ) -> common_pb2.ServiceInfo:
        return service_info(self.ctx)

    async def Quote(self, request: pb.QuoteRequest, context: Ctx) -> pb.PriceQuote:
        return await service.quote(self.ctx, current_principal(), request)

    async def Reserve(self, request: pb.ReserveRequest, context: Ctx) -> pb.Reservation:
        return await service.reserve(self.ctx, current_principal(), request)

    async def Confirm(self, request: pb.ConfirmRequest, context: Ctx) -> pb.Purchase:
        return await service.confirm(self.ctx, current_principal(), request)

    async def Cancel(self, request: pb.CancelRequest, context: Ctx) -> pb.Reservation:
        return await service.cancel(self.ctx, current_principal(), request)

    async def RefundPurchase(self, request: pb.RefundPurchaseRequest, context: Ctx) -> pb.Purchase:
        return await service.refund_purchase(self.ctx, current_principal(), request)

    async def GetPurchase(self, request: pb.GetPurchaseRequest, context: Ctx) -> pb.Purchase:
        return await service.get_purchase(self.ctx, current_principal(), request)

    async def GetPoints(self, request: pb.GetPointsRequest, context: Ctx) -> pb.PointsBalance:
        return await service.get_points(self.ctx, current_principal(), request)

    async def ListPointsHistory(
        self, request: pb.ListPointsHistoryRequest, context: Ctx
    ) -> pb.ListPointsHistoryResponse:
        return await service.list_points_history(self.ctx, current_principal(), request)

    async def ListMemberCoupons(
        self, request: pb.ListMemberCouponsRequest, context: Ctx
    ) -> pb.ListMemberCouponsResponse:
        return await service.list_member_coupons(self.ctx, current_principal(), request)

    async def ListTiers(self, request: pb.ListTiersRequest, context: Ctx) -> pb.ListTiersResponse:
        return await service.list_tiers(self.ctx, current_principal())

    async def UpsertTier(self, request: pb.Tier, context: Ctx) -> pb.Tier:
        return await service.upsert_tier(self.ctx, current_principal(), request)

    async def ListEarnRules(self, request: pb.ListEarnRulesRequest, context: Ctx) -> pb.ListEarnRulesResponse:
        return await service.list_earn_rules(self.ctx, current_principal())

    async def CreateEarnRule(self, request: pb.EarnRule, context: Ctx) -> pb.EarnRule:
        return await service.create_earn_rule(self.ctx, current_principal(), request)

    async def ListCouponTemplates(
        self, request: pb.ListCouponTemplatesRequest, context: Ctx
    ) -> pb.ListCouponTemplatesResponse:
        return await service.list_coupon_templates(self.ctx, current_principal())

    async def CreateCouponTemplate(self, request: pb.CouponTemplate, context: Ctx) -> pb.CouponTemplate:
        return await service.create_coupon_template(self.ctx, current_principal(), request)

    async def IssueCoupons(self, request: pb.IssueCouponsRequest, context: Ctx) -> pb.IssueCouponsResponse:
        return await service.issue_coupons(self.ctx, current_principal(), request)

    async def ListPromotions(
        self, request: pb.ListPromotionsRequest, context: Ctx
    ) -> pb.ListPromotionsResponse:
        return await service.list_promotions(self.ctx, current_principal())

    async def CreatePromotion(self, request: pb.Promotion, context: Ctx) -> pb.Promotion:
        return await service.create_promotion(self.ctx, current_principal(), request)

    async def DeleteTier(self, request: pb.DeleteTierRequest, context: Ctx) -> pb.DeleteTierResponse:
        return await service.delete_tier(self.ctx, current_principal(), request)

    async def SetEarnRuleActive(self, request: pb.SetRuleActiveRequest, context: Ctx) -> pb.EarnRule:
        return await service.set_earn_rule_active(self.ctx, current_principal(), request)

    async def DeleteEarnRule(self, request: pb.DeleteRuleRequest, context: Ctx) -> pb.DeleteRuleResponse:
        return await service.delete_earn_rule(self.ctx, current_principal(), request)

    async def SetPromotionActive(self, request: pb.SetRuleActiveRequest, context: Ctx) -> pb.Promotion:
        return await service.set_promotion_active(self.ctx, current_principal(), request)

    async def DeletePromotion(self, request: pb.DeleteRuleRequest, context: Ctx) -> pb.DeleteRuleResponse:
        return await service.delete_promotion(self.ctx, current_principal(), request)

    async def SetCouponTemplateActive(
        self, request: pb.SetRuleActiveRequest, context: Ctx
    ) -> pb.CouponTemplate:
        return await service.set_coupon_template_active(self.ctx, current_principal(), request)

    async def UpdateEarnRule(self, request: pb.UpdateEarnRuleRequest, context: Ctx) -> pb.EarnRule:
        return await service.update_earn_rule(self.ctx, current_principal(), request)

    async def UpdateCouponTemplate(
        self, request: pb.UpdateCouponTemplateRequest, context: Ctx
    ) -> pb.CouponTemplate:
        return await service.update_coupon_template(self.ctx, current_principal(), request)

    async def UpdatePromotion(self, request: pb.UpdatePromotionRequest, context: Ctx) -> pb.Promotion:
        return await service.update_promotion(self.ctx, current_principal(), request)

    async def RecomputeSegments(
        self, request: pb.RecomputeSegmentsRequest, context: Ctx
    ) -> pb.RecomputeSegmentsResponse:
        return await service.recompute_segments(self.ctx, current_principal(), request)

    async def GetRfm(self, request: pb.SegmentQuery, context: Ctx) -> pb.RfmReport:
        return await service.get_rfm(self.ctx, current_principal(), request)

    async def GetQuadrants(self, request: pb.SegmentQuery, context: Ctx) -> pb.QuadrantReport:
        return await service.get_quadrants(self.ctx, current_principal(), request)

    async def GetLifecycle(self, request: pb.SegmentQuery, context: Ctx) -> pb.LifecycleReport:
        return await service.get_lifecycle(self.ctx, current_principal(), request)

    async def MembersInSegment(
        self, request: pb.MembersInSegmentRequest, context: Ctx
    ) -> pb.MembersInSegmentResponse:
        return await service.members_in_segment(self.ctx, current_principal(), request)

    async def MembersOnTier(self, request: pb.MembersOnTierRequest, context: Ctx) -> pb.MembersOnTierResponse:
        return await service.members_on_tier(self.ctx, current_principal(), request)

    async def ListMemberPurchases(
        self, request: pb.ListMemberPurchasesRequest, context: Ctx
    ) -> pb.ListMemberPurchasesResponse:
        return await service.list_member_purchases(self.ctx, current_principal(), request)

    async def MemberTiers(self, request: pb.MemberTiersRequest, context: Ctx) -> pb.MemberTiersResponse:
        return await service.member_tiers(self.ctx, current_principal(), request)

    async def ListRewards(self, request: pb.ListRewardsRequest, context: Ctx) -> pb.ListRewardsResponse:
        return await service.list_rewards(self.ctx, current_principal(), request)

    async def CreateReward(self, request: pb.Reward, context: Ctx) -> pb.Reward:
        return await service.create_reward(self.ctx, current_principal(), request)

    async def RedeemReward(self, request: pb.RedeemRewardRequest, context: Ctx) -> pb.Redemption:
        return await service.redeem_reward(self.ctx, current_principal(), request)

    async def UpdateReward(self, request: pb.UpdateRewardRequest, context: Ctx) -> pb.Reward:
        return await service.update_reward(self.ctx, current_principal(), request)

    async def SetRewardActive(self, request: pb.SetRewardActiveRequest, context: Ctx) -> pb.Reward:
        return await service.set_reward_active(self.ctx, current_principal(), request)

    async def DeleteReward(self, request: pb.DeleteRewardRequest, context: Ctx) -> pb.DeleteRewardResponse:
        return await service.delete_reward(self.ctx, current_principal(), request)

    async def GetReferralRule(self, request: pb.GetReferralRuleRequest, context: Ctx) -> pb.ReferralRule:
        return await service.get_referral_rule(self.ctx, current_principal())

    async def SetReferralRule(self, request: pb.ReferralRule, context: Ctx) -> pb.ReferralRule:
        return await service.set_referral_rule(self.ctx, current_principal(), request)

    async def DailySummary(
        self, request: common_pb2.DailySummaryRequest, context: Ctx
    ) -> common_pb2.DailySummaryResponse:
        return await service.daily_summary(self.ctx, current_principal(), request)

    async def GetPointsLiability(
        self, request: pb.GetPointsLiabilityRequest, context: Ctx
    ) -> pb.PointsLiability:
        return await service.get_points_liability(self.ctx, current_principal(), request)
