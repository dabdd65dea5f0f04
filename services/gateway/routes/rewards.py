"""Rewards catalog (积分商城, docs/api.md "Loyalty"): HQ keeps the gifts; counter staff redeem a
member's points for them (Idempotency-Key). The loyalty service owns stock and points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StrictBool, StrictInt

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from services.gateway import audit
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.protojson import plain
from services.gateway.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["loyalty"])


class RewardBody(Strict):
    name: str = Field(min_length=1, max_length=100)
    points_cost: Annotated[StrictInt, Field(ge=1, le=10**12)]
    stock: Annotated[StrictInt, Field(ge=0, le=10**9)]
    active: StrictBool = True


class RedemptionBody(Strict):
    reward_id: str = Field(min_length=1, max_length=64)
    qty: StrictInt = Field(default=1, ge=1, le=1000)


@router.get("/loyalty/rewards")
async def rewards(
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.read"))],
    state: State,
    active_only: bool = False,
) -> dict:
    reply = await state.clients.call(
        state.clients.loyalty.ListRewards, pb.ListRewardsRequest(active_only=active_only), p
    )
    return {"items": [plain(r) for r in reply.rewards], "next_cursor": None}


@router.post("/loyalty/rewards", status_code=201)
async def create_reward(
    body: RewardBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("loyalty.rewards.write"))],
    state: State,
) -> dict:
    reward = await state.clients.call(state.clients.loyalty.CreateReward, pb.Reward(**body.model_dump()), p)
    await audit.record_alone(
        state, request, p, "loyalty.reward.create", "reward", reward.id, "HQ", body.model_dump()
    )
    return plain(reward)


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
