"""Members (docs/api.md "Members"): register, read, search, edit, anonymize, identify, visits,
feedback, custom fields. The members service owns the data and re-checks scope."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from services.gateway import audit, member_purchases, members
from services.gateway.deps import State, permitted
from services.gateway.member_purchases import MemberPurchasePage
from services.gateway.member_schemas import (
    FeedbackCreate,
    FeedbackHandle,
    FieldDefinitionBody,
    Identify,
    MemberCreate,
    MemberUpdate,
    VisitCreate,
)
from services.gateway.members import Identified, MemberOut, MemberPage
from services.gateway.protojson import plain

router = APIRouter(prefix="/api/v1/members", tags=["members"])


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
    filters = members.SearchFilters(phone, q, tag, tier, store, birthday_month, segment)
    return await members.search(state, p, filters, limit, cursor)


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
    return await members.update(state, request, p, member_no, body)


@router.delete("/{member_no}", response_model=MemberOut)
async def anonymize(
    member_no: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("members.anonymize"))],
    state: State,
) -> dict:
    return await members.anonymize(state, request, p, member_no)


@router.post("/{member_no}/visits", status_code=201)
async def add_visit(
    member_no: str,
    body: VisitCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("visits.write"))],
    state: State,
) -> dict:
    return await members.add_visit(state, request, p, member_no, body)


@router.get("/{member_no}/visits")
async def list_visits(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("visits.read"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    return await members.visits(state, p, member_no, limit, cursor)


@router.post("/{member_no}/feedback", status_code=201)
async def add_feedback(
    member_no: str,
    body: FeedbackCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("feedback.write"))],
    state: State,
) -> dict:
    return await members.add_feedback(state, request, p, member_no, body)


@router.get("/{member_no}/feedback")
async def list_feedback(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("feedback.read"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    return await members.feedback(state, p, member_no, limit, cursor)


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


@router.get("/{member_no}/purchases", response_model=MemberPurchasePage)
async def member_purchase_list(
    member_no: str,
    p: Annotated[Principal, Depends(permitted("members.purchases"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """The member's purchases, newest first: when, where, amounts, discount, points earned and
    refunds (another scope's member: 404)."""
    return await member_purchases.purchases(state, p, member_no, limit, cursor)
