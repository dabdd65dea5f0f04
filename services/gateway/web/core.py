"""What every page handler stands on: the page context (who, which language, the CSRF token,
the cookies to set), rendering a template as a full page or an htmx fragment, and the route
class that turns a refused or failed request into an HTML answer instead of problem+json.

Page handlers call the same use-case functions as the REST routes (services/gateway/*.py);
they never call the REST API over HTTP. Role rules come from the one permission table
(services/gateway/permissions.py); scope is checked by the use cases and the services.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import FormData

from kit.auth import Principal
from kit.db import is_retryable
from kit.errors import ChainclubError, problem_for
from services.gateway import permissions
from services.gateway.state import GatewayState
from services.gateway.web import i18n, session, vocabulary

log = logging.getLogger("gateway.web")
WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"

# Where each role lands after logging in (and what "home" means in the page header).
HOME = {
    "clerk": "/counter",
    "store_manager": "/counter",
    "terminal": "/counter",
    "distributor": "/portal",
    "hq_admin": "/console/dashboard",
    "region_manager": "/console/dashboard",
    "auditor": "/console/dashboard",
}


class LoginRequired(Exception):
    """No valid session: the browser goes to the login page (and comes back after)."""


class PageForbidden(Exception):
    """A role that may not open this page at all."""


def _environment(locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


ENVIRONMENTS = {locale: _environment(locale) for locale in i18n.LANGUAGES}


@dataclass
class PageContext:
    request: Request
    state: GatewayState
    principal: Principal | None
    locale: str
    csrf: str
    cookies: session.Cookies = field(default_factory=session.Cookies)
    _form: FormData | None = None

    @property
    def p(self) -> Principal:
        if self.principal is None:
            raise LoginRequired
        return self.principal

    @property
    def fmt(self) -> i18n.Formats:
        return i18n.Formats(self.locale, self.state.settings.chain_timezone)

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def _(self, message: str, **values: Any) -> str:
        text = i18n.gettext(self.locale, message)
        return text % values if values else text

    async def form(self) -> FormData:
        if self._form is None:
            self._form = await self.request.form()
        return self._form

    def allowed(self, action: str) -> bool:
        return self.principal is not None and permissions.allowed(self.principal, action)

    def render(
        self, template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any
    ) -> HTMLResponse:
        env = ENVIRONMENTS[self.locale]
        fmt = self.fmt
        html = env.get_template(template).render(
            request=self.request,
            principal=self.principal,
            locale=self.locale,
            languages=i18n.LANGUAGES,
            csrf=self.csrf,
            home=HOME.get(self.principal.role, "/") if self.principal else "/",
            allowed=self.allowed,
            money=fmt.money,
            yuan=fmt.yuan,
            number=fmt.number,
            dt=fmt.datetime,
            day=fmt.date,
            new_key=new_key,
            now=lambda: datetime.now(UTC),
            points_share=self.state.settings.loyalty_points_max_share_bps,
            label=lambda code: vocabulary.label(self.locale, code),
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=headers)
        return self.finish(response)

    def redirect(self, url: str) -> Response:
        """Go to ``url``: an htmx request is told to navigate, a plain one gets 303."""
        if self.htmx:
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        self.cookies.apply(response, secure=session.secure_cookies(self.state))
        # Pages hold member data: never cached, so "back" after logout shows the login page.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        return response


def new_key() -> str:
    """An Idempotency-Key for a money-moving form, made when the form is shown."""
    return uuid.uuid4().hex


async def page_context(request: Request, *, needs_login: bool = True) -> PageContext:
    state: GatewayState = request.app.state.gateway
    cookies = session.Cookies()
    locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
    principal = await session.principal(request, state, cookies)
    ctx = PageContext(request, state, principal, locale, session.csrf_token(request, cookies), cookies)
    if request.method in session.UNSAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None:
            form = await ctx.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        if not session.csrf_ok(request, sent):
            raise PageForbidden("csrf")
    if needs_login and principal is None:
        raise LoginRequired
    return ctx


def gate(*roles: Iterable[str] | str) -> Callable[[Request], Coroutine[Any, Any, PageContext]]:
    """The dependency "a logged-in browser whose role is one of ``roles``" (role names or
    sets of them from permissions.py)."""
    allowed_roles: set[str] = set()
    for r in roles:
        allowed_roles |= {r} if isinstance(r, str) else set(r)

    async def dependency(request: Request) -> PageContext:
        ctx = await page_context(request)
        if ctx.p.role not in allowed_roles:
            raise PageForbidden(ctx.p.role)
        return ctx

    return dependency


async def public(request: Request) -> PageContext:
    """A page anyone may open (the login page)."""
    return await page_context(request, needs_login=False)


def field_errors(exc: Exception) -> dict[str, str]:
    """A refused request's messages keyed by form field (problem+json's ``errors`` list)."""
    if isinstance(exc, ValidationError | RequestValidationError):
        out: dict[str, str] = {}
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query")]
            out.setdefault(".".join(loc) or "_", str(e.get("msg", "invalid")).removeprefix("Value error, "))
        return out
    if isinstance(exc, ChainclubError):
        return {str(exc.extra.get("field", "_")): exc.detail}
    return {"_": str(exc)}


def _error_page(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    state: GatewayState = request.app.state.gateway
    locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
    ctx = PageContext(request, state, None, locale, request.cookies.get(session.CSRF, ""))
    template = "_error_fragment.html" if ctx.htmx else "error.html"
    return ctx.render(template, status=status, title=title, detail=detail, code=code)


class PageRoute(APIRoute):
    """Answers in HTML: no session -> the login page; a role refused -> a 403 page; a
    service's refusal -> the status with its message (a 404 never reveals another scope)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = "/?next=" + quote(request.url.path) if request.method == "GET" else "/"
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except PageForbidden as exc:
                locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
                if str(exc) == "csrf":
                    detail = i18n.gettext(locale, "The form has expired. Reload the page and try again.")
                else:
                    detail = i18n.gettext(locale, "Your role may not open this page.")
                return _error_page(request, 403, i18n.gettext(locale, "Not allowed"), detail, "forbidden")
            except RequestValidationError as exc:
                locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
                detail = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
                return _error_page(
                    request, 422, i18n.gettext(locale, "Invalid request"), detail, "invalid_argument"
                )
            except ChainclubError as exc:
                status, body = problem_for(exc)
                locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
                title = i18n.gettext(locale, TITLES.get(status, "Something went wrong"))
                return _error_page(request, status, title, body["detail"], body["code"])
            except Exception as exc:  # a bug or an outage: an HTML page, never a JSON body in a page
                locale = i18n.negotiate(request.cookies.get(i18n.COOKIE))
                if is_retryable(exc):
                    log.warning("%s %s: %s (503)", request.method, request.url.path, exc)
                    detail = i18n.gettext(locale, "The database could not finish the request. Try again.")
                    return _error_page(
                        request, 503, i18n.gettext(locale, "Service unavailable"), detail, "unavailable"
                    )
                log.exception("unhandled error on page %s %s", request.method, request.url.path)
                detail = i18n.gettext(locale, "An internal error occurred; it has been logged.")
                return _error_page(
                    request, 500, i18n.gettext(locale, "Something went wrong"), detail, "internal"
                )

        return page_handler


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


TITLES = {
    400: N_("Invalid request"),
    401: N_("Not logged in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict"),
    422: N_("Invalid request"),
    429: N_("Too many requests"),
    503: N_("Service unavailable"),
}
