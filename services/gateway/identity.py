"""Use cases of identity: staff users and the OAuth2 token endpoint
(password, client_credentials, refresh_token with rotation), with login throttling.
The routes check the caller's role before calling them (deps.permitted); they check scope.
Store terminals (their registration and secrets) are in terminals.py."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2.exceptions import InvalidHashError, VerifyMismatchError
from fastapi import Request
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.db import in_scope
from kit.errors import ChainclubError, Conflict, Forbidden, InvalidArgument, NotFound
from services.gateway import audit, org, schemas
from services.gateway.deps import Page, client_ip
from services.gateway.domain import (
    PRICE_LEVEL,
    USER_ROLES,
    RuleBroken,
    check_new_user,
    check_password,
    may_create_role,
    may_manage,
)
from services.gateway.models import login_failures, org_units, refresh_tokens, terminals, users
from services.gateway.state import GatewayState

_DUMMY_HASH: str | None = None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class InvalidCredentials(ChainclubError):
    """Unknown user or client, wrong password or secret, or a disabled account."""

    reason = "invalid_credentials"


class RateLimited(ChainclubError):
    """Too many failed logins; try again later."""

    reason = "rate_limited"


# --- users -----------------------------------------------------------------------------------
_USER_VIEW = select(users, org_units.c.path).join(org_units, org_units.c.code == users.c.org_unit)


def public_user(row) -> schemas.User:  # type: ignore[no-untyped-def]
    return schemas.User(
        username=row.username,
        role=row.role,
        org_unit=row.org_unit,
        scope=row.path,
        price_level=row.price_level,
        active=row.active,
    )


async def _user(session: AsyncSession, username: str):  # type: ignore[no-untyped-def]
    return (await session.execute(_USER_VIEW.where(users.c.username == username))).first()


async def create_user(
    state: GatewayState, request: Request, p: Principal, body: schemas.UserCreate
) -> schemas.User:
    if body.role not in USER_ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(USER_ROLES)}", field="role")
    if not may_create_role(p.role, body.role):
        raise Forbidden(f"a {p.role} may not create a {body.role}")
    async with state.db.transaction() as session:
        unit = await org.find(session, body.org_unit)
        if unit is None or not p.may_access(unit.path):
            raise InvalidArgument(f"unknown org unit {body.org_unit!r}", field="org_unit")
        try:
            check_new_user(body.username, body.password, body.role, unit.kind, body.price_level)
        except RuleBroken as err:
            raise InvalidArgument(err.message, field=err.field) from None
        if await _user(session, body.username) is not None:
            raise Conflict(f"username {body.username!r} is taken")
        password_hash = await asyncio.to_thread(state.hasher.hash, body.password)
        try:
            async with session.begin_nested():
                await session.execute(
                    users.insert().values(
                        username=body.username,
                        password_hash=password_hash,
                        role=body.role,
                        org_unit=unit.code,
                        price_level=body.price_level,
                        created_by=p.sub,
                    )
                )
        except IntegrityError:
            raise Conflict(f"username {body.username!r} is taken") from None
        detail = body.model_dump(exclude={"password"})
        await audit.record(session, request, p, "user.create", "user", body.username, unit.path, detail)
        return public_user(await _user(session, body.username))


async def list_users(state: GatewayState, p: Principal, page: Page, role: str | None) -> schemas.UserList:
    query = _USER_VIEW.where(in_scope(org_units.c.path, p.scope)).order_by(users.c.username)
    if role:
        query = query.where(users.c.role == role)
    if page.after is not None:
        query = query.where(users.c.username > str(page.after))
    rows, next_cursor = await page.fetch(state, query, "username")
    return schemas.UserList(items=[public_user(r) for r in rows], next_cursor=next_cursor)


async def _user_in_scope(session: AsyncSession, p: Principal, username: str):  # type: ignore[no-untyped-def]
    row = await _user(session, username)
    if row is None or not p.may_access(row.path):
        raise NotFound(f"no user {username!r}")
    return row


async def get_user(state: GatewayState, p: Principal, username: str) -> schemas.User:
    async with state.db.sessions() as session:
        return public_user(await _user_in_scope(session, p, username))


async def patch_user(
    state: GatewayState, request: Request, p: Principal, username: str, body: schemas.UserUpdate
) -> schemas.User:
    if body.active is None and body.password is None and body.price_level is None:
        raise InvalidArgument("nothing to change: give active, password and/or price_level", field="body")
    async with state.db.transaction() as session:
        row = await _user_in_scope(session, p, username)
        if not may_manage(p.role, row.role):
            raise Forbidden(f"a {p.role} may not manage a {row.role}")
        if username == p.sub and body.active is False:
            raise InvalidArgument("you cannot disable your own account", field="active")
        changes: dict[str, object] = {"updated_at": func.now()}
        if body.active is not None:
            changes["active"] = body.active
        if body.password is not None:
            try:
                check_password(body.password)
            except RuleBroken as err:
                raise InvalidArgument(err.message, field=err.field) from None
            changes["password_hash"] = await asyncio.to_thread(state.hasher.hash, body.password)
        if body.price_level is not None:
            _check_level_change(row.role, body.price_level)
            changes["price_level"] = body.price_level
        await session.execute(update(users).where(users.c.username == username).values(**changes))
        if body.active is False or body.password is not None:
            await _revoke_all(session, username)
        detail: dict[str, object] = {"active": body.active, "password_reset": body.password is not None}
        if body.price_level is not None:
            detail["price_level"] = body.price_level
        await audit.record(session, request, p, "user.update", "user", username, row.path, detail)
        return public_user(await _user(session, username))


def _check_level_change(role: str, level: str) -> None:
    """Only a distributor buys at a price level; the new level applies from its next token
    renewal (the level is read afresh then), without logging it out."""
    if role != "distributor":
        raise InvalidArgument("only a distributor has a price level", field="price_level")
    if not PRICE_LEVEL.match(level):
        raise InvalidArgument(
            "price_level must be an upper-case letter then up to 7 letters/digits", field="price_level"
        )


_TERMINAL_VIEW = select(terminals, org_units.c.path).join(
    org_units, org_units.c.code == terminals.c.store
)  # terminals.py lists them


# --- tokens ------------------------------------------------------------------------------------
async def _revoke_all(session: AsyncSession, subject: str) -> None:
    await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.subject == subject, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def _throttle(state: GatewayState, keys: list[str]) -> None:
    s = state.settings
    since = datetime.now(UTC) - timedelta(seconds=s.login_failure_window)
    async with state.db.sessions() as session:
        for key in keys:
            limit = s.login_ip_max_failures if key.startswith("ip:") else s.login_max_failures
            count = (
                await session.execute(
                    select(func.count()).where(login_failures.c.key == key, login_failures.c.at > since)
                )
            ).scalar_one()
            if count >= limit:
                raise RateLimited(
                    "too many failed logins; try again later", retry_after=str(s.login_failure_window)
                )


async def _fail(state: GatewayState, keys: list[str]) -> InvalidCredentials:
    async with state.db.transaction() as session:
        await session.execute(login_failures.insert(), [{"key": k} for k in keys])
    return InvalidCredentials("invalid credentials")


def _verify_password(state: GatewayState, password_hash: str | None, password: str) -> bool:
    global _DUMMY_HASH
    if password_hash is None:  # same work for unknown users: no timing oracle for usernames
        _DUMMY_HASH = _DUMMY_HASH or state.hasher.hash("not a password of anyone")
        password_hash = _DUMMY_HASH
        password = password + "\0"
    try:
        return state.hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def _claims(sub: str, role: str, unit_code: str, path: str, price_level: str | None) -> dict[str, str]:
    claims = {"sub": sub, "role": role, "scope": path, "org_unit": unit_code}
    if price_level:
        claims["price_level"] = price_level
    return claims


async def _issue(
    state: GatewayState,
    session: AsyncSession,
    *,
    sub: str,
    kind: str,
    role: str,
    unit_code: str,
    path: str,
    price_level: str | None,
) -> schemas.TokenResponse:
    claims = _claims(sub, role, unit_code, path, price_level)
    ttl = state.settings.access_token_ttl
    refresh = secrets.token_urlsafe(32)
    await session.execute(
        refresh_tokens.insert().values(
            token_hash=sha256(refresh),
            subject=sub,
            kind=kind,
            expires_at=datetime.now(UTC) + timedelta(seconds=state.settings.refresh_token_ttl),
        )
    )
    return schemas.TokenResponse(
        access_token=state.keys.sign(claims, ttl), expires_in=ttl, refresh_token=refresh
    )


async def password_grant(
    state: GatewayState, request: Request, username: str, password: str
) -> schemas.TokenResponse:
    keys = [f"user:{sha256(username.lower())}", f"ip:{client_ip(request)}"]
    await _throttle(state, keys)
    async with state.db.sessions() as session:
        row = await _user(session, username)
    ok = await asyncio.to_thread(_verify_password, state, row.password_hash if row else None, password)
    if not ok or row is None or not row.active:
        raise await _fail(state, keys)
    async with state.db.transaction() as session:
        await session.execute(delete(login_failures).where(login_failures.c.key == keys[0]))
        if state.hasher.check_needs_rehash(row.password_hash):
            new_hash = await asyncio.to_thread(state.hasher.hash, password)
            await session.execute(
                update(users).where(users.c.username == username).values(password_hash=new_hash)
            )
        await audit.record(
            session,
            request,
            None,
            "auth.login",
            "user",
            username,
            row.path,
            {"grant": "password"},
            actor_name=username,
            actor_role=row.role,
        )
        return await _issue(
            state,
            session,
            sub=row.username,
            kind="user",
            role=row.role,
            unit_code=row.org_unit,
            path=row.path,
            price_level=row.price_level,
        )


async def client_credentials_grant(
    state: GatewayState, request: Request, client_id: str, secret: str
) -> schemas.TokenResponse:
    keys = [f"client:{sha256(client_id)}", f"ip:{client_ip(request)}"]
    await _throttle(state, keys)
    async with state.db.sessions() as session:
        row = (await session.execute(_TERMINAL_VIEW.where(terminals.c.client_id == client_id))).first()
    if row is None or not row.active or not hmac.compare_digest(row.secret_hash, sha256(secret)):
        raise await _fail(state, keys)
    async with state.db.transaction() as session:
        await session.execute(delete(login_failures).where(login_failures.c.key == keys[0]))
        return await _issue(
            state,
            session,
            sub=row.client_id,
            kind="terminal",
            role="terminal",
            unit_code=row.store,
            path=row.path,
            price_level=None,
        )


async def refresh_grant(state: GatewayState, request: Request, token: str) -> schemas.TokenResponse:
    keys = [f"ip:{client_ip(request)}"]
    await _throttle(state, keys)
    async with state.db.transaction() as session:
        stored = (
            await session.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == sha256(token)).with_for_update()
            )
        ).first()
        if stored is not None and stored.revoked_at is not None:
            # A rotated token used again: it was stolen or replayed. End the whole family.
            await _revoke_all(session, stored.subject)
        if stored is None or stored.revoked_at is not None or stored.expires_at <= datetime.now(UTC):
            invalid = True
        else:
            invalid = False
            await session.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == stored.token_hash)
                .values(revoked_at=func.now())
            )
    if invalid:
        raise await _fail(state, keys)
    async with state.db.transaction() as session:
        if stored.kind == "terminal":
            row = (
                await session.execute(_TERMINAL_VIEW.where(terminals.c.client_id == stored.subject))
            ).first()
            if row is None or not row.active:
                raise InvalidCredentials("invalid credentials")
            return await _issue(
                state,
                session,
                sub=row.client_id,
                kind="terminal",
                role="terminal",
                unit_code=row.store,
                path=row.path,
                price_level=None,
            )
        row = await _user(session, stored.subject)
        if row is None or not row.active:
            raise InvalidCredentials("invalid credentials")
        return await _issue(
            state,
            session,
            sub=row.username,
            kind="user",
            role=row.role,
            unit_code=row.org_unit,
            path=row.path,
            price_level=row.price_level,
        )


async def renew_access(state: GatewayState, token: str) -> schemas.TokenResponse | None:
    """A new access token for a page session's refresh token, which is *not* rotated: the
    browser's concurrent requests may all renew at once (rotation would make all but one look
    like a replayed, stolen token). None when the token is unknown, revoked or expired, or its
    user or terminal is no longer active. The token stays valid until logout or expiry."""
    async with state.db.sessions() as session:
        stored = (
            await session.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == sha256(token)))
        ).first()
        if stored is None or stored.revoked_at is not None or stored.expires_at <= datetime.now(UTC):
            return None
        if stored.kind == "terminal":
            row = (
                await session.execute(_TERMINAL_VIEW.where(terminals.c.client_id == stored.subject))
            ).first()
            claims = (
                None
                if row is None or not row.active
                else _claims(row.client_id, "terminal", row.store, row.path, None)
            )
        else:
            row = await _user(session, stored.subject)
            claims = (
                None
                if row is None or not row.active
                else _claims(row.username, row.role, row.org_unit, row.path, row.price_level)
            )
    if claims is None:
        return None
    ttl = state.settings.access_token_ttl
    return schemas.TokenResponse(
        access_token=state.keys.sign(claims, ttl), expires_in=ttl, refresh_token=token
    )


async def revoke_refresh_token(state: GatewayState, token: str) -> None:
    """Log out: the refresh token can no longer be used (RFC 7009; unknown tokens are ignored)."""
    async with state.db.transaction() as session:
        await session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.token_hash == sha256(token), refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
