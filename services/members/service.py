"""Use cases of the member archive: register, read, search, update, anonymize, identify.
One transaction each; events go to the outbox inside it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import members_pb2 as ev
from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.members import access, domain
from services.members.cards import issue
from services.members.context import MembersContext
from services.members.models import card_holders, card_types, cards, member_no_seq, members
from services.members.pii import aad
from services.members.queries import (
    card_type_for_issue,
    cards_of,
    field_defs,
    in_path,
    member_in_scope,
    member_row,
    view,
)
from services.members.views import member_view

MAX_PAGE = 500
DEFAULT_PAGE = 50
MASKABLE = ("phone", "email", "id_number", "address")


def _timestamp(value: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(value)
    return t


class Profile:
    """Validated profile values from a request (only the fields asked for)."""

    def __init__(self, ctx: MembersContext, req: pb.RegisterMemberRequest, fields: set[str], defs) -> None:  # type: ignore[no-untyped-def]
        today = ctx.today()
        self.values: dict[str, object] = {}
        self.pii: dict[str, str] = {}
        v = self.values
        if "name" in fields:
            v["name"] = domain.clean_name(req.name)
        if "phone" in fields:
            self.pii["phone"] = domain.normalize_phone(req.phone, ctx.settings.default_phone_region)
        if "gender" in fields:
            v["gender"] = domain.clean_choice(req.gender, domain.GENDERS, "gender")
        if "birthday" in fields:
            born = domain.parse_birthday(req.birthday, today)
            v["birthday"], v["birthday_month"] = born, (born.month if born else None)
        if "email" in fields:
            self.pii["email"] = domain.clean_email(req.email)
        if "id_number" in fields:
            self.pii["id_number"] = req.id_number.strip()[:64]
        if "address" in fields:
            self.pii["address"] = req.address.strip()[:500]
        if "income_band" in fields:
            v["income_band"] = req.income_band.strip()[:32]
        if "occupation" in fields:
            v["occupation"] = req.occupation.strip()[:64]
        if "preferences" in fields:
            v["preferences"] = dict(req.preferences)
        if "consents" in fields:
            v["consents"] = {
                "sms": req.consents.sms,
                "email": req.consents.email,
                "wechat": req.consents.wechat,
            }
        if "tags" in fields:
            v["tags"] = domain.clean_tags(list(req.tags))
        if "custom_fields" in fields:
            v["custom_fields"] = domain.validate_custom_fields(req.custom_fields_json, defs)

    def columns(self, ctx: MembersContext, member_id: uuid.UUID) -> dict[str, object]:
        cols = dict(self.values)
        for field, value in self.pii.items():
            cols[f"{field}_enc"] = ctx.keyring.encrypt(value, aad(member_id, field))
        if "phone" in self.pii:
            cols["phone_bidx"] = ctx.keyring.blind_index(self.pii["phone"])
            cols["phone_last4"] = self.pii["phone"][-4:]
        return cols


REGISTER_FIELDS = {
    "name", "phone", "gender", "birthday", "email", "id_number", "address", "income_band", "occupation",
    "preferences", "tags", "custom_fields",
}  # fmt: skip


async def register(ctx: MembersContext, p: Principal, req: pb.RegisterMemberRequest) -> pb.Member:
    access.require(p, access.WRITERS, "register members")
    async with ctx.db.transaction() as session:
        member_no = await create_member(ctx, session, p, req)
        return await view(ctx, session, p, await member_row(session, member_no))


async def create_member(
    ctx: MembersContext,
    session: AsyncSession,
    p: Principal,
    req: pb.RegisterMemberRequest,
    defs: dict[str, domain.FieldDef] | None = None,
) -> str:
    """A new member with its default card, inside the caller's transaction (register and
    import share it); returns the member_no. ``defs`` saves a query when the caller has them."""
    if not req.home_store_path:
        raise InvalidArgument(
            "home_store is required (the caller has no store of its own)", field="home_store"
        )
    if not p.may_access(req.home_store_path):
        raise InvalidArgument("home_store lies outside your scope", field="home_store")
    source = req.source or ("referral" if req.referrer_member_no else "store")
    domain.clean_choice(source, domain.SOURCES, "source")
    profile = Profile(
        ctx,
        req,
        REGISTER_FIELDS | ({"consents"} if req.has_consents else set()),
        defs if defs is not None else await field_defs(session),
    )
    if not req.has_consents:
        profile.values["consents"] = {"sms": False, "email": False, "wechat": False}
    bidx = ctx.keyring.blind_index(profile.pii["phone"])
    if (await session.execute(select(members.c.id).where(members.c.phone_bidx == bidx))).first():
        raise domain.MemberExists("a member with this phone is already registered")
    if req.referrer_member_no and await member_row(session, req.referrer_member_no) is None:
        raise InvalidArgument(f"unknown referrer {req.referrer_member_no!r}", field="referrer_member_no")
    ctype = await card_type_for_issue(session, req.card_type, req.home_store_path)
    member_id = uuid.uuid4()
    member_no = domain.member_no_from(await ctx.next_value(session, member_no_seq))
    now = datetime.now(UTC)
    try:
        async with session.begin_nested():
            await session.execute(
                members.insert().values(
                    id=member_id,
                    member_no=member_no,
                    home_store_path=req.home_store_path,
                    source=source,
                    referrer_member_no=req.referrer_member_no or None,
                    joined_on=ctx.today(),
                    **profile.columns(ctx, member_id),
                )
            )
    except IntegrityError:
        raise domain.MemberExists("a member with this phone is already registered") from None
    card = await issue(ctx, session, p, member_id, member_no, req.home_store_path, ctype, [])
    await ctx.emit(
        session,
        "members.member.registered",
        ev.MemberRegistered(
            member_no=member_no,
            home_store_path=req.home_store_path,
            source=source,
            referrer_member_no=req.referrer_member_no,
            joined_at=_timestamp(now),
            card_no=card.card_no,
            card_type=ctype.code,
            birthday=req.birthday.strip(),
        ),
        req.home_store_path,
    )
    return member_no


async def get(ctx: MembersContext, p: Principal, member_no: str) -> pb.Member:
    access.require(p, access.READERS, "read members")
    async with ctx.db.sessions() as session:
        return await view(ctx, session, p, await member_in_scope(session, p, member_no))


def search_query(ctx: MembersContext, p: Principal, req: pb.SearchMembersRequest):  # type: ignore[no-untyped-def]
    query = select(members).where(in_scope(members.c.home_store_path, p.scope))
    if req.phone:
        phone = domain.normalize_phone(req.phone, ctx.settings.default_phone_region)
        query = query.where(members.c.phone_bidx == ctx.keyring.blind_index(phone))
    if req.q:
        text = req.q.strip()
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found = [
            members.c.name.ilike(f"%{escaped}%", escape="\\"),
            members.c.member_no.startswith(text, autoescape=True),
        ]
        if text.isdigit() and len(text) >= 12:  # a card number: its owner and its holders
            found.append(members.c.id.in_(select(cards.c.member_id).where(cards.c.card_no == text)))
            found.append(
                members.c.id.in_(select(card_holders.c.member_id).where(card_holders.c.card_no == text))
            )
        query = query.where(or_(*found))
    if req.tag:
        query = query.where(members.c.tags.contains([req.tag]))  # @> uses the GIN index
    if req.tier:
        query = query.where(members.c.tier == req.tier)
    if req.store_path:
        query = query.where(in_scope(members.c.home_store_path, req.store_path))
    if req.birthday_month:
        if not 1 <= req.birthday_month <= 12:
            raise InvalidArgument("birthday_month must be 1..12", field="birthday_month")
        query = query.where(members.c.birthday_month == req.birthday_month)
    if req.member_nos:
        query = query.where(members.c.member_no.in_(list(req.member_nos)))
    return query.order_by(members.c.member_no)


async def search(ctx: MembersContext, p: Principal, req: pb.SearchMembersRequest) -> pb.SearchMembersResponse:
    if p.role == "distributor":
        raise Forbidden("distributors cannot list members")
    access.require(p, access.READERS, "list members")
    limit = req.page.limit or DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be 1..{MAX_PAGE}", field="limit")
    query = search_query(ctx, p, req)
    if req.page.cursor:
        query = query.where(members.c.member_no > req.page.cursor)
    async with ctx.db.sessions() as session:
        rows = (await session.execute(query.limit(limit + 1))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        owned = await cards_of(session, [r.id for r in rows])
    items = [member_view(r, owned[r.id], ctx.keyring, access.sees_pii(p, r.home_store_path)) for r in rows]
    return pb.SearchMembersResponse(
        members=items, page={"next_cursor": rows[-1].member_no if more and rows else ""}
    )


EXPORT_PAGE = 1000
EXPORTERS = access.MANAGERS | {"auditor"}


async def export(ctx: MembersContext, p: Principal, req: pb.SearchMembersRequest) -> AsyncIterator[pb.Member]:
    """Every member of the caller's scope matching the filters, masked as reads are, fetched
    page by page (keyset on member_no) so memory stays flat however many there are."""
    access.require(p, EXPORTERS, "export members")
    query = search_query(ctx, p, req)
    after = ""
    while True:
        page = query.where(members.c.member_no > after) if after else query
        async with ctx.db.sessions() as session:
            rows = (await session.execute(page.limit(EXPORT_PAGE))).all()
            owned = await cards_of(session, [r.id for r in rows])
        for r in rows:
            yield member_view(r, owned[r.id], ctx.keyring, access.sees_pii(p, r.home_store_path))
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1].member_no


UPDATABLE = REGISTER_FIELDS | {"consents", "home_store_path", "source"}


async def update_member(ctx: MembersContext, p: Principal, req: pb.UpdateMemberRequest) -> pb.Member:
    access.require(p, access.WRITERS, "change members")
    fields = set(req.update_mask)
    if not fields:
        raise InvalidArgument("nothing to change", field="body")
    unknown = fields - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    async with ctx.db.transaction() as session:
        row = await member_in_scope(session, p, req.member_no, lock=True)
        if row.status == "anonymized":
            raise domain.Conflict("an anonymized member cannot be changed")
        await apply_changes(ctx, session, p, row, req.values, fields, await field_defs(session))
        return await view(ctx, session, p, await member_row(session, row.member_no))


async def apply_changes(
    ctx: MembersContext,
    session: AsyncSession,
    p: Principal,
    row,  # type: ignore[no-untyped-def]
    values: pb.RegisterMemberRequest,
    fields: set[str],
    defs: dict[str, domain.FieldDef],
) -> list[str]:
    """Change the named ``fields`` of a member (locked by the caller) inside the caller's
    transaction (update and import share it); returns the fields that really changed."""
    profile = Profile(ctx, values, fields - {"custom_fields"}, defs)
    if "custom_fields" in fields:
        profile.values["custom_fields"] = _merged_custom_fields(row.custom_fields or {}, values, defs)
    cols = profile.columns(ctx, row.id)
    if "home_store_path" in fields:
        path = values.home_store_path
        if not path or not p.may_access(path):
            raise InvalidArgument("home_store lies outside your scope", field="home_store")
        cols["home_store_path"] = path
    if "source" in fields:
        cols["source"] = domain.clean_choice(values.source, domain.SOURCES, "source")
    if "phone_bidx" in cols and cols["phone_bidx"] != row.phone_bidx:
        taken = await session.execute(select(members.c.id).where(members.c.phone_bidx == cols["phone_bidx"]))
        if taken.first():
            raise domain.MemberExists("another member is registered with this phone")
    changed = sorted(f for f in fields if _differs(f, cols, row, ctx, profile))
    if changed:
        try:
            async with session.begin_nested():
                await session.execute(
                    update(members).where(members.c.id == row.id).values(**cols, updated_at=datetime.now(UTC))
                )
        except IntegrityError:
            raise domain.MemberExists("another member is registered with this phone") from None
        new_path = str(cols.get("home_store_path", row.home_store_path))
        if new_path != row.home_store_path:  # the cards' home store is the member's
            await session.execute(
                update(cards).where(cards.c.member_id == row.id).values(home_store_path=new_path)
            )
        await ctx.emit(
            session,
            "members.member.updated",
            ev.MemberUpdated(member_no=row.member_no, home_store_path=new_path, changed_fields=changed),
            new_path,
        )
    return changed


def _merged_custom_fields(current: dict, values: pb.RegisterMemberRequest, defs: dict) -> dict:
    """A JSON merge patch over the member's values (null removes one), checked as a whole, so
    a change of one field keeps a required one already set."""
    patch = domain.validate_custom_fields(values.custom_fields_json, defs, partial=True)
    removed = {k for k, v in json.loads(values.custom_fields_json or "{}").items() if v is None}
    merged = {k: v for k, v in {**current, **patch}.items() if k not in removed and v is not None}
    return domain.validate_custom_fields(json.dumps(merged), defs)


def _differs(field: str, cols: dict, row, ctx: MembersContext, profile: Profile) -> bool:  # type: ignore[no-untyped-def]
    if field in MASKABLE:
        old = ctx.keyring.decrypt(getattr(row, f"{field}_enc"), aad(row.id, field))
        return old != profile.pii.get(field, "")
    return cols.get(field) != getattr(row, field)


async def anonymize(ctx: MembersContext, p: Principal, req: pb.AnonymizeMemberRequest) -> pb.Member:
    """Right to erasure: PII gone for good, ids and history kept."""
    access.require(p, access.MANAGERS, "anonymize members")
    async with ctx.db.transaction() as session:
        row = await member_in_scope(session, p, req.member_no, lock=True)
        if row.status != "anonymized":
            await session.execute(
                update(members)
                .where(members.c.id == row.id)
                .values(
                    name="(anonymized)", gender="", birthday=None, birthday_month=None,
                    phone_enc=None, phone_bidx=None, phone_last4="", email_enc=None, id_number_enc=None,
                    address_enc=None, income_band="", occupation="", preferences={}, tags=[],
                    custom_fields={}, consents={"sms": False, "email": False, "wechat": False},
                    status="anonymized", updated_at=datetime.now(UTC),
                )
            )  # fmt: skip
            await ctx.emit(
                session,
                "members.member.anonymized",
                ev.MemberAnonymized(member_no=row.member_no, home_store_path=row.home_store_path),
                row.home_store_path,
            )
        return await view(ctx, session, p, await member_row(session, row.member_no))


async def identify(
    ctx: MembersContext, p: Principal, req: pb.IdentifyMemberRequest
) -> pb.IdentifyMemberResponse:
    """Chain-wide, by card or phone: the minimal masked view."""
    access.require(p, access.CHAIN_WIDE, "identify members")
    if bool(req.card_no) == bool(req.phone):
        raise InvalidArgument("give exactly one of card_no or phone", field="card_no")
    async with ctx.db.sessions() as session:
        if req.card_no:
            # One indexed join: card -> member -> card type (the counter's hot path).
            found = (
                await session.execute(
                    select(
                        cards.c.card_no, cards.c.status, cards.c.card_type, cards.c.account_id,
                        members.c.id, members.c.member_no, members.c.name, members.c.tier,
                        members.c.home_store_path, members.c.phone_enc, card_types.c.home_scope,
                    )
                    .join(members, members.c.id == cards.c.member_id)
                    .join(card_types, card_types.c.code == cards.c.card_type)
                    .where(cards.c.card_no == req.card_no.strip())
                )
            ).first()  # fmt: skip
            if found is None:
                raise NotFound(f"no card {req.card_no!r}")
            member = card = found
            home_scope = found.home_scope
        else:
            phone = domain.normalize_phone(req.phone, ctx.settings.default_phone_region)
            member = (
                await session.execute(
                    select(members).where(members.c.phone_bidx == ctx.keyring.blind_index(phone))
                )
            ).first()
            if member is None:
                raise NotFound("no member with this phone")
            owned = (await cards_of(session, [member.id]))[member.id]
            usable = [c for c in owned if c.status not in ("replaced", "cancelled", "expired")]
            card = (usable or owned or [None])[0]
            home_scope = ""
            if card is not None:
                home_scope = (
                    await session.execute(
                        select(card_types.c.home_scope).where(card_types.c.code == card.card_type)
                    )
                ).scalar_one()
    if home_scope and p.role not in ("hq_admin", "service") and not in_path(home_scope, p.scope):
        raise Forbidden(f"card type {card.card_type} is usable only within {home_scope} (HQ policy)")
    phone_plain = ctx.keyring.decrypt(member.phone_enc, aad(member.id, "phone"))
    return pb.IdentifyMemberResponse(
        member_no=member.member_no,
        display_name=domain.mask_name(member.name),
        tier=member.tier,
        card_no=card.card_no if card else "",
        card_status=card.status if card else "",
        card_type=card.card_type if card else "",
        account_id=str(card.account_id) if card else "",
        home_store_path=member.home_store_path,
        phone_masked=domain.mask_phone(phone_plain),
    )
