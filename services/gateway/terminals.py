"""Store terminals: registered on a store of the caller's scope (the secret shown once, kept
as a hash), listed, disabled or enabled, and given a new secret (the old one refused at once,
the terminal's refresh tokens revoked). They log in by client_credentials (identity.py)."""

from __future__ import annotations

import secrets

from fastapi import Request
from sqlalchemy import update

from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument, NotFound
from services.gateway import audit, org, schemas
from services.gateway.deps import Page
from services.gateway.identity import _TERMINAL_VIEW, _revoke_all, sha256
from services.gateway.models import org_units, terminals
from services.gateway.state import GatewayState


def public_terminal(row) -> schemas.Terminal:  # type: ignore[no-untyped-def]
    return schemas.Terminal(client_id=row.client_id, store=row.store, name=row.name, active=row.active)


async def create_terminal(
    state: GatewayState, request: Request, p: Principal, body: schemas.TerminalCreate
) -> schemas.TerminalCreated:
    async with state.db.transaction() as session:
        unit = await org.find(session, body.store)
        if unit is None or not p.may_access(unit.path):
            raise InvalidArgument(f"unknown store {body.store!r}", field="store")
        if unit.kind != "store":
            raise InvalidArgument(f"{body.store!r} is a {unit.kind}, not a store", field="store")
        if not unit.active:
            raise InvalidArgument(f"store {body.store!r} is inactive", field="store")
        client_id = f"term_{secrets.token_hex(10)}"
        secret = secrets.token_urlsafe(32)
        await session.execute(
            terminals.insert().values(
                client_id=client_id,
                secret_hash=sha256(secret),
                name=body.name,
                store=unit.code,
                created_by=p.sub,
            )
        )
        await audit.record(
            session, request, p, "terminal.create", "terminal", client_id, unit.path, {"name": body.name}
        )
    return schemas.TerminalCreated(client_id=client_id, client_secret=secret, store=unit.code, name=body.name)


async def list_terminals(state: GatewayState, p: Principal, page: Page) -> schemas.TerminalList:
    query = _TERMINAL_VIEW.where(in_scope(org_units.c.path, p.scope)).order_by(terminals.c.client_id)
    if page.after is not None:
        query = query.where(terminals.c.client_id > str(page.after))
    rows, next_cursor = await page.fetch(state, query, "client_id")
    return schemas.TerminalList(items=[public_terminal(r) for r in rows], next_cursor=next_cursor)


async def patch_terminal(
    state: GatewayState, request: Request, p: Principal, client_id: str, body: schemas.TerminalUpdate
) -> schemas.Terminal:
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise InvalidArgument("nothing to change: give active and/or name", field="body")
    async with state.db.transaction() as session:
        row = (await session.execute(_TERMINAL_VIEW.where(terminals.c.client_id == client_id))).first()
        if row is None or not p.may_access(row.path):
            raise NotFound(f"no terminal {client_id!r}")
        await session.execute(update(terminals).where(terminals.c.client_id == client_id).values(**changes))
        if changes.get("active") is False:
            await _revoke_all(session, client_id)
        await audit.record(session, request, p, "terminal.update", "terminal", client_id, row.path, changes)
        row = (await session.execute(_TERMINAL_VIEW.where(terminals.c.client_id == client_id))).first()
        return public_terminal(row)


async def rotate_terminal_secret(
    state: GatewayState, request: Request, p: Principal, client_id: str
) -> schemas.TerminalCreated:
    """A new secret for a terminal whose secret leaked or whose device changed hands. The old
    secret is refused from this commit on, and every refresh token of the terminal is revoked:
    a session logged in with the old secret ends at its next renewal (its access token lives
    out its short lifetime, ``access_token_ttl``). The new secret is answered once, never stored."""
    async with state.db.transaction() as session:
        row = (
            await session.execute(
                _TERMINAL_VIEW.where(terminals.c.client_id == client_id).with_for_update(of=terminals)
            )
        ).first()
        if row is None or not p.may_access(row.path):
            raise NotFound(f"no terminal {client_id!r}")
        secret = secrets.token_urlsafe(32)
        await session.execute(
            update(terminals).where(terminals.c.client_id == client_id).values(secret_hash=sha256(secret))
        )
        await _revoke_all(session, client_id)
        await audit.record(
            session, request, p, "terminal.rotate_secret", "terminal", client_id, row.path, {"name": row.name}
        )
    return schemas.TerminalCreated(client_id=client_id, client_secret=secret, store=row.store, name=row.name)
