"""Error reasons: gRPC status with ErrorInfo and back, problem+json for the gateway."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from kit.errors import (
    REASONS,
    ChainclubError,
    InvalidArgument,
    OutOfScope,
    Unauthenticated,
    from_rpc_error,
    problem_for,
    to_grpc_status,
)

pytestmark = pytest.mark.unit


@dataclass
class FakeRpcError:
    """What a failed call exposes; only its serialization is under test here."""

    status_code: grpc.StatusCode
    message: str
    trailing: tuple[tuple[str, bytes], ...] = ()

    def code(self) -> grpc.StatusCode:
        return self.status_code

    def details(self) -> str:
        return self.message

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return self.trailing


def _round_trip(err: ChainclubError) -> ChainclubError:
    code, message, trailing = to_grpc_status(err)
    return from_rpc_error(FakeRpcError(code, message, trailing))  # type: ignore[arg-type]


def test_a_domain_error_survives_the_grpc_status_round_trip() -> None:
    err = ChainclubError("balance 12.00 < 30.00", reason="insufficient_balance", card_no="C1", short_by=1800)
    code, message, _ = to_grpc_status(err)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert message == "balance 12.00 < 30.00"
    back = _round_trip(err)
    assert (back.reason, back.detail, back.extra) == (
        "insufficient_balance",
        "balance 12.00 < 30.00",
        {"card_no": "C1", "short_by": "1800"},
    )


@pytest.mark.parametrize(
    "err",
    [InvalidArgument("phone is not a number", field="phone"), Unauthenticated(), OutOfScope("member M1")],
    ids=lambda e: e.reason,
)
def test_every_error_class_keeps_reason_detail_and_metadata(err: ChainclubError) -> None:
    back = _round_trip(err)
    assert (back.reason, back.detail, back.extra) == (err.reason, err.detail, err.extra)


def test_the_status_detail_is_a_google_rpc_status_with_error_info() -> None:
    code, _, trailing = to_grpc_status(InvalidArgument("bad", field="amount"))
    (key, value), *_ = trailing
    assert key == "grpc-status-details-bin"
    status = status_pb2.Status.FromString(value)
    assert status.code == code.value[0]
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "invalid_argument",
        "chainclub",
        {"field": "amount"},
    )


def test_a_status_without_our_detail_maps_by_code() -> None:
    assert from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND, "nope")).reason == "not_found"  # type: ignore[arg-type]
    down = from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused"))  # type: ignore[arg-type]
    assert down.reason == "unavailable"
    assert "connection refused" in down.detail
    assert from_rpc_error(FakeRpcError(grpc.StatusCode.DATA_LOSS, "?")).reason == "internal"  # type: ignore[arg-type]


def test_error_info_of_another_domain_is_not_trusted() -> None:
    info = error_details_pb2.ErrorInfo(reason="insufficient_balance", domain="example.com")
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=grpc.StatusCode.ABORTED.value[0], message="x", details=[detail])
    err = from_rpc_error(
        FakeRpcError(grpc.StatusCode.ABORTED, "x", (("grpc-status-details-bin", status.SerializeToString()),))  # type: ignore[arg-type]
    )
    assert err.reason == "conflict"


def test_out_of_scope_is_shown_as_not_found() -> None:
    status, body = problem_for(OutOfScope("member M1 is in HQ/WEST"))
    assert status == 404
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert "scope" not in body["type"]
    assert body["title"] == "Not found"


def test_problem_for_an_invalid_field_lists_it() -> None:
    status, body = problem_for(InvalidArgument("must be positive", field="amount"))
    assert status == 422
    assert body["code"] == "invalid_argument"
    assert body["type"] == "https://chainclub.dev/problems/invalid-argument"
    assert body["errors"] == [{"field": "amount", "message": "must be positive"}]


def test_an_unknown_reason_raises() -> None:
    with pytest.raises(ValueError, match="unknown error reason"):
        ChainclubError("x", reason="no_such_reason")


def test_every_reason_has_a_4xx_or_5xx_status() -> None:
    assert all(400 <= r.http_status < 600 for r in REASONS.values())
    assert all(r.grpc_code != grpc.StatusCode.OK for r in REASONS.values())
