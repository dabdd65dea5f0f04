"""Use cases of the org tree: HQ -> regions (may nest) -> stores, with materialized paths.
The routes check the caller's role before calling them (deps.permitted); they check scope."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.db import in_scope
from kit.errors import Conflict, Forbidden, InvalidArgument, NotFound
from services.gateway import audit, schemas
from services.gateway.deps import Page
from services.gateway.domain import ROOT, RuleBroken, check_new_unit, child_path
from services.gateway.models import org_units
from services.gateway.state import GatewayState


def public(row) -> schemas.OrgUnit:  # type: ignore[no-untyped-def]
    return schemas.OrgUnit(
        code=row.code, name=row.name, kind=row.kind, parent=row.parent, path=row.path, active=row.active
    )


async def find(session: AsyncSession, code: str):  # type: ignore[no-untyped-def]
    return (await session.execute(select(org_units).where(org_units.c.code == code))).first()


async def find_in_scope(session: AsyncSession, principal: Principal, code: str):  # type: ignore[no-untyped-def]
    """The unit, or NotFound when it does not exist or lies outside the caller's scope."""
    row = await find(session, code)
    if row is None or not principal.may_access(row.path):
        raise NotFound(f"no org unit {code!r}")
    return row


async def create(
    state: GatewayState, request: Request, p: Principal, body: schemas.OrgUnitCreate
) -> schemas.OrgUnit:
    async with state.db.transaction() as session:
        parent = await find(session, body.parent)
        if parent is None or not p.may_access(parent.path):
            raise InvalidArgument(f"unknown parent org unit {body.parent!r}", field="parent")
        try:
            check_new_unit(body.code, body.kind, parent.kind)
        except RuleBroken as err:
            raise InvalidArgument(err.message, field=err.field) from None
        if not parent.active:
            raise InvalidArgument(f"parent {body.parent!r} is inactive", field="parent")
        if await find(session, body.code) is not None:
            raise Conflict(f"org unit code {body.code!r} is taken")
        path = child_path(parent.path, body.code)
        try:
            async with session.begin_nested():
                await session.execute(
                    org_units.insert().values(
                        code=body.code, name=body.name, kind=body.kind, parent=parent.code, path=path
                    )
                )
        except IntegrityError:
            raise Conflict(f"org unit code {body.code!r} is taken") from None
        await audit.record(
            session, request, p, "org_unit.create", "org_unit", body.code, path, body.model_dump()
        )
        return public(await find(session, body.code))


async def list_units(state: GatewayState, p: Principal, page: Page, kind: str | None) -> schemas.OrgUnitList:
    query = select(org_units).where(in_scope(org_units.c.path, p.scope)).order_by(org_units.c.path)
    if kind:
        query = query.where(org_units.c.kind == kind)
    if page.after is not None:
        query = query.where(org_units.c.path > str(page.after))
    rows, next_cursor = await page.fetch(state, query, "path")
    return schemas.OrgUnitList(items=[public(r) for r in rows], next_cursor=next_cursor)


async def get(state: GatewayState, p: Principal, code: str) -> schemas.OrgUnit:
    async with state.db.sessions() as session:
        return public(await find_in_scope(session, p, code))


async def patch(
    state: GatewayState, request: Request, p: Principal, code: str, body: schemas.OrgUnitUpdate
) -> schemas.OrgUnit:
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise InvalidArgument("nothing to change: give name and/or active", field="body")
    async with state.db.transaction() as session:
        row = await find_in_scope(session, p, code)
        if row.code == ROOT and changes.get("active") is False:
            raise InvalidArgument("the HQ root cannot be deactivated", field="active")
        if row.path == p.scope and p.role != "hq_admin":
            raise Forbidden("only a higher level may change the unit a manager sits on")
        await session.execute(update(org_units).where(org_units.c.code == code).values(**changes))
        await audit.record(session, request, p, "org_unit.update", "org_unit", code, row.path, changes)
        return public(await find(session, code))


async def unit_path(state: GatewayState, p: Principal, code: str, *, field: str) -> str:
    """The path of an org unit in the caller's scope; unknown and out of scope are the same 422
    on ``field`` (a filter or a rule's scope never reveals another scope's units)."""
    async with state.db.sessions() as session:
        unit = await find(session, code)
    if unit is None or not p.may_access(unit.path):
        raise InvalidArgument(f"unknown org unit {code!r}", field=field)
    return unit.path
