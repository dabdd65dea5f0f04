"""OAuth2 token endpoint (RFC 6749, form-encoded) and ``/me``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import identity, schemas
from services.gateway.deps import State, permitted

router = APIRouter(prefix="/api/v1", tags=["auth"])

GRANTS = {
    "password": ("username", "password"),
    "client_credentials": ("client_id", "client_secret"),
    "refresh_token": ("refresh_token",),
}


@router.post(
    "/auth/token",
    response_model=schemas.TokenResponse,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": list(GRANTS)},
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "refresh_token": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def token(request: Request, state: State) -> schemas.TokenResponse:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise InvalidArgument("send the token request form-encoded (application/x-www-form-urlencoded)")
    try:
        form = await request.form()
    except Exception:
        raise InvalidArgument("the form body could not be parsed") from None
    grant = form.get("grant_type")
    if grant not in GRANTS:
        raise InvalidArgument(
            f"unsupported grant_type {grant!r}; use one of {', '.join(GRANTS)}", field="grant_type"
        )
    values = []
    for name in GRANTS[grant]:
        value = form.get(name)
        if not isinstance(value, str) or not value or len(value) > 1024:
            raise InvalidArgument(f"{name} is required for grant_type={grant}", field=name)
        values.append(value)
    if grant == "password":
        return await identity.password_grant(state, request, *values)
    if grant == "client_credentials":
        return await identity.client_credentials_grant(state, request, *values)
    return await identity.refresh_grant(state, request, *values)


@router.get("/me", response_model=schemas.Me)
async def me(principal: Annotated[Principal, Depends(permitted("me.read"))]) -> schemas.Me:
    return schemas.Me(
        username=principal.sub,
        role=principal.role,
        org_unit=principal.org_unit,
        scope=principal.scope,
        price_level=principal.price_level,
    )
