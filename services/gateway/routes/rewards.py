"""Rewards catalog (积分商城, docs/api.md "Loyalty"): HQ keeps the gifts (creates, edits,
restocks, deactivates, deletes one never redeemed) and the referral rule (推荐有礼); counter
staff redeem a member's points for them (Idempotency-Key). The loyalty service owns stock and
points; the use cases are in services/gateway/rewards.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from kit.auth import Principal
from services.gateway import rewards as use
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.rewards import RedemptionBody, ReferralRuleBody, RewardBody, RewardPatch

router = APIRouter(prefix="/api/v1", tags=["loyalty"])

RewardId = Annotated[str, Path(max_length=64, description="the reward's id")]


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
    return await use.redeem(state, request, p, key, member_no, body)
