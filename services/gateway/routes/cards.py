"""Cards (docs/api.md "Cards") and HQ's card types."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from services.gateway import audit, cards
from services.gateway.deps import State, permitted
from services.gateway.member_schemas import CardAction, CardIssue, CardTypeBody, Replace
from services.gateway.members import CardOut, ReplacedCard, card_json

router = APIRouter(prefix="/api/v1", tags=["cards"])

# path slug -> (status action, the permission its route requires)
ACTIONS = {
    action.replace("_", "-"): (action, permission) for action, permission in cards.STATUS_ACTIONS.items()
}


@router.get("/cards/{card_no}", response_model=CardOut)
async def get_card(
    card_no: str, p: Annotated[Principal, Depends(permitted("cards.read"))], state: State
) -> dict:
    return await cards.get_card(state, p, card_no)


def _action_route(slug: str, action: str, permission: str):  # type: ignore[no-untyped-def]
    async def change(
        card_no: str,
        request: Request,
        p: Annotated[Principal, Depends(permitted(permission))],
        state: State,
        body: CardAction | None = None,
    ) -> dict:
        reason = (body.reason if body else None) or ""
        return await cards.change_status(state, request, p, card_no, action, reason)

    change.__name__ = f"card_{action}"
    router.add_api_route(
        f"/cards/{{card_no}}/{slug}", change, methods=["POST"], name=f"card_{action}", response_model=CardOut
    )


for _slug, (_action, _permission) in ACTIONS.items():
    _action_route(_slug, _action, _permission)


@router.post("/cards/{card_no}/replace", status_code=201, response_model=ReplacedCard)
async def replace(
    card_no: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("cards.manage"))],
    state: State,
    body: Replace | None = None,
) -> dict:
    """补卡: a new card on the same account; the card type's replacement fee is charged in
    cash or from the stored value (checked before the card is replaced)."""
    return await cards.replace(state, request, p, card_no, body.fee_payment if body else "cash")


@router.post("/members/{member_no}/cards", status_code=201, response_model=CardOut)
async def issue(
    member_no: str,
    body: CardIssue,
    request: Request,
    p: Annotated[Principal, Depends(permitted("cards.manage"))],
    state: State,
) -> dict:
    req = pb.IssueCardRequest(member_no=member_no, card_type=body.card_type, holder_member_nos=body.holders)
    reply = await state.clients.call(state.clients.members.IssueCard, req, p)
    await audit.record_alone(state, request, p, "card.issue", "card", reply.card_no, reply.home_store_path)
    return card_json(reply)


@router.get("/card-types")
async def list_card_types(
    p: Annotated[Principal, Depends(permitted("card_types.read"))], state: State
) -> dict:
    return {"items": await cards.card_types(state, p)}


@router.post("/card-types", status_code=201)
async def put_card_type(
    body: CardTypeBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("card_types.write"))],
    state: State,
) -> dict:
    """Create or redefine a card type (HQ). ``home_scope`` is an org unit code."""
    return await cards.put_card_type(state, request, p, body)
