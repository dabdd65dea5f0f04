"""FastAPI dependencies as ``Annotated`` aliases: the process state, the caller, the caller's
permission for the route (``permitted``), paging."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument, Unauthenticated
from services.gateway.permissions import PERMISSIONS, require
from services.gateway.state import GatewayState

# Dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in a worker thread,
# a thread hop per dependency per request for work that never blocks.


def _state(request: Request) -> GatewayState:
    return request.app.state.gateway


async def _state_dependency(request: Request) -> GatewayState:
    return _state(request)


State = Annotated[GatewayState, Depends(_state_dependency)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <access_token>'")
    return token.strip()


def _verified(request: Request, state: GatewayState) -> Principal:
    token = _bearer(request)
    if token is None:
        raise Unauthenticated("this endpoint needs a bearer token (POST /api/v1/auth/token)")
    return state.keys.verify(token)


async def _principal(request: Request, state: State) -> Principal:
    return _verified(request, state)


async def _optional_principal(request: Request, state: State) -> Principal | None:
    token = _bearer(request)
    return None if token is None else state.keys.verify(token)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(_optional_principal)]

# gate -> the PERMISSIONS action it checks (see gate_refused_body)
_GATES: dict[Callable[..., Awaitable[Principal]], str] = {}


@functools.cache
def permitted(action: str) -> Callable[..., Awaitable[Principal]]:
    """The dependency "a caller whose role may do ``action``", giving the Principal:
    ``p: Annotated[Principal, Depends(permitted("wallet.adjust"))]``, declared before the
    route's other dependencies. FastAPI solves dependencies before it reports the query's and
    the body's validation errors, so a caller without a token gets 401 and a role that may
    never use the route gets 403, whatever it sent; only an allowed caller learns that its
    request was invalid (422). Scope, and permissions that depend on the request, are checked
    by the route after that."""
    if action not in PERMISSIONS:
        raise KeyError(f"{action!r} is not in services/gateway/permissions.py PERMISSIONS")

    async def gate(principal: CurrentPrincipal) -> Principal:
        require(principal, action)
        return principal

    gate.__name__ = gate.__qualname__ = f"permitted({action})"
    _GATES[gate] = action
    return gate


def gate_action(call: Callable[..., object]) -> str | None:
    """The action a dependency made by ``permitted`` checks; None for any other callable."""
    return _GATES.get(call)  # type: ignore[arg-type]


def gate_refused_body(request: Request) -> None:
    """Run the matched route's token and role checks for a request FastAPI refused while
    reading its body (JSON that does not parse, a form that does not parse), which happens
    before dependencies are solved: 401 and 403 still come before the 400. Raises
    Unauthenticated or Forbidden; returns when the caller passes (or the route has no gate)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for dependency in getattr(dependant, "dependencies", ()):
        action = gate_action(dependency.call)
        if action is not None:
            require(_verified(request, _state(request)), action)
            return


@dataclass(frozen=True)
class Page:
    limit: int
    after: Any | None

    @staticmethod
    def cursor_for(key: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    async def fetch(self, state: GatewayState, query: Any, key: str) -> tuple[list[Any], str | None]:
        """One page of ``query`` (already ordered by ``key`` and filtered past the cursor):
        the rows and the cursor of the next page, None on the last."""
        async with state.db.sessions() as session:
            rows = (await session.execute(query.limit(self.limit + 1))).all()
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        return rows, (self.cursor_for(getattr(rows[-1], key)) if more else None)


async def _page(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page:
    after = None
    if cursor:
        try:
            after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except ValueError:
            raise InvalidArgument("cursor is not one this API returned", field="cursor") from None
    return Page(limit, after)


Paging = Annotated[Page, Depends(_page)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


def scoped_key(principal: Principal, key: str) -> str:
    """An idempotency key as the services store it: made unique per caller (the sha256 of the
    caller's ``sub`` and the key), so two terminals that both send "1" do not collide. The
    ``Idempotency-Key`` header and a page's form field are scoped alike. Missing or blank ->
    400 ``idempotency_key_required``; longer than 255 characters -> 422."""
    if not key or not key.strip():
        raise ChainclubError(
            "this request moves money or points: send an Idempotency-Key header (1-255 characters)",
            reason="idempotency_key_required",
        )
    if len(key) > 255:
        raise InvalidArgument("Idempotency-Key is at most 255 characters", field="Idempotency-Key")
    return hashlib.sha256(f"{principal.sub}\n{key}".encode()).hexdigest()


async def _idempotency_key(request: Request, principal: CurrentPrincipal) -> str:
    """The caller's ``Idempotency-Key`` header, scoped to the caller (``scoped_key``)."""
    return scoped_key(principal, request.headers.get("idempotency-key") or "")


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]
