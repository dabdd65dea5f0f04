"""gRPC servicer of the wallet: protobuf in, use case, protobuf out."""

from __future__ import annotations

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.wallet.v1 import wallet_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2_grpc
from kit.grpcserver import current_principal, service_info
from services.wallet import adjustments, batch, bonus, cards, reports, rules, service, summary
from services.wallet.context import WalletContext

Ctx = grpc.aio.ServicerContext


class WalletApi(wallet_pb2_grpc.WalletServiceServicer):
    def __init__(self, ctx: WalletContext) -> None:
        self.ctx = ctx

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: Ctx
    ) -> common_pb2.ServiceInfo:
        return service_info(self.ctx)

    async def TopUp(self, request: pb.TopUpRequest, context: Ctx) -> pb.Transaction:
        return await service.top_up(self.ctx, current_principal(), request)

    async def PreviewTopUp(self, request: pb.PreviewTopUpRequest, context: Ctx) -> pb.TopUpPreview:
        return await service.preview_top_up(self.ctx, current_principal(), request)

    async def CapturePayment(self, request: pb.CapturePaymentRequest, context: Ctx) -> pb.Transaction:
        return await service.capture_payment(self.ctx, current_principal(), request)

    async def RefundPayment(self, request: pb.RefundPaymentRequest, context: Ctx) -> pb.Transaction:
        return await service.refund(self.ctx, current_principal(), request)

    async def GetPayment(self, request: pb.GetPaymentRequest, context: Ctx) -> pb.Payment:
        return await service.get_payment(self.ctx, current_principal(), request)

    async def ChargeFee(self, request: pb.ChargeFeeRequest, context: Ctx) -> pb.Transaction:
        return await service.charge_fee(self.ctx, current_principal(), request)

    async def CloseAccount(self, request: pb.CloseAccountRequest, context: Ctx) -> pb.Transaction:
        return await service.close_account(self.ctx, current_principal(), request)

    async def SetCardStatus(self, request: pb.SetCardStatusRequest, context: Ctx) -> pb.SetCardStatusResponse:
        return await cards.set_card_status(self.ctx, current_principal(), request)

    async def GetBalance(self, request: pb.GetBalanceRequest, context: Ctx) -> pb.Balance:
        return await service.get_balance(self.ctx, current_principal(), request)

    async def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: Ctx
    ) -> pb.ListTransactionsResponse:
        return await service.list_transactions(self.ctx, current_principal(), request)

    async def RequestAdjustment(self, request: pb.RequestAdjustmentRequest, context: Ctx) -> pb.Adjustment:
        return await adjustments.request_adjustment(self.ctx, current_principal(), request)

    async def ApproveAdjustment(self, request: pb.ApproveAdjustmentRequest, context: Ctx) -> pb.Adjustment:
        return await adjustments.approve(self.ctx, current_principal(), request)

    async def RejectAdjustment(self, request: pb.RejectAdjustmentRequest, context: Ctx) -> pb.Adjustment:
        return await adjustments.reject(self.ctx, current_principal(), request)

    async def ListAdjustments(
        self, request: pb.ListAdjustmentsRequest, context: Ctx
    ) -> pb.ListAdjustmentsResponse:
        return await adjustments.list_adjustments(self.ctx, current_principal(), request)

    async def ListBonusRules(
        self, request: pb.ListBonusRulesRequest, context: Ctx
    ) -> pb.ListBonusRulesResponse:
        return await rules.list_bonus_rules(self.ctx, current_principal())

    async def CreateBonusRule(self, request: pb.BonusRule, context: Ctx) -> pb.BonusRule:
        return await bonus.create_bonus_rule(self.ctx, current_principal(), request)

    async def UpdateBonusRule(self, request: pb.BonusRule, context: Ctx) -> pb.BonusRule:
        return await bonus.update_bonus_rule(self.ctx, current_principal(), request)

    async def SetBonusRuleActive(self, request: pb.SetBonusRuleActiveRequest, context: Ctx) -> pb.BonusRule:
        return await bonus.set_bonus_rule_active(self.ctx, current_principal(), request)

    async def DeleteBonusRule(
        self, request: pb.DeleteBonusRuleRequest, context: Ctx
    ) -> pb.DeleteBonusRuleResponse:
        return await bonus.delete_bonus_rule(self.ctx, current_principal(), request)

    async def GetTopUpPolicy(self, request: pb.GetTopUpPolicyRequest, context: Ctx) -> pb.TopUpPolicy:
        return await rules.get_policy(self.ctx, current_principal())

    async def SetTopUpPolicy(self, request: pb.TopUpPolicy, context: Ctx) -> pb.TopUpPolicy:
        return await rules.set_policy(self.ctx, current_principal(), request)

    async def ListRiskRules(self, request: pb.ListRiskRulesRequest, context: Ctx) -> pb.ListRiskRulesResponse:
        return await rules.list_risk_rules(self.ctx, current_principal())

    async def CreateRiskRule(self, request: pb.RiskRule, context: Ctx) -> pb.RiskRule:
        return await rules.create_risk_rule(self.ctx, current_principal(), request)

    async def ListAlerts(self, request: pb.ListAlertsRequest, context: Ctx) -> pb.ListAlertsResponse:
        return await rules.list_alerts(self.ctx, current_principal(), request)

    async def AcknowledgeAlert(self, request: pb.AcknowledgeAlertRequest, context: Ctx) -> pb.Alert:
        return await rules.acknowledge(self.ctx, current_principal(), request)

    async def UpdateRiskRule(self, request: pb.RiskRule, context: Ctx) -> pb.RiskRule:
        return await rules.update_risk_rule(self.ctx, current_principal(), request)

    async def SetRiskRuleActive(self, request: pb.SetRiskRuleActiveRequest, context: Ctx) -> pb.RiskRule:
        return await rules.set_risk_rule_active(self.ctx, current_principal(), request)

    async def DeleteRiskRule(
        self, request: pb.DeleteRiskRuleRequest, context: Ctx
    ) -> pb.DeleteRiskRuleResponse:
        return await rules.delete_risk_rule(self.ctx, current_principal(), request)

    async def StartBatchTopUp(self, request: pb.StartBatchTopUpRequest, context: Ctx) -> pb.BatchJob:
        return await batch.start(self.ctx, current_principal(), request)

    async def GetBatchJob(self, request: pb.GetBatchJobRequest, context: Ctx) -> pb.BatchJob:
        return await batch.get(self.ctx, current_principal(), request)

    async def Settlement(self, request: pb.SettlementRequest, context: Ctx) -> pb.SettlementResponse:
        return await reports.settlement(self.ctx, current_principal(), request)

    async def GetLiability(self, request: pb.GetLiabilityRequest, context: Ctx) -> pb.Liability:
        return await reports.liability(self.ctx, current_principal(), request)

    async def TopUpReport(self, request: pb.TopUpReportRequest, context: Ctx) -> pb.TopUpReportResponse:
        return await reports.top_up_report(self.ctx, current_principal(), request)

    async def DailySummary(
        self, request: common_pb2.DailySummaryRequest, context: Ctx
    ) -> common_pb2.DailySummaryResponse:
        return await summary.daily_summary(self.ctx, current_principal(), request)
