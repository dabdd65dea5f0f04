from fastapi import APIRouter, Request

from services.gateway import identity, schemas
from services.gateway.deps import CurrentPrincipal, Paging, State

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.post("/users", status_code=201, response_model=schemas.User)
async def create_user(body: schemas.UserCreate, request: Request, state: State, p: CurrentPrincipal):
    return await identity.create_user(state, request, p, body)


@router.get("/users", response_model=schemas.UserList)
async def list_users(state: State, p: CurrentPrincipal, page: Paging, role: str | None = None):
    return await identity.list_users(state, p, page, role)


@router.get("/users/{username}", response_model=schemas.User)
async def get_user(username: str, state: State, p: CurrentPrincipal):
    return await identity.get_user(state, p, username)


@router.patch("/users/{username}", response_model=schemas.User)
async def patch_user(
    username: str, body: schemas.UserUpdate, request: Request, state: State, p: CurrentPrincipal
):
    return await identity.patch_user(state, request, p, username, body)


@router.post("/terminals", status_code=201, response_model=schemas.TerminalCreated)
async def create_terminal(body: schemas.TerminalCreate, request: Request, state: State, p: CurrentPrincipal):
    return await identity.create_terminal(state, request, p, body)


@router.get("/terminals", response_model=schemas.TerminalList)
async def list_terminals(state: State, p: CurrentPrincipal, page: Paging):
    return await identity.list_terminals(state, p, page)


@router.patch("/terminals/{client_id}", response_model=schemas.Terminal)
async def patch_terminal(
    client_id: str, body: schemas.TerminalUpdate, request: Request, state: State, p: CurrentPrincipal
):
    return await identity.patch_terminal(state, request, p, client_id, body)
