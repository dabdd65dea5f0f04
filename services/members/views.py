"""Rows -> protobuf views, masking PII unless the caller may see it."""

from __future__ import annotations

import json

from google.protobuf.timestamp_pb2 import Timestamp

from chainclub.members.v1 import members_pb2 as pb
from services.members.domain import mask_address, mask_email, mask_id_number, mask_phone
from services.members.pii import Keyring, aad


def ts(value) -> Timestamp:  # type: ignore[no-untyped-def]
    t = Timestamp()
    if value is not None:
        t.FromDatetime(value)
    return t


def store_code(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def member_view(row, cards: list, keyring: Keyring, reveal: bool) -> pb.Member:  # type: ignore[no-untyped-def]
    def pii(field: str) -> str:
        return keyring.decrypt(getattr(row, f"{field}_enc"), aad(row.id, field))

    phone, email, id_number, address = pii("phone"), pii("email"), pii("id_number"), pii("address")
    if not reveal:
        phone, email = mask_phone(phone), mask_email(email)
        id_number, address = mask_id_number(id_number), mask_address(address)
    consents = row.consents or {}
    return pb.Member(
        member_no=row.member_no,
        name=row.name,
        gender=row.gender,
        birthday=row.birthday.isoformat() if row.birthday else "",
        phone=phone,
        email=email,
        id_number=id_number,
        address=address,
        income_band=row.income_band,
        occupation=row.occupation,
        preferences={str(k): str(v) for k, v in (row.preferences or {}).items()},
        home_store=store_code(row.home_store_path),
        home_store_path=row.home_store_path,
        source=row.source,
        referrer_member_no=row.referrer_member_no or "",
        joined_on=row.joined_on.isoformat(),
        consents=pb.Consents(
            sms=bool(consents.get("sms")),
            email=bool(consents.get("email")),
            wechat=bool(consents.get("wechat")),
        ),
        tags=list(row.tags or []),
        custom_fields_json=json.dumps(row.custom_fields or {}, ensure_ascii=False),
        tier=row.tier,
        status=row.status,
        pii_masked=not reveal,
        cards=[
            pb.CardSummary(
                card_no=c.card_no,
                card_type=c.card_type,
                status=c.status,
                account_id=str(c.account_id),
                primary=c.member_id == row.id,
            )
            for c in cards
        ],
        created_at=ts(row.created_at),
        updated_at=ts(row.updated_at),
    )


def card_view(card, owner, holders: list[tuple[str, str]], ctype) -> pb.Card:  # type: ignore[no-untyped-def]
    return pb.Card(
        card_no=card.card_no,
        card_type=card.card_type,
        status=card.status,
        member_no=owner.member_no,
        holders=[pb.CardHolder(member_no=no, role=role) for no, role in holders],
        account_id=str(card.account_id),
        home_store_path=card.home_store_path,
        issued_on=card.issued_on.isoformat(),
        expires_on=card.expires_on.isoformat() if card.expires_on else "",
        replaced_by=card.replaced_by or "",
        replaces=card.replaces or "",
        discount_bps=ctype.discount_bps,
        member_home_store_path=owner.home_store_path,
        card_type_home_scope=ctype.home_scope,
        max_balance=ctype.max_balance,
        max_single_top_up=ctype.max_single_top_up,
        joining_fee=ctype.joining_fee,
        annual_fee=ctype.annual_fee,
        replacement_fee=ctype.replacement_fee,
        version=card.version,
    )
