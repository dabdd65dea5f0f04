"""Gateway side of members and cards: org codes -> paths, protobuf -> API.md JSON."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import org
from services.gateway.state import GatewayState


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


async def unit_path(state: GatewayState, p: Principal, code: str, *, field: str) -> str:
    async with state.db.sessions() as session:
        unit = await org.find(session, code)
    if unit is None or not p.may_access(unit.path):
        raise InvalidArgument(f"unknown org unit {code!r}", field=field)
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
        # Filled by the wallet and loyalty services as they land (issues 5 and 6).
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
    }


def plain(message) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A protobuf message as JSON-ready values: int64 stays a number (money is integer fen,
    not the string protobuf's JSON mapping would make it), timestamps are RFC 3339."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            out[field.name] = {k: _value(v) for k, v in value.items()}
        elif _repeated(field):
            out[field.name] = [_value(v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value(value)
    return out


def _repeated(field) -> bool:  # type: ignore[no-untyped-def]
    # protobuf 7 dropped FieldDescriptor.label in favour of is_repeated
    if hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


def _value(value):  # type: ignore[no-untyped-def]
    if isinstance(value, Timestamp):
        return value.ToDatetime(tzinfo=UTC).isoformat() if (value.seconds or value.nanos) else None
    if isinstance(value, Message):
        return plain(value)
    return value


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
