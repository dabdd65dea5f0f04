"""Card use cases the REST routes (routes/cards.py) and the pages share: read a card, change
its status (挂失, 解挂, freeze, unfreeze, cancel), replace it (补卡) with its fee. The members
service owns the cards and re-checks scope; every change is audited."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request

from chainclub.members.v1 import members_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2 as wallet_pb
from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument, NotFound
from services.gateway import audit
from services.gateway.member_schemas import CardTypeBody
from services.gateway.members import card_json
from services.gateway.org import unit_path
from services.gateway.permissions import require
from services.gateway.protojson import plain
from services.gateway.state import GatewayState

# status action -> the permission it needs
STATUS_ACTIONS = {
    "report_loss": "cards.report_loss",
    "cancel_loss": "cards.manage",
    "freeze": "cards.manage",
    "unfreeze": "cards.manage",
    "cancel": "cards.manage",
}


async def _card(state: GatewayState, p: Principal, card_no: str) -> pb.Card:
    return await state.clients.call(state.clients.members.GetCard, pb.GetCardRequest(card_no=card_no), p)


async def get_card(state: GatewayState, p: Principal, card_no: str) -> dict[str, Any]:
    """The card (``card_json``); cards work across the chain, so any store may read one."""
    return card_json(await _card(state, p, card_no))


async def card_in_scope(state: GatewayState, p: Principal, card_no: str) -> dict[str, Any]:
    """The card (``card_json`` with its owner's ``home_store_path``) when that home store is in
    the caller's scope; otherwise "not found", as for a card that does not exist (the
    console's view of its own cards, where the counter serves any store's card)."""
    card = await _card(state, p, card_no)
    if not p.may_access(card.home_store_path):
        raise NotFound(f"no card {card_no!r}")
    return {**card_json(card), "home_store_path": card.home_store_path}


async def change_status(
    state: GatewayState, request: Request, p: Principal, card_no: str, action: str, reason: str = ""
) -> dict[str, Any]:
    """One of ``STATUS_ACTIONS`` at the caller's store, audited; the card after it
    (``card_json``). An unknown action is 422, a role without its permission 403."""
    if action not in STATUS_ACTIONS:
        raise InvalidArgument(f"action must be one of {', '.join(STATUS_ACTIONS)}", field="action")
    require(p, STATUS_ACTIONS[action])
    req = pb.ChangeCardStatusRequest(card_no=card_no, action=action, reason=reason, acting_store_path=p.scope)
    reply = await state.clients.call(state.clients.members.ChangeCardStatus, req, p)
    await audit.record_alone(
        state, request, p, f"card.{action}", "card", card_no, reply.home_store_path, {"status": reply.status}
    )
    return card_json(reply)


async def replace(
    state: GatewayState, request: Request, p: Principal, card_no: str, fee_payment: str = "cash"
) -> dict[str, Any]:
    """补卡: a new card on the same account; the card type's replacement fee is charged in
    cash or from the stored value (checked before the card is replaced). The new card
    (``card_json``) with ``"fee"``: null (no fee), or ``{"amount","payment","transaction_id",
    "status": "charged"}``, or ``{"amount","payment","status": "failed","code","detail"}``
    (the card is replaced; the fee stays to be collected)."""
    old = await _card(state, p, card_no)
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


async def card_types(state: GatewayState, p: Principal) -> list[dict[str, Any]]:
    """The card types HQ defined (fees, limits, discount)."""
    reply = await state.clients.call(state.clients.members.ListCardTypes, pb.ListCardTypesRequest(), p)
    return [plain(t) for t in reply.card_types]


async def put_card_type(
    state: GatewayState, request: Request, p: Principal, body: CardTypeBody
) -> dict[str, Any]:
    """Create or redefine (by code) a card type (HQ), audited; ``home_scope`` is an org unit
    code (none: the whole chain). The card type as the service holds it."""
    require(p, "card_types.write")
    values = body.model_dump()
    values["home_scope"] = (
        await unit_path(state, p, body.home_scope, field="home_scope") if body.home_scope else ""
    )
    reply = await state.clients.call(state.clients.members.UpsertCardType, pb.CardType(**values), p)
    await audit.record_alone(
        state, request, p, "card_type.put", "card_type", body.code, "HQ", body.model_dump()
    )
    return plain(reply)
