"""Gateway side of members and cards: org codes -> paths, protobuf -> the REST JSON, and the
member use cases the REST routes (routes/members.py) and the pages share: register, identify
at the counter, the profile. Members owns the data and re-checks scope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit, loyalty, org, wallet
from services.gateway.member_schemas import MemberCreate
from services.gateway.state import GatewayState


# --- answers (the JSON of the routes, field for field) -------------------------------------------
class CardSummary(BaseModel):
    card_no: str
    card_type: str
    status: str
    primary: bool


class ConsentsOut(BaseModel):
    sms: bool
    email: bool
    wechat: bool


class MemberOut(BaseModel):
    member_no: str
    name: str
    phone: str
    gender: str | None
    birthday: str | None
    email: str | None
    id_number: str | None
    address: str | None
    income_band: str | None
    occupation: str | None
    preferences: dict[str, str]
    home_store: str
    home_store_path: str
    source: str
    referrer_member_no: str | None
    joined_on: str
    consents: ConsentsOut
    tags: list[str]
    custom_fields: dict[str, Any]
    tier: str
    status: str
    pii_masked: bool
    card: CardSummary | None
    cards: list[CardSummary]
    points: int | None
    balance: wallet.Buckets | None


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class IdentifiedCard(BaseModel):
    card_no: str
    card_type: str
    status: str


class Identified(BaseModel):
    """Who is at the counter, masked: no PII beyond the display name and the masked phone."""

    member_no: str
    display_name: str
    phone: str
    tier: str
    card: IdentifiedCard
    balance: wallet.Buckets | None
    points: int | None
    coupons: list[loyalty.CouponBrief]


class Holder(BaseModel):
    member_no: str
    role: str


class CardOut(BaseModel):
    card_no: str
    card_type: str
    status: str
    member_no: str
    holders: list[Holder]
    issued_on: str
    expires_on: str | None
    replaced_by: str | None
    replaces: str | None
    discount_bps: int
    replacement_fee: int = 0  # fen, charged when the card is replaced (补卡)


class ReplacedCard(CardOut):
    fee: dict[str, Any] | None


async def store_path(
    state: GatewayState, p: Principal, code: str | None, *, field: str = "home_store"
) -> str:
    """The path of a store in the caller's scope; without a code, the caller's own store."""
    async with state.db.sessions() as session:
        if code is None:
            unit = await org.find(session, p.org_unit)
            if unit is None or unit.kind != "store":
                raise InvalidArgument(f"{field} is required: you do not belong to a store", field=field)
            return unit.path
        unit = await org.find(session, code)
    if unit is None or not p.may_access(unit.path):
        raise InvalidArgument(f"unknown store {code!r}", field=field)
    if unit.kind != "store":
        raise InvalidArgument(f"{code!r} is a {unit.kind}, not a store", field=field)
    return unit.path


def card_summary(c: pb.CardSummary) -> dict[str, Any]:
    return {"card_no": c.card_no, "card_type": c.card_type, "status": c.status, "primary": c.primary}


def member_json(m: pb.Member) -> dict[str, Any]:
    cards = [card_summary(c) for c in m.cards]
    current = next((c for c in cards if c["primary"] and c["status"] not in ("replaced", "cancelled")), None)
    return {
        "member_no": m.member_no,
        "name": m.name,
        "phone": m.phone,
        "gender": m.gender or None,
        "birthday": m.birthday or None,
        "email": m.email or None,
        "id_number": m.id_number or None,
        "address": m.address or None,
        "income_band": m.income_band or None,
        "occupation": m.occupation or None,
        "preferences": dict(m.preferences),
        "home_store": m.home_store,
        "home_store_path": m.home_store_path,
        "source": m.source,
        "referrer_member_no": m.referrer_member_no or None,
        "joined_on": m.joined_on,
        "consents": {"sms": m.consents.sms, "email": m.consents.email, "wechat": m.consents.wechat},
        "tags": list(m.tags),
        "custom_fields": json.loads(m.custom_fields_json or "{}"),
        "tier": m.tier,
        "status": m.status,
        "pii_masked": m.pii_masked,
        "card": current or (cards[0] if cards else None),
        "cards": cards,
        # the profile fills them in from loyalty and the wallet
        "points": None,
        "balance": None,
    }


def card_json(c: pb.Card) -> dict[str, Any]:
    return {
        "card_no": c.card_no,
        "card_type": c.card_type,
        "status": c.status,
        "member_no": c.member_no,
        "holders": [{"member_no": h.member_no, "role": h.role} for h in c.holders],
        "issued_on": c.issued_on,
        "expires_on": c.expires_on or None,
        "replaced_by": c.replaced_by or None,
        "replaces": c.replaces or None,
        "discount_bps": c.discount_bps,
        "replacement_fee": c.replacement_fee,
    }


def values_request(body: dict[str, Any], home_store_path: str | None) -> pb.RegisterMemberRequest:
    req = pb.RegisterMemberRequest()
    for key in ("name", "phone", "gender", "birthday", "email", "id_number", "address", "income_band",
                "occupation", "source", "referrer_member_no", "card_type"):  # fmt: skip
        if body.get(key) is not None:
            setattr(req, key, body[key])
    if body.get("preferences") is not None:
        req.preferences.update(body["preferences"])
    if body.get("tags") is not None:
        req.tags.extend(body["tags"])
    if body.get("custom_fields") is not None:
        req.custom_fields_json = json.dumps(body["custom_fields"], ensure_ascii=False)
    if body.get("consents") is not None:
        req.has_consents = True
        req.consents.CopyFrom(pb.Consents(**body["consents"]))
    if home_store_path:
        req.home_store_path = home_store_path
    return req


# --- use cases -----------------------------------------------------------------------------------
async def register(state: GatewayState, request: Request, p: Principal, body: MemberCreate) -> dict[str, Any]:
    """A new member (with a first card) at ``body.home_store`` or the caller's store, audited.
    -> ``MemberOut`` (points and balance null)."""
    path = await store_path(state, p, body.home_store)
    reply = await state.clients.call(
        state.clients.members.RegisterMember, values_request(body.model_dump(exclude_unset=True), path), p
    )
    await audit.record_alone(
        state, request, p, "member.register", "member", reply.member_no, path,
        {"card_no": reply.cards[0].card_no},
    )  # fmt: skip
    return member_json(reply)


async def identify(
    state: GatewayState, p: Principal, *, card_no: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    """Who is at the counter, by card or phone, chain-wide, masked. -> ``Identified``: the
    wallet's balance, loyalty's points, tier and usable coupons, read concurrently. A service
    that does not answer leaves its figures out (balance or points null, no coupons, members'
    tier) rather than failing the counter."""
    reply = await state.clients.call(
        state.clients.members.IdentifyMember,
        pb.IdentifyMemberRequest(card_no=card_no or "", phone=phone or ""),
        p,
    )
    balance, (points, tier), coupons = await asyncio.gather(
        wallet.card_balance(state, p, reply.card_no),
        loyalty.counter_points(state, p, reply.member_no),
        loyalty.usable_coupons(state, p, reply.member_no),
    )
    return {
        "member_no": reply.member_no,
        "display_name": reply.display_name,
        "phone": reply.phone_masked,
        "tier": tier or reply.tier,
        "card": {"card_no": reply.card_no, "card_type": reply.card_type, "status": reply.card_status},
        "balance": balance,
        "points": points,
        "coupons": coupons,
    }


async def profile(state: GatewayState, p: Principal, member_no: str) -> dict[str, Any]:
    """The member (``MemberOut``) with the current card's balance, loyalty's points and tier
    (members' tier while loyalty has no account; points null while loyalty does not answer)."""
    body = member_json(
        await state.clients.call(state.clients.members.GetMember, pb.GetMemberRequest(member_no=member_no), p)
    )
    balance, (points, tier) = await asyncio.gather(
        wallet.card_balance(state, p, body["card"]["card_no"] if body["card"] else ""),
        loyalty.counter_points(state, p, member_no),
    )
    body["balance"], body["points"] = balance, points
    if tier:
        body["tier"] = tier
    return body
