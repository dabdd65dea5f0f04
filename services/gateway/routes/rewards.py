"""Rewards catalog (积分商城, docs/api.md "Loyalty"): HQ keeps the gifts (creates, edits,
restocks, deactivates, deletes one never redeemed) and the referral rule (推荐有礼); counter
staff redeem a member's points for them (Idempotency-Key). The loyalty service owns stock and
points; the use cases are in services/gateway/rewards.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import Field, StrictInt

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from services.gateway import audit
from services.gateway import rewards as use
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.protojson import plain
from services.gateway.rewards import ReferralRuleBody, RewardBody, RewardPatch
from services.gateway.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["loyalty"])

RewardId = Annotated[str, Path(max_length=64, description="the reward's id")]


class RedemptionBody(Strict):
    reward_id: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(default=1, ge=1, le=1000)


@router.get("/loyalty/rewards")
async def rewards(
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.read"))],
    state: State,
    active_only: bool = False,
) -> dict:
    return {"items": await use.list_rewards(state, p, active_only), "next_cursor": None}


@router.post("/loyalty/rewards", status_code=201)
async def create_reward(
    body: RewardBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> dict:
    return await use.create_reward(state, request, p, body)


@router.patch("/loyalty/rewards/{reward_id}")
async def update_reward(
    reward_id: RewardId,
    body: RewardPatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> dict:
    """Rename, reprice, restock (``stock_delta`` > 0) or take out of stock (< 0; 409 beyond what is left)."""
    return await use.update_reward(state, request, p, reward_id, body)


@router.post("/loyalty/rewards/{reward_id}/deactivate")
async def deactivate_reward(
    reward_id: RewardId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> dict:
    """Deactivate a reward: it cannot be redeemed until activated again."""
    return await use.set_reward_active(state, request, p, reward_id, False)


@router.post("/loyalty/rewards/{reward_id}/activate")
async def activate_reward(
    reward_id: RewardId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> dict:
    return await use.set_reward_active(state, request, p, reward_id, True)


@router.delete("/loyalty/rewards/{reward_id}", status_code=204)
async def delete_reward(
    reward_id: RewardId,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> Response:
    """Delete a reward never redeemed (409 ``conflict``: deactivate it instead)."""
    await use.delete_reward(state, request, p, reward_id)
    return Response(status_code=204)


@router.get("/loyalty/referral-rule")
async def referral_rule(
    p: Annotated[Principal, Depends(permitted("loyalty.rules.read"))], state: State
) -> dict:
    return await use.referral_rule(state, p)


@router.put("/loyalty/referral-rule")
async def put_referral_rule(
    body: ReferralRuleBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.referral.write"))],
    state: State,
) -> dict:
    """Replace the referral rule (推荐有礼), applied to members registered with a referrer from now on."""
    return await use.set_referral_rule(state, request, p, body)


@router.post("/members/{member_no}/redemptions", status_code=201)
async def redeem(
    member_no: str,
    body: RedemptionBody,
    p: Annotated[Principal, Depends(permitted("loyalty.redeem"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    # The member must be in the caller's reach (else 404, as the members service says).
    await state.clients.call(state.clients.members.GetMember, mpb.GetMemberRequest(member_no=member_no), p)
    req = pb.RedeemRewardRequest(request_id=key, member_no=member_no, reward_id=body.reward_id, qty=body.qty)
    done = await state.clients.call(state.clients.loyalty.RedeemReward, req, p)
    await audit.record_alone(state, request, p, "loyalty.reward.redeem", "member", member_no, p.scope,
                             {"reward_id": body.reward_id, "qty": body.qty, "points": done.points})  # fmt: skip
    return plain(done)
