"""The console's start page (HQ, region and store managers, auditors): your scope's org units
and staff, and the forms to add a region or store and a staff account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import identity, org, schemas
from services.gateway.deps import Page
from services.gateway.domain import USER_ROLES, may_create_role
from services.gateway.permissions import MANAGERS
from services.gateway.web import vocabulary
from services.gateway.web.core import PageContext, PageRoute, field_errors, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]


async def _home(ctx: PageContext, status: int = 200, **forms: object) -> Response:
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    staff = (
        (await identity.list_users(ctx.state, ctx.p, Page(500, None), None)).items
        if ctx.allowed("users.read")
        else []
    )
    roles = [r for r in USER_ROLES if may_create_role(ctx.p.role, r)]
    values = {"unit": {}, "user": {}, "unit_errors": {}, "user_errors": {}, "created": None, **forms}
    return ctx.render("console/home.html", status=status, units=units, staff=staff, roles=roles, **values)


@router.get("/console")
async def home(ctx: Ctx) -> Response:
    return await _home(ctx)


@router.post("/console/org-units")
async def create_unit(ctx: Ctx) -> Response:
    form = {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}
    try:
        body = schemas.OrgUnitCreate.model_validate(form)
        unit = await org.create(ctx.state, ctx.request, ctx.p, body)
    except (ValidationError, ChainclubError) as exc:
        if isinstance(exc, ChainclubError) and exc.reason not in (
            "invalid_argument",
            "conflict",
            "forbidden",
        ):
            raise
        return await _home(ctx, 422, unit=form, unit_errors=field_errors(exc) | _conflict(exc, "code"))
    return await _home(
        ctx,
        201,
        created=ctx._(
            "Created %(what)s %(code)s.", what=vocabulary.label(ctx.locale, unit.kind), code=unit.code
        ),
    )


@router.post("/console/users")
async def create_user(ctx: Ctx) -> Response:
    form = {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}
    form["password"] = str((await ctx.form()).get("password") or "")
    if not form.get("price_level"):
        form.pop("price_level", None)
    try:
        body = schemas.UserCreate.model_validate(form)
        user = await identity.create_user(ctx.state, ctx.request, ctx.p, body)
    except (ValidationError, ChainclubError) as exc:
        if isinstance(exc, ChainclubError) and exc.reason not in (
            "invalid_argument",
            "conflict",
            "forbidden",
        ):
            raise
        form.pop("password", None)
        return await _home(ctx, 422, user=form, user_errors=field_errors(exc) | _conflict(exc, "username"))
    return await _home(ctx, 201, created=ctx._("Created user %(name)s.", name=user.username))


def _conflict(exc: Exception, field: str) -> dict[str, str]:
    """A conflict (a taken code or user name) or a refused role belongs next to a field."""
    if isinstance(exc, ChainclubError) and exc.reason == "conflict":
        return {field: exc.detail, "_": ""}
    if isinstance(exc, ChainclubError) and exc.reason == "forbidden":
        return {"role": exc.detail, "_": ""}
    return {}
