"""Gateway side of members and cards: org codes -> paths, protobuf -> the REST JSON, and the
member use cases the REST routes (routes/members.py) and the pages share: register, identify
at the counter, the profile, search, edit, anonymize, visits and feedback. Members owns the
data and re-checks scope."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from chainclub.loyalty.v1 import loyalty_pb2 as loyalty_pb
from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit, loyalty, member_purchases, org, wallet
from services.gateway.member_schemas import FeedbackCreate, MemberCreate, MemberUpdate, VisitCreate
from services.gateway.protojson import plain
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


@dataclass(frozen=True)
class SearchFilters:
    """The member list's filters (``GET /api/v1/members``); None = not filtered."""

    phone: str | None = None
    q: str | None = None  # member number, name or phone
    tag: str | None = None
    tier: str | None = None
    store: str | None = None  # a store code in the caller's scope
    birthday_month: int | None = None
    segment: str | None = None  # a quadrant or lifecycle stage (loyalty)

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


async def search_request(
    state: GatewayState, p: Principal, f: SearchFilters
) -> pb.SearchMembersRequest | None:
    """The members service's request for ``f`` (org codes, segments and tiers resolved in the
    caller's scope); None when the segment or tier has no member, so nothing can match. A tier
    is loyalty's current one (purchases move it; members keeps only the tier at registration)."""
    req = pb.SearchMembersRequest(
        phone=f.phone or "",
        q=f.q or "",
        tag=f.tag or "",
        birthday_month=f.birthday_month or 0,
    )
    if f.store:
        req.store_path = await org.unit_path(state, p, f.store, field="store")
    if f.segment:  # a quadrant or lifecycle stage, resolved by loyalty within the same scope
        found = await state.clients.call(
            state.clients.loyalty.MembersInSegment,
            loyalty_pb.MembersInSegmentRequest(segment=f.segment, store_path=req.store_path),
            p,
        )
        if not found.member_nos:
            return None
        req.member_nos.extend(found.member_nos)
    if f.tier:
        on_tier = await member_purchases.members_on_tier(state, p, f.tier, req.store_path)
        if f.segment:  # both: the members in the segment and on the tier
            on_tier = sorted(set(on_tier) & set(req.member_nos))
            del req.member_nos[:]
        if not on_tier:
            return None
        req.member_nos.extend(on_tier)
    return req


async def search(
    state: GatewayState, p: Principal, f: SearchFilters, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """One page of the members in the caller's scope matching ``f``, each with loyalty's tier
    (the tier at registration while loyalty has no account or does not answer). -> ``MemberPage``."""
    req = await search_request(state, p, f)
    if req is None:
        return {"items": [], "next_cursor": None}
    req.page.limit, req.page.cursor = limit, cursor or ""
    reply = await state.clients.call(state.clients.members.SearchMembers, req, p)
    items = [member_json(m) for m in reply.members]
    if f.tier:  # loyalty put them there: that is their tier now
        tiers = {m["member_no"]: f.tier for m in items}
    else:
        tiers = await member_purchases.current_tiers(state, p, [m["member_no"] for m in items])
    for item in items:
        item["tier"] = tiers.get(item["member_no"], item["tier"])
    return {"items": items, "next_cursor": reply.page.next_cursor or None}


PATCH_FIELDS = {"home_store": "home_store_path", "custom_fields": "custom_fields"}


async def update(
    state: GatewayState, request: Request, p: Principal, member_no: str, body: MemberUpdate
) -> dict[str, Any]:
    """Changes the fields given in ``body`` (only those), audited. -> ``MemberOut``."""
    given = body.model_dump(exclude_unset=True)
    if any(v is None for v in given.values()):
        nulls = sorted(k for k, v in given.items() if v is None)
        raise InvalidArgument(f"{', '.join(nulls)} cannot be null; send a value", field=nulls[0])
    path = await store_path(state, p, given.pop("home_store")) if "home_store" in given else None
    mask = [PATCH_FIELDS.get(k, k) for k in given] + (["home_store_path"] if path else [])
    req = pb.UpdateMemberRequest(member_no=member_no, values=values_request(given, path), update_mask=mask)
    reply = await state.clients.call(state.clients.members.UpdateMember, req, p)
    await audit.record_alone(
        state,
        request,
        p,
        "member.update",
        "member",
        member_no,
        reply.home_store_path,
        {"fields": sorted(mask)},
    )
    return member_json(reply)


async def anonymize(state: GatewayState, request: Request, p: Principal, member_no: str) -> dict[str, Any]:
    """Erases the member's personal data for good (the records stay, masked), audited.
    -> ``MemberOut``."""
    reply = await state.clients.call(
        state.clients.members.AnonymizeMember, pb.AnonymizeMemberRequest(member_no=member_no), p
    )
    await audit.record_alone(
        state, request, p, "member.anonymize", "member", member_no, reply.home_store_path
    )
    return member_json(reply)


async def add_visit(
    state: GatewayState, request: Request, p: Principal, member_no: str, body: VisitCreate
) -> dict[str, Any]:
    """A visit record (回访) of the member, audited."""
    reply = await state.clients.call(
        state.clients.members.AddVisit, pb.AddVisitRequest(member_no=member_no, **body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "visit.create", "member", member_no, reply.store_path, {"id": reply.id}
    )
    return plain(reply)


async def visits(
    state: GatewayState, p: Principal, member_no: str, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The member's visit records, one page."""
    req = pb.ListVisitsRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.members.ListVisits, req, p)
    return {"items": [plain(v) for v in reply.visits], "next_cursor": reply.page.next_cursor or None}


async def add_feedback(
    state: GatewayState, request: Request, p: Principal, member_no: str, body: FeedbackCreate
) -> dict[str, Any]:
    """A complaint, suggestion or praise of the member, audited."""
    reply = await state.clients.call(
        state.clients.members.AddFeedback, pb.AddFeedbackRequest(member_no=member_no, **body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "feedback.create", "member", member_no, p.scope, {"id": reply.id}
    )
    return plain(reply)


async def feedback(
    state: GatewayState, p: Principal, member_no: str, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The member's feedback, one page."""
    req = pb.ListFeedbackRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.members.ListFeedback, req, p)
    return {"items": [plain(f) for f in reply.feedback], "next_cursor": reply.page.next_cursor or None}
