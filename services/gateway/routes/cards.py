"""Cards (API.md "Cards") and HQ's card types."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from chainclub.members.v1 import members_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2 as wallet_pb
from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway import audit
from services.gateway.deps import State, permitted
from services.gateway.member_schemas import CardAction, CardIssue, CardTypeBody, Replace
from services.gateway.members import card_json, plain, unit_path

router = APIRouter(prefix="/api/v1", tags=["cards"])

ACTIONS = {
    "report-loss": ("report_loss", "cards.report_loss"),
    "cancel-loss": ("cancel_loss", "cards.manage"),
    "freeze": ("freeze", "cards.manage"),
    "unfreeze": ("unfreeze", "cards.manage"),
    "cancel": ("cancel", "cards.manage"),
}


@router.get("/cards/{card_no}")
async def get_card(
    card_no: str, p: Annotated[Principal, Depends(permitted("cards.read"))], state: State
) -> dict:
    return card_json(
        await state.clients.call(state.clients.members.GetCard, pb.GetCardRequest(card_no=card_no), p)
    )


def _action_route(slug: str, action: str, permission: str):  # type: ignore[no-untyped-def]
    async def change(
        card_no: str,
        request: Request,
        p: Annotated[Principal, Depends(permitted(permission))],
        state: State,
        body: CardAction | None = None,
    ) -> dict:
        req = pb.ChangeCardStatusRequest(
            card_no=card_no,
            action=action,
            reason=(body.reason if body else None) or "",
            acting_store_path=p.scope,
        )
        reply = await state.clients.call(state.clients.members.ChangeCardStatus, req, p)
        await audit.record_alone(
            state,
            request,
            p,
            f"card.{action}",
            "card",
            card_no,
            reply.home_store_path,
            {"status": reply.status},
        )
        return card_json(reply)

    change.__name__ = f"card_{action}"
    router.add_api_route(f"/cards/{{card_no}}/{slug}", change, methods=["POST"], name=f"card_{action}")


for _slug, (_action, _permission) in ACTIONS.items():
    _action_route(_slug, _action, _permission)


@router.post("/cards/{card_no}/replace", status_code=201)
async def replace(
    card_no: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("cards.manage"))],
    state: State,
    body: Replace | None = None,
) -> dict:
    """补卡: a new card on the same account; the card type's replacement fee is charged in
    cash or from the stored value (checked before the card is replaced)."""
    fee_payment = body.fee_payment if body else "cash"
    old = await state.clients.call(state.clients.members.GetCard, pb.GetCardRequest(card_no=card_no), p)
    fee = old.replacement_fee
    if fee and fee_payment == "stored_value":
        balance = await state.clients.call(
            state.clients.wallet.GetBalance, wallet_pb.GetBalanceRequest(card_no=card_no), p
        )
        if balance.principal < fee:
            raise ChainclubError(
                f"the replacement fee is {fee} fen but the card's principal holds {balance.principal} fen",
                reason="insufficient_balance",
            )
    req = pb.ReplaceCardRequest(card_no=card_no, fee_payment=fee_payment, acting_store_path=p.scope)
    reply = await state.clients.call(state.clients.members.ReplaceCard, req, p)
    charged = None
    if fee:
        charge = wallet_pb.ChargeFeeRequest(
            request_id=hashlib.sha256(f"replacement-fee\n{card_no}".encode()).hexdigest(), card_no=reply.card_no,
            fee_type="replacement", payment=fee_payment, acting_store_path=p.scope,
        )  # fmt: skip
        try:
            t = await state.clients.call(state.clients.wallet.ChargeFee, charge, p)
            charged = {
                "amount": t.amount,
                "payment": fee_payment,
                "transaction_id": t.transaction_id,
                "status": "charged",
            }
        except ChainclubError as err:  # the card is replaced; the fee stays to be collected
            charged = {
                "amount": fee,
                "payment": fee_payment,
                "status": "failed",
                "code": err.reason,
                "detail": err.detail,
            }
    await audit.record_alone(
        state, request, p, "card.replace", "card", card_no, reply.home_store_path,
        {"new_card_no": reply.card_no, "fee_payment": fee_payment, "fee": charged},
    )  # fmt: skip
    return {**card_json(reply), "fee": charged}


@router.post("/members/{member_no}/cards", status_code=201)
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
    reply = await state.clients.call(state.clients.members.ListCardTypes, pb.ListCardTypesRequest(), p)
    return {"items": [plain(t) for t in reply.card_types]}


@router.post("/card-types", status_code=201)
async def put_card_type(
    body: CardTypeBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("card_types.write"))],
    state: State,
) -> dict:
    """Create or redefine a card type (HQ). ``home_scope`` is an org unit code."""
    values = body.model_dump()
    values["home_scope"] = (
        await unit_path(state, p, body.home_scope, field="home_scope") if body.home_scope else ""
    )
    reply = await state.clients.call(state.clients.members.UpsertCardType, pb.CardType(**values), p)
    await audit.record_alone(
        state, request, p, "card_type.put", "card_type", body.code, "HQ", body.model_dump()
    )
    return plain(reply)
