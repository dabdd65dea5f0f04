from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request

from kit.auth import Principal
from services.gateway import org, schemas
from services.gateway.deps import Paging, State, permitted

router = APIRouter(prefix="/api/v1/org-units", tags=["org"])


@router.post("", status_code=201, response_model=schemas.OrgUnit)
async def create(
    body: schemas.OrgUnitCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("org.write"))],
    state: State,
):
    return await org.create(state, request, p, body)


@router.get("", response_model=schemas.OrgUnitList)
async def list_units(
    p: Annotated[Principal, Depends(permitted("org.read"))],
    state: State,
    page: Paging,
    kind: Literal["hq", "region", "store"] | None = None,
):
    return await org.list_units(state, p, page, kind)


@router.get("/{code}", response_model=schemas.OrgUnit)
async def get(code: str, p: Annotated[Principal, Depends(permitted("org.read"))], state: State):
    return await org.get(state, p, code)


@router.patch("/{code}", response_model=schemas.OrgUnit)
async def patch(
    code: str,
    body: schemas.OrgUnitUpdate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("org.write"))],
    state: State,
):
    return await org.patch(state, request, p, code, body)
