"""Use cases of visit records (回访记录), feedback (投诉/建议/表扬) and HQ's custom field
definitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.members import access, domain
from services.members.context import MembersContext
from services.members.models import feedback, field_definitions, visits
from services.members.queries import member_in_scope
from services.members.views import ts

MAX_PAGE = 500


def _limit(page: object) -> int:
    limit = getattr(page, "limit", 0) or 50
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be 1..{MAX_PAGE}", field="limit")
    return limit


def _cursor(page: object) -> datetime | None:
    raw = getattr(page, "cursor", "")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidArgument("cursor is not one this API returned", field="cursor") from None


def visit_pb(row, member_no: str) -> pb.Visit:  # type: ignore[no-untyped-def]
    return pb.Visit(
        id=str(row.id), member_no=member_no, channel=row.channel, outcome=row.outcome, notes=row.notes,
        staff=row.staff, store_path=row.store_path, at=ts(row.at),
    )  # fmt: skip


async def add_visit(ctx: MembersContext, p: Principal, req: pb.AddVisitRequest) -> pb.Visit:
    access.require(p, access.WRITERS | {"service"}, "record visits")
    channel = domain.clean_choice(req.channel, domain.VISIT_CHANNELS, "channel")
    outcome = req.outcome.strip()
    if not outcome or len(outcome) > 200:
        raise InvalidArgument("outcome must be 1-200 characters", field="outcome")
    if len(req.notes) > 4000:
        raise InvalidArgument("notes must be at most 4000 characters", field="notes")
    staff, store_path = p.sub, req.store_path or p.scope
    if req.on_behalf_of:
        # A service (notify completing a follow-up) checked the staff member's scope against
        # the store the visit is for; the visit names that staff member, not the service.
        if p.role != "service":
            raise Forbidden("only services may record visits on behalf of staff")
        if not req.store_path:
            raise InvalidArgument("store_path is required with on_behalf_of", field="store_path")
        staff = req.on_behalf_of[:64]
    elif not p.may_access(store_path):
        raise InvalidArgument(f"store {store_path!r} is outside your scope", field="store_path")
    async with ctx.db.transaction() as session:
        member = await member_in_scope(session, p, req.member_no)
        row = (
            await session.execute(
                visits.insert()
                .values(
                    id=uuid.uuid4(), member_id=member.id, channel=channel, outcome=outcome, notes=req.notes,
                    staff=staff, store_path=store_path,
                )
                .returning(*visits.c)
            )
        ).one()  # fmt: skip
    return visit_pb(row, member.member_no)


async def list_visits(ctx: MembersContext, p: Principal, req: pb.ListVisitsRequest) -> pb.ListVisitsResponse:
    access.require(p, access.READERS, "read visits")
    limit, after = _limit(req.page), _cursor(req.page)
    async with ctx.db.sessions() as session:
        member = await member_in_scope(session, p, req.member_no)
        query = select(visits).where(visits.c.member_id == member.id).order_by(visits.c.at.desc())
        if after is not None:
            query = query.where(visits.c.at < after)
        rows = (await session.execute(query.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return pb.ListVisitsResponse(
        visits=[visit_pb(r, member.member_no) for r in rows],
        page={"next_cursor": rows[-1].at.isoformat() if more else ""},
    )


def feedback_pb(row, member_no: str) -> pb.Feedback:  # type: ignore[no-untyped-def]
    return pb.Feedback(
        id=str(row.id), member_no=member_no, kind=row.kind, content=row.content, status=row.status,
        resolution=row.resolution, created_by=row.created_by, handled_by=row.handled_by or "",
        created_at=ts(row.created_at), handled_at=ts(row.handled_at) if row.handled_at else None,
    )  # fmt: skip


async def add_feedback(ctx: MembersContext, p: Principal, req: pb.AddFeedbackRequest) -> pb.Feedback:
    access.require(p, access.WRITERS, "record feedback")
    kind = domain.clean_choice(req.kind, domain.FEEDBACK_KINDS, "kind")
    content = req.content.strip()
    if not content or len(content) > 4000:
        raise InvalidArgument("content must be 1-4000 characters", field="content")
    async with ctx.db.transaction() as session:
        member = await member_in_scope(session, p, req.member_no)
        row = (
            await session.execute(
                feedback.insert()
                .values(
                    id=uuid.uuid4(), member_id=member.id, kind=kind, content=content, created_by=p.sub,
                    store_path=p.scope,
                )
                .returning(*feedback.c)
            )
        ).one()  # fmt: skip
    return feedback_pb(row, member.member_no)


async def list_feedback(
    ctx: MembersContext, p: Principal, req: pb.ListFeedbackRequest
) -> pb.ListFeedbackResponse:
    access.require(p, access.READERS, "read feedback")
    limit, after = _limit(req.page), _cursor(req.page)
    async with ctx.db.sessions() as session:
        member = await member_in_scope(session, p, req.member_no)
        query = (
            select(feedback).where(feedback.c.member_id == member.id).order_by(feedback.c.created_at.desc())
        )
        if after is not None:
            query = query.where(feedback.c.created_at < after)
        rows = (await session.execute(query.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return pb.ListFeedbackResponse(
        feedback=[feedback_pb(r, member.member_no) for r in rows],
        page={"next_cursor": rows[-1].created_at.isoformat() if more else ""},
    )


async def handle_feedback(ctx: MembersContext, p: Principal, req: pb.HandleFeedbackRequest) -> pb.Feedback:
    access.require(p, access.MANAGERS, "handle feedback")
    try:
        fid = uuid.UUID(req.id)
    except ValueError:
        raise NotFound(f"no feedback {req.id!r}") from None
    async with ctx.db.transaction() as session:
        member = await member_in_scope(session, p, req.member_no)
        row = (
            await session.execute(
                select(feedback)
                .where(feedback.c.id == fid, feedback.c.member_id == member.id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"no feedback {req.id!r}")
        if row.status == "handled":
            raise domain.Conflict("this feedback is already handled")
        row = (
            await session.execute(
                update(feedback)
                .where(feedback.c.id == fid)
                .values(status="handled", resolution=req.resolution.strip()[:4000], handled_by=p.sub,
                        handled_at=datetime.now(UTC))
                .returning(*feedback.c)
            )
        ).one()  # fmt: skip
    return feedback_pb(row, member.member_no)


# --- custom field definitions -------------------------------------------------------------
def field_pb(row) -> pb.FieldDefinition:  # type: ignore[no-untyped-def]
    return pb.FieldDefinition(
        key=row.key, label=row.label, type=row.type, required=row.required, choices=list(row.choices or []),
        active=row.active,
    )  # fmt: skip


async def list_fields(ctx: MembersContext, p: Principal) -> pb.ListFieldDefinitionsResponse:
    access.require(p, access.READERS, "read custom fields")
    async with ctx.db.sessions() as session:
        rows = (await session.execute(select(field_definitions).order_by(field_definitions.c.key))).all()
    return pb.ListFieldDefinitionsResponse(fields=[field_pb(r) for r in rows])


async def upsert_field(ctx: MembersContext, p: Principal, req: pb.FieldDefinition) -> pb.FieldDefinition:
    access.require(p, access.HQ, "define custom fields")
    if not domain.FIELD_KEY.match(req.key):
        raise InvalidArgument(
            "key must be lower-case letters, digits and _ (start with a letter)", field="key"
        )
    domain.clean_choice(req.type, domain.FIELD_TYPES, "type")
    choices = list(dict.fromkeys(c.strip() for c in req.choices if c.strip()))
    if req.type == "choice" and not choices:
        raise InvalidArgument("a choice field needs choices", field="choices")
    if req.type != "choice" and choices:
        raise InvalidArgument("only choice fields have choices", field="choices")
    label = req.label.strip() or req.key
    values = dict(label=label[:100], type=req.type, required=req.required, choices=choices, active=req.active,
                  updated_at=datetime.now(UTC))  # fmt: skip
    async with ctx.db.transaction() as session:
        stmt = insert(field_definitions).values(key=req.key, **values)
        await session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
        row = (
            await session.execute(select(field_definitions).where(field_definitions.c.key == req.key))
        ).one()
    return field_pb(row)
