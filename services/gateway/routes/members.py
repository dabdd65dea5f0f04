"""Members (docs/api.md "Members"): register, read, search, edit, anonymize, identify, visits,
feedback, custom fields. The members service owns the data and re-checks scope."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from chainclub.loyalty.v1 import loyalty_pb2 as loyalty_pb
from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from services.gateway import audit, members
from services.gateway.deps import State, permitted
from services.gateway.member_schemas import (
    FeedbackCreate,
    FeedbackHandle,
    FieldDefinitionBody,
    Identify,
    MemberCreate,
    MemberUpdate,
    VisitCreate,
)
from services.gateway.members import (
    Identified,
    MemberOut,
    MemberPage,
    member_json,
    store_path,
    values_request,
)
from services.gateway.org import unit_path
from services.gateway.protojson import plain

router = APIRouter(prefix="/api/v1/members", tags=["members"])


PATCH_FIELDS = {
    "home_store": "home_store_path", "custom_fields": "custom_fields",
}  # fmt: skip


@router.get("/custom-fields")
async def list_custom_fields(
    p: Annotated[Principal, Depends(permitted("custom_fields.read"))], state: State
) -> dict:
    reply = await state.clients.call(
        state.clients.members.ListFieldDefinitions, pb.ListFieldDefinitionsRequest(), p
    )
    return {"items": [plain(f) for f in reply.fields]}


@router.put("/custom-fields/{key}")
async def put_custom_field(
    key: str,
    body: FieldDefinitionBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("custom_fields.write"))],
    state: State,
):
    reply = await state.clients.call(
        state.clients.members.UpsertFieldDefinition, pb.FieldDefinition(key=key, **body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "custom_field.put", "custom_field", key, "HQ", body.model_dump()
    )
    return plain(reply)


@router.post("", status_code=201, response_model=MemberOut)
async def register(
    body: MemberCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.register"))],
    state: State,
) -> dict:
    return await members.register(state, request, p, body)


@router.get("", response_model=MemberPage)
async def search(
    p: Annotated[Principal, Depends(permitted("members.read"))],
    state: State,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    store: Annotated[str | None, Query(max_length=64)] = None,
    birthday_month: Annotated[int | None, Query(ge=1, le=12)] = None,
    segment: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    req = pb.SearchMembersRequest(
        phone=phone or "", q=q or "", tag=tag or "", tier=tier or "", birthday_month=birthday_month or 0,
        page={"limit": limit, "cursor": cursor or ""},
    )  # fmt: skip
    if store:
        req.store_path = await unit_path(state, p, store, field="store")
    if segment:  # a quadrant or lifecycle stage, resolved by loyalty within the same scope
        found = await state.clients.call(
            state.clients.loyalty.MembersInSegment,
            loyalty_pb.MembersInSegmentRequest(segment=segment, store_path=req.store_path),
            p,
        )
        if not found.member_nos:
            return {"items": [], "next_cursor": None}
        req.member_nos.extend(found.member_nos)
    reply = await state.clients.call(state.clients.members.SearchMembers, req, p)
    return {"items": [member_json(m) for m in reply.members], "next_cursor": reply.page.next_cursor or None}


@router.post("/identify", response_model=Identified)
async def identify(
    body: Identify, p: Annotated[Principal, Depends(permitted("members.identify"))], state: State
) -> dict:
    return await members.identify(state, p, card_no=body.card_no, phone=body.phone)


@router.get("/{member_no}", response_model=MemberOut)
async def get(
    member_no: str, p: Annotated[Principal, Depends(permitted("members.read"))], state: State
) -> dict:
    return await members.profile(state, p, member_no)


@router.patch("/{member_no}", response_model=MemberOut)
async def patch(
    member_no: str,
    body: MemberUpdate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.update"))],
    state: State,
) -> dict:
    given = body.model_dump(exclude_unset=True)
    if any(v is None for v in given.values()):
        nulls = sorted(k for k, v in given.items() if v is None)
        from kit.errors import InvalidArgument

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


@router.delete("/{member_no}", response_model=MemberOut)
async def anonymize(
    member_no: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.anonymize"))],
    state: State,
) -> dict:
    reply = await state.clients.call(
        state.clients.members.AnonymizeMember, pb.AnonymizeMemberRequest(member_no=member_no), p
    )
    await audit.record_alone(
        state, request, p, "member.anonymize", "member", member_no, reply.home_store_path
    )
    return member_json(reply)


@router.post("/{member_no}/visits", status_code=201)
async def add_visit(
    member_no: str,
    body: VisitCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("visits.write"))],
    state: State,
) -> dict:
    reply = await state.clients.call(
        state.clients.members.AddVisit, pb.AddVisitRequest(member_no=member_no, **body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "visit.create", "member", member_no, reply.store_path, {"id": reply.id}
    )
    return plain(reply)


@router.get("/{member_no}/visits")
async def list_visits(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("visits.read"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    req = pb.ListVisitsRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.members.ListVisits, req, p)
    return {"items": [plain(v) for v in reply.visits], "next_cursor": reply.page.next_cursor or None}


@router.post("/{member_no}/feedback", status_code=201)
async def add_feedback(
    member_no: str,
    body: FeedbackCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("feedback.write"))],
    state: State,
) -> dict:
    reply = await state.clients.call(
        state.clients.members.AddFeedback, pb.AddFeedbackRequest(member_no=member_no, **body.model_dump()), p
    )
    await audit.record_alone(
        state, request, p, "feedback.create", "member", member_no, p.scope, {"id": reply.id}
    )
    return plain(reply)


@router.get("/{member_no}/feedback")
async def list_feedback(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("feedback.read"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    req = pb.ListFeedbackRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.members.ListFeedback, req, p)
    return {"items": [plain(f) for f in reply.feedback], "next_cursor": reply.page.next_cursor or None}


@router.post("/{member_no}/feedback/{feedback_id}/handle")
async def handle_feedback(
    member_no: str,
    feedback_id: str,
    body: FeedbackHandle,
    request: Request,
    p: Annotated[Principal, Depends(permitted("feedback.handle"))],
    state: State,
) -> dict:
    req = pb.HandleFeedbackRequest(member_no=member_no, id=feedback_id, resolution=body.resolution)
    reply = await state.clients.call(state.clients.members.HandleFeedback, req, p)
    await audit.record_alone(
        state, request, p, "feedback.handle", "member", member_no, p.scope, {"id": feedback_id}
    )
    return plain(reply)
