from typing import Literal

from fastapi import APIRouter, Request

from services.gateway import org, schemas
from services.gateway.deps import CurrentPrincipal, Paging, State

router = APIRouter(prefix="/api/v1/org-units", tags=["org"])


@router.post("", status_code=201, response_model=schemas.OrgUnit)
async def create(body: schemas.OrgUnitCreate, request: Request, state: State, p: CurrentPrincipal):
    return await org.create(state, request, p, body)


@router.get("", response_model=schemas.OrgUnitList)
async def list_units(
    state: State, p: CurrentPrincipal, page: Paging, kind: Literal["hq", "region", "store"] | None = None
):
    return await org.list_units(state, p, page, kind)


@router.get("/{code}", response_model=schemas.OrgUnit)
async def get(code: str, state: State, p: CurrentPrincipal):
    return await org.get(state, p, code)


@router.patch("/{code}", response_model=schemas.OrgUnit)
async def patch(code: str, body: schemas.OrgUnitUpdate, request: Request, state: State, p: CurrentPrincipal):
    return await org.patch(state, request, p, code, body)
