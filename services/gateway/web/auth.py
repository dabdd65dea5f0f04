"""The login page (``/``), logging out, and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from kit.errors import ChainclubError
from services.gateway import identity
from services.gateway.web import i18n, session
from services.gateway.web.core import HOME, PageContext, PageRoute, public

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(public)]


def _local(target: str | None, default: str) -> str:
    """Only paths of this site are followed after login (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@router.get("/")
async def login_page(ctx: Ctx, next: str | None = None, mode: str = "user") -> Response:
    if ctx.principal is not None:
        return ctx.redirect(_local(next, HOME.get(ctx.principal.role, "/")))
    mode = "terminal" if mode == "terminal" else "user"
    return ctx.render("login.html", next=_local(next, ""), errors={}, values={}, mode=mode)


@router.post("/login")
async def login(ctx: Ctx) -> Response:
    form = await ctx.form()
    mode = "terminal" if form.get("mode") == "terminal" else "user"
    name = str(form.get("username") or "").strip()
    secret = str(form.get("password") or "")
    values = {"username": name}
    errors: dict[str, str] = {}
    if not name:
        errors["username"] = (
            ctx._("Enter your user name.") if mode == "user" else ctx._("Enter the terminal's client id.")
        )
    if not secret:
        errors["password"] = (
            ctx._("Enter your password.") if mode == "user" else ctx._("Enter the terminal's secret.")
        )
    if not errors:
        try:
            if mode == "terminal":
                tokens = await identity.client_credentials_grant(ctx.state, ctx.request, name, secret)
            else:
                tokens = await identity.password_grant(ctx.state, ctx.request, name, secret)
        except ChainclubError as exc:
            if exc.reason == "rate_limited":
                errors["_"] = ctx._("Too many failed logins. Wait a few minutes and try again.")
            elif exc.reason == "invalid_credentials":
                errors["_"] = ctx._("Wrong user name or password.")
            else:
                raise
        else:
            session.remember(ctx.cookies, tokens, ctx.state)
            # A new session gets a new CSRF token (a token planted before login is worthless).
            ctx.cookies.to_set[session.CSRF] = (secrets.token_urlsafe(32), None)
            role = ctx.state.keys.verify(tokens.access_token).role
            return ctx.redirect(_local(str(form.get("next") or ""), HOME.get(role, "/")))
    status = 429 if "Too many" in errors.get("_", "") else (401 if "_" in errors else 422)
    return ctx.render(
        "login.html", status=status, next=_local(str(form.get("next") or ""), ""), errors=errors,
        values=values, mode=mode,
    )  # fmt: skip


@router.post("/logout")
async def logout(ctx: Ctx) -> Response:
    await session.log_out(ctx.request, ctx.state, ctx.cookies)
    ctx.principal = None
    return ctx.redirect("/")


@router.get("/lang/{code}")
async def language(code: str, request: Request, next: str | None = None) -> Response:
    """Switch the pages' language and remember it (a cookie for a year)."""
    response = RedirectResponse(_local(next, "/"), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 86400, path="/", samesite="lax")
    return response
