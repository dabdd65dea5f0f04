"""Error reasons, in one table: reason -> gRPC status code -> HTTP status.

Domain errors derive from ``ChainclubError`` and carry their ``reason``. The gRPC server
interceptor turns them into a status with a ``google.rpc.ErrorInfo`` detail; clients turn a
status back into the same error (``from_rpc_error``); the gateway renders problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

DOMAIN = "chainclub"
_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class Reason:
    grpc_code: grpc.StatusCode
    http_status: int
    title: str


REASONS: dict[str, Reason] = {
    "invalid_argument": Reason(grpc.StatusCode.INVALID_ARGUMENT, 422, "Invalid argument"),
    "not_found": Reason(grpc.StatusCode.NOT_FOUND, 404, "Not found"),
    # Out of scope is reported as not found: never reveal that a record exists.
    "out_of_scope": Reason(grpc.StatusCode.NOT_FOUND, 404, "Not found"),
    "unauthenticated": Reason(grpc.StatusCode.UNAUTHENTICATED, 401, "Unauthenticated"),
    "invalid_credentials": Reason(grpc.StatusCode.UNAUTHENTICATED, 401, "Invalid credentials"),
    "forbidden": Reason(grpc.StatusCode.PERMISSION_DENIED, 403, "Forbidden"),
    "conflict": Reason(grpc.StatusCode.ABORTED, 409, "Conflict"),
    "already_exists": Reason(grpc.StatusCode.ALREADY_EXISTS, 409, "Already exists"),
    "member_exists": Reason(grpc.StatusCode.ALREADY_EXISTS, 409, "Member exists"),
    "idempotency_key_required": Reason(grpc.StatusCode.INVALID_ARGUMENT, 400, "Idempotency key required"),
    "idempotency_key_reused": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Idempotency key reused"),
    "invalid_card_state": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Invalid card state"),
    "card_lost": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Card reported lost"),
    "card_frozen": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Card frozen"),
    "card_replaced": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Card replaced"),
    "card_expired": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Card expired"),
    "card_cancelled": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Card cancelled"),
    "insufficient_balance": Reason(grpc.StatusCode.FAILED_PRECONDITION, 402, "Insufficient balance"),
    "insufficient_points": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Insufficient points"),
    "coupon_unavailable": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Coupon unavailable"),
    "out_of_stock": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Out of stock"),
    "payment_mismatch": Reason(grpc.StatusCode.INVALID_ARGUMENT, 422, "Payment mismatch"),
    "limit_exceeded": Reason(grpc.StatusCode.FAILED_PRECONDITION, 422, "Limit exceeded"),
    "blocked_by_risk_rule": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Blocked by risk rule"),
    "pending_approval": Reason(grpc.StatusCode.FAILED_PRECONDITION, 409, "Pending approval"),
    "import_too_large": Reason(grpc.StatusCode.INVALID_ARGUMENT, 413, "Import too large"),
    "rate_limited": Reason(grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "Too many requests"),
    "unavailable": Reason(grpc.StatusCode.UNAVAILABLE, 503, "Service unavailable"),
    "internal": Reason(grpc.StatusCode.INTERNAL, 500, "Internal error"),
}

# A status that arrives without our detail still maps to a sensible reason.
_CODE_TO_REASON = {
    grpc.StatusCode.INVALID_ARGUMENT: "invalid_argument",
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.PERMISSION_DENIED: "forbidden",
    grpc.StatusCode.ALREADY_EXISTS: "already_exists",
    grpc.StatusCode.ABORTED: "conflict",
    grpc.StatusCode.FAILED_PRECONDITION: "conflict",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "rate_limited",
    grpc.StatusCode.UNAVAILABLE: "unavailable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "unavailable",
}


class ChainclubError(Exception):
    """Base of every error that has a stable machine reason."""

    reason = "internal"

    def __init__(self, detail: str = "", *, reason: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.__class__.__doc__ or self.reason)
        if reason is not None:
            self.reason = reason
        if self.reason not in REASONS:
            raise ValueError(f"unknown error reason {self.reason!r}")
        self.detail = detail or (self.__class__.__doc__ or REASONS[self.reason].title).strip()
        self.extra = {k: str(v) for k, v in extra.items()}

    @property
    def spec(self) -> Reason:
        return REASONS[self.reason]


class InvalidArgument(ChainclubError):
    """The request is not valid."""

    reason = "invalid_argument"

    def __init__(self, detail: str = "", *, field: str | None = None, **extra: Any) -> None:
        if field:
            extra["field"] = field
        super().__init__(detail, **extra)


class NotFound(ChainclubError):
    """No such record."""

    reason = "not_found"


class OutOfScope(ChainclubError):
    """The record lies outside the caller's scope (reported as not found)."""

    reason = "out_of_scope"


class Unauthenticated(ChainclubError):
    """No valid token was presented."""

    reason = "unauthenticated"


class Forbidden(ChainclubError):
    """The caller's role may not do this."""

    reason = "forbidden"


class Conflict(ChainclubError):
    """The request conflicts with the current state."""

    reason = "conflict"


class Unavailable(ChainclubError):
    """A dependency did not answer."""

    reason = "unavailable"


def to_grpc_status(err: ChainclubError) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    """Code, message and trailing metadata carrying a google.rpc.Status with ErrorInfo."""
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=DOMAIN, metadata=err.extra)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=err.spec.grpc_code.value[0], message=err.detail, details=[detail])
    return err.spec.grpc_code, err.detail, ((_DETAILS_KEY, status.SerializeToString()),)


def from_rpc_error(exc: grpc.RpcError) -> ChainclubError:
    """Rebuild the service's error from a failed call (reason, detail and metadata)."""
    code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
    message = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
    trailing = exc.trailing_metadata() if callable(getattr(exc, "trailing_metadata", None)) else None
    for key, value in trailing or ():
        if key != _DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        for any_detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if any_detail.Unpack(info) and info.domain == DOMAIN and info.reason in REASONS:
                return ChainclubError(status.message or message, reason=info.reason, **dict(info.metadata))
    reason = _CODE_TO_REASON.get(code, "internal")
    detail = message or code.name.lower()
    if reason == "unavailable":
        detail = f"a service did not answer: {detail}"
    return ChainclubError(detail, reason=reason)


def problem(status: int, code: str, detail: str, *, title: str | None = None, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    spec = REASONS.get(code)
    body: dict[str, Any] = {
        "type": f"https://chainclub.dev/problems/{code.replace('_', '-')}",
        "title": title or (spec.title if spec else code.replace("_", " ").capitalize()),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_for(err: ChainclubError) -> tuple[int, dict[str, Any]]:
    # The public code hides scope: an out-of-scope record is simply not found.
    code = "not_found" if err.reason == "out_of_scope" else err.reason
    extra: dict[str, Any] = {}
    if err.reason == "invalid_argument" and "field" in err.extra:
        extra["errors"] = [{"field": err.extra["field"], "message": err.detail}]
    return err.spec.http_status, problem(err.spec.http_status, code, err.detail, **extra)
