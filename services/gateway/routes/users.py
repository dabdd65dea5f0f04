from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kit.auth import Principal
from services.gateway import identity, schemas
from services.gateway import terminals as terminal_uses
from services.gateway.deps import Paging, State, permitted

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.post("/users", status_code=201, response_model=schemas.User)
async def create_user(
    body: schemas.UserCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("users.write"))],
    state: State,
):
    return await identity.create_user(state, request, p, body)


@router.get("/users", response_model=schemas.UserList)
async def list_users(
    p: Annotated[Principal, Depends(permitted("users.read"))],
    state: State,
    page: Paging,
    role: str | None = None,
):
    return await identity.list_users(state, p, page, role)


@router.get("/users/{username}", response_model=schemas.User)
async def get_user(username: str, p: Annotated[Principal, Depends(permitted("users.read"))], state: State):
    return await identity.get_user(state, p, username)


@router.patch("/users/{username}", response_model=schemas.User)
async def patch_user(
    username: str,
    body: schemas.UserUpdate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("users.write"))],
    state: State,
):
    return await identity.patch_user(state, request, p, username, body)


@router.post("/terminals", status_code=201, response_model=schemas.TerminalCreated)
async def create_terminal(
    body: schemas.TerminalCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("terminals.write"))],
    state: State,
):
    return await terminal_uses.create_terminal(state, request, p, body)


@router.get("/terminals", response_model=schemas.TerminalList)
async def list_terminals(
    p: Annotated[Principal, Depends(permitted("terminals.read"))], state: State, page: Paging
):
    return await terminal_uses.list_terminals(state, p, page)


@router.patch("/terminals/{client_id}", response_model=schemas.Terminal)
async def patch_terminal(
    client_id: str,
    body: schemas.TerminalUpdate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("terminals.write"))],
    state: State,
):
    return await terminal_uses.patch_terminal(state, request, p, client_id, body)


@router.post("/terminals/{client_id}/rotate-secret", response_model=schemas.TerminalCreated)
async def rotate_terminal_secret(
    client_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("terminals.write"))],
    state: State,
):
    return await terminal_uses.rotate_terminal_secret(state, request, p, client_id)
