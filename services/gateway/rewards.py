"""Rewards catalog (积分商城) and the referral rule (推荐有礼): the use cases the REST routes and
the console's rewards screen share. The loyalty service owns stock, points and the rule; the
gateway maps JSON and records every change in the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from pydantic import Field, StrictBool, StrictInt

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from services.gateway import audit
from services.gateway.protojson import plain
from services.gateway.schemas import Strict
from services.gateway.state import GatewayState

MAX_STOCK = 10**9
Points = Annotated[StrictInt, Field(ge=1, le=10**12)]


class RewardBody(Strict):
    name: str = Field(min_length=1, max_length=100)
    points_cost: Points
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
    active: StrictBool = True


class RewardPatch(Strict):
    """An edit: the fields given change; ``stock_delta`` restocks (+) or takes out of stock (-)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    points_cost: Points | None = None
    stock_delta: Annotated[StrictInt, Field(ge=-MAX_STOCK, le=MAX_STOCK)] = 0


class RedemptionBody(Strict):
    reward_id: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(default=1, ge=1, le=1000)


class ReferralRuleBody(Strict):
    active: StrictBool
    referrer_points: Annotated[StrictInt, Field(ge=0, le=10**9)] = 0
    referrer_coupon_template_id: str = Field(default="", max_length=64)
    referee_coupon_template_id: str = Field(default="", max_length=64)


async def list_rewards(state: GatewayState, p: Principal, active_only: bool = False) -> list[dict[str, Any]]:
    reply = await state.clients.call(
        state.clients.loyalty.ListRewards, pb.ListRewardsRequest(active_only=active_only), p
    )
    return [plain(r) for r in reply.rewards]


async def create_reward(
    state: GatewayState, request: Request, p: Principal, body: RewardBody
) -> dict[str, Any]:
    reward = await state.clients.call(state.clients.loyalty.CreateReward, pb.Reward(**body.model_dump()), p)
    await audit.record_alone(
        state, request, p, "loyalty.reward.create", "reward", reward.id, "HQ", body.model_dump()
    )
    return plain(reward)


async def update_reward(
    state: GatewayState, request: Request, p: Principal, reward_id: str, body: RewardPatch
) -> dict[str, Any]:
    """Rename, reprice, restock: a take-out beyond what is left is a conflict saying how many are."""
    given = body.model_dump(exclude_none=True)
    reward = await state.clients.call(
        state.clients.loyalty.UpdateReward, pb.UpdateRewardRequest(id=reward_id, **given), p
    )
    await audit.record_alone(state, request, p, "loyalty.reward.update", "reward", reward.id, "HQ", given)
    return plain(reward)


async def set_reward_active(
    state: GatewayState, request: Request, p: Principal, reward_id: str, active: bool
) -> dict[str, Any]:
    """A deactivated reward cannot be redeemed until activated again."""
    reward = await state.clients.call(
        state.clients.loyalty.SetRewardActive, pb.SetRewardActiveRequest(id=reward_id, active=active), p
    )
    action = "loyalty.reward.activate" if active else "loyalty.reward.deactivate"
    await audit.record_alone(state, request, p, action, "reward", reward.id, "HQ", {"name": reward.name})
    return plain(reward)


async def delete_reward(state: GatewayState, request: Request, p: Principal, reward_id: str) -> None:
    """Only a reward never redeemed (else a conflict: deactivate it instead)."""
    await state.clients.call(state.clients.loyalty.DeleteReward, pb.DeleteRewardRequest(id=reward_id), p)
    await audit.record_alone(state, request, p, "loyalty.reward.delete", "reward", reward_id, "HQ")


async def redeem(
    state: GatewayState, request: Request, p: Principal, key: str, member_no: str, body: RedemptionBody
) -> dict[str, Any]:
    """Spend a member's points on a reward (``key``: the caller-scoped Idempotency-Key; a
    replay answers the same redemption). The member must be in the caller's reach (else not
    found, as the members service says)."""
    await state.clients.call(state.clients.members.GetMember, mpb.GetMemberRequest(member_no=member_no), p)
    req = pb.RedeemRewardRequest(request_id=key, member_no=member_no, reward_id=body.reward_id, qty=body.qty)
    done = await state.clients.call(state.clients.loyalty.RedeemReward, req, p)
    await audit.record_alone(state, request, p, "loyalty.reward.redeem", "member", member_no, p.scope,
                             {"reward_id": body.reward_id, "qty": body.qty, "points": done.points})  # fmt: skip
    return plain(done)


async def referral_rule(state: GatewayState, p: Principal) -> dict[str, Any]:
    rule = await state.clients.call(state.clients.loyalty.GetReferralRule, pb.GetReferralRuleRequest(), p)
    return plain(rule)


async def set_referral_rule(
    state: GatewayState, request: Request, p: Principal, body: ReferralRuleBody
) -> dict[str, Any]:
    rule = await state.clients.call(
        state.clients.loyalty.SetReferralRule, pb.ReferralRule(**body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "loyalty.referral_rule.put", "referral_rule", "referral", "HQ", body.model_dump()
    )
    return plain(rule)
