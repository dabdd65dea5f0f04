"""Every error leaves the gateway as application/problem+json (RFC 9457) with a ``code``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.db import is_retryable
from kit.errors import ChainclubError, problem, problem_for
from services.gateway.deps import gate_refused_body

log = logging.getLogger("gateway.problems")
MEDIA = "application/problem+json"

_HTTP_CODES = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "invalid_argument",
    415: "invalid_argument",
    422: "invalid_argument",
    429: "rate_limited",
    503: "unavailable",
}


def problem_response(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


# Statuses FastAPI answers while reading the body, before the route's dependencies ran.
_BODY_READ_STATUSES = (400, 413)


def install(app: FastAPI) -> None:
    async def gated(request: Request) -> JSONResponse | None:
        """The answer of the route's token and role checks when they refuse, else None: they
        come before a body the gateway could not even read (deps.gate_refused_body)."""
        try:
            gate_refused_body(request)
        except ChainclubError as exc:
            return await chainclub_error(request, exc)
        return None

    @app.exception_handler(ChainclubError)
    async def chainclub_error(request: Request, exc: ChainclubError) -> JSONResponse:
        status, body = problem_for(exc)
        headers = {"Retry-After": exc.extra["retry_after"]} if "retry_after" in exc.extra else None
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        if exc.reason == "invalid_argument" and "errors" not in body:
            body["errors"] = [{"field": exc.extra.get("field", "body"), "message": exc.detail}]
        return problem_response(status, body, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            if (refused := await gated(request)) is not None:
                return refused
            return problem_response(
                400,
                problem(
                    400, "invalid_argument", "the request body is not valid JSON", title="Malformed JSON"
                ),
            )
        items = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in errors
        ]
        detail = "; ".join(f"{i['field']}: {i['message']}" for i in items)
        return problem_response(422, problem(422, "invalid_argument", detail, errors=items))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in _BODY_READ_STATUSES and (refused := await gated(request)) is not None:
            return refused
        code = _HTTP_CODES.get(exc.status_code, "invalid_argument" if exc.status_code < 500 else "internal")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        return problem_response(
            exc.status_code, problem(exc.status_code, code, detail), getattr(exc, "headers", None)
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 = data exception: a value PostgreSQL cannot store or compare
        # (a NUL character, a too-long string, an out-of-range number) is bad input.
        if str(getattr(exc.orig, "sqlstate", "") or "").startswith("22"):
            detail = "a value in the request cannot be stored or searched (a NUL character, or out of range)"
            return problem_response(422, problem(422, "invalid_argument", detail))
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # This handler runs outside the request-id middleware: add the id here.
        rid = request.scope.get("state", {}).get("request_id", "")
        if is_retryable(exc):  # the database is gone, or a deadlock rolled the work back
            log.warning("%s %s: %s: %s (503)", request.method, request.url.path, type(exc).__name__, exc)
            body = problem(
                503,
                "unavailable",
                "the database could not finish the request now; retry (same Idempotency-Key)",
            )
            return problem_response(503, body, {"X-Request-Id": rid, "Retry-After": "1"})
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = problem(500, "internal", "an internal error occurred; it has been logged")
        return problem_response(500, body, {"X-Request-Id": rid})
