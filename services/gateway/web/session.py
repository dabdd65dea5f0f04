"""Sessions of the pages: the same tokens as the REST API, kept in cookies.

- ``cc_access`` (the access JWT) and ``cc_refresh`` (the refresh token): HttpOnly,
  SameSite=Strict, Secure outside the dev and test profiles. An expired access token is
  renewed from the refresh token on the next page request (``identity.renew_access``: not
  rotated, so a page's concurrent requests may renew at once); logging out revokes it.
- ``cc_csrf``: a random token set on the first page a browser opens and renewed at login. Every
  unsafe request (form post, htmx post) must echo it in the ``csrf`` form field or the
  ``X-CSRF-Token`` header; the page carries it in ``<meta name="csrf-token">`` and in its forms.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request, Response

from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway import identity
from services.gateway.schemas import TokenResponse
from services.gateway.state import GatewayState

ACCESS = "cc_access"
REFRESH = "cc_refresh"
CSRF = "cc_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Cookies:
    """Cookies a page response must set or clear (a renewed session, a new CSRF token)."""

    to_set: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    to_clear: set[str] = field(default_factory=set)

    def apply(self, response: Response, *, secure: bool) -> None:
        for name in self.to_clear:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
        for name, (value, max_age) in self.to_set.items():
            response.set_cookie(
                name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
            )


def secure_cookies(state: GatewayState) -> bool:
    return state.settings.profile not in ("dev", "test")


def csrf_token(request: Request, cookies: Cookies) -> str:
    """The browser's CSRF token; a new one (set with the response) when it has none."""
    current = request.cookies.get(CSRF)
    if current and 20 <= len(current) <= 100:
        return current
    if CSRF in cookies.to_set:
        return cookies.to_set[CSRF][0]
    token = secrets.token_urlsafe(32)
    cookies.to_set[CSRF] = (token, None)
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.cookies.get(CSRF)
    return bool(expected and sent and hmac.compare_digest(expected.encode(), sent.encode()))


def remember(cookies: Cookies, tokens: TokenResponse, state: GatewayState) -> None:
    cookies.to_set[ACCESS] = (tokens.access_token, state.settings.refresh_token_ttl)
    cookies.to_set[REFRESH] = (tokens.refresh_token, state.settings.refresh_token_ttl)
    cookies.to_clear -= {ACCESS, REFRESH}


def forget(cookies: Cookies) -> None:
    cookies.to_clear |= {ACCESS, REFRESH}
    for name in (ACCESS, REFRESH):
        cookies.to_set.pop(name, None)


async def principal(request: Request, state: GatewayState, cookies: Cookies) -> Principal | None:
    """Who the browser is logged in as: the access cookie's principal, renewed through the
    refresh cookie when it expired; None when there is no valid session (cookies cleared)."""
    access = request.cookies.get(ACCESS)
    if access:
        try:
            return state.keys.verify(access)
        except ChainclubError:
            pass
    refresh = request.cookies.get(REFRESH)
    if not refresh:
        if access:
            forget(cookies)
        return None
    tokens = await identity.renew_access(state, refresh)
    if tokens is None:
        forget(cookies)
        return None
    remember(cookies, tokens, state)
    return state.keys.verify(tokens.access_token)


async def log_out(request: Request, state: GatewayState, cookies: Cookies) -> None:
    refresh = request.cookies.get(REFRESH)
    if refresh:
        await identity.revoke_refresh_token(state, refresh)
    forget(cookies)
