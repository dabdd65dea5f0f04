"""The counter's redemption task (兑换): the rewards on offer with their price in points and the
stock left; the clerk redeems one or more for the identified member, after a confirmation that
says how many points it spends. Each reward's form carries an Idempotency-Key made when it is
shown, so a double click or a retry redeems once. The page calls the use case of
``POST /api/v1/members/{member_no}/redemptions`` (services/gateway/rewards.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kit.errors import ChainclubError
from services.gateway import rewards
from services.gateway.deps import scoped_key
from services.gateway.permissions import COUNTER
from services.gateway.web.core import PageContext, PageRoute, gate
from services.gateway.web.counter_base import WARN, member_view, text
from services.gateway.web.vocabulary import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(COUNTER))]

# What the clerk reads when loyalty refuses a redemption.
REFUSED = {
    "insufficient_points": N_("The member does not have enough points for this."),
    "out_of_stock": N_("Not that many left in stock."),
    "not_found": N_("This reward is no longer on offer, or the member is not in your records."),
    "out_of_scope": N_("This reward is no longer on offer, or the member is not in your records."),
    "idempotency_key_reused": N_("This form was already used for another request. Open the task again."),
    "invalid_argument": N_("Enter a quantity from 1 to 1000."),
}


async def redeem_values(ctx: PageContext, member: dict | None) -> dict[str, Any]:
    """What the task shows when it opens: the rewards on offer, in stock or not."""
    offer = await rewards.list_rewards(ctx.state, ctx.p, active_only=True) if member else []
    return {"rewards": offer, "errors": {}, "result": None, "values": {}}


@router.post("/counter/redeem")
async def redeem(ctx: Ctx) -> Response:
    form = await ctx.form()
    card_no = text(form, "card_no", 32)
    member = await member_view(ctx, card_no)
    reward_id = text(form, "reward_id", 64)
    qty_text = text(form, "qty", 12) or "1"
    errors: dict[str, str] = {}
    if member is None:
        errors["_"] = ctx._("Identify a member first.")
    elif not re.fullmatch(r"\d{1,4}", qty_text) or not 1 <= int(qty_text) <= 1000:
        errors[reward_id] = ctx._(REFUSED["invalid_argument"])
    else:
        try:
            body = rewards.RedemptionBody(reward_id=reward_id or "-", qty=int(qty_text))
            key = scoped_key(ctx.p, text(form, "idempotency_key", 255))
            result = await rewards.redeem(ctx.state, ctx.request, ctx.p, key, member["member_no"], body)
        except ChainclubError as exc:
            if exc.reason not in REFUSED:
                raise
            errors[reward_id] = ctx._(REFUSED[exc.reason])
        else:
            member = await member_view(ctx, card_no)
            return ctx.render("counter/_redeem.html", status=201, member=member, oob=True, warn=WARN,
                              **(await redeem_values(ctx, member) | {"result": result}))  # fmt: skip
    values = {"reward_id": reward_id, "qty": qty_text}
    return ctx.render("counter/_redeem.html", status=422, member=member, warn=WARN,
                      **(await redeem_values(ctx, member) | {"errors": errors, "values": values}))  # fmt: skip
