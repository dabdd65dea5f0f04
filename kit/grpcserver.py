"""grpc.aio server bootstrap: health, reflection, auth + error interceptor, graceful stop.

``create_server(addr)`` binds (``127.0.0.1:0`` in tests) and returns ``(server, port)``.
The interceptor verifies the forwarded token (``authorization: Bearer``), puts the
principal, request id and trace context in contextvars for the call, and turns
``ChainclubError`` into a status with an ErrorInfo detail; anything else is INTERNAL.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.trace import SpanKind
from prometheus_client import Counter

from kit.auth import KeySet, Principal
from kit.config import Settings
from kit.db import is_retryable
from kit.errors import ChainclubError, Unauthenticated, Unavailable, to_grpc_status
from kit.logs import request_id_var
from kit.telemetry import context_from, tracer

log = logging.getLogger("kit.grpc")

principal_var: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)

PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

# Unary calls served, by method and outcome (the error's reason, "ok" otherwise).
RPCS = Counter("chainclub_grpc_requests_total", "gRPC calls served", ["method", "outcome"])


def current_principal() -> Principal:
    """The caller of the RPC being served (the interceptor has verified it)."""
    principal = principal_var.get()
    if principal is None:
        raise Unauthenticated("no principal in this call")
    return principal


async def abort_with(context: grpc.aio.ServicerContext, err: ChainclubError) -> None:
    code, message, trailing = to_grpc_status(err)
    await context.abort(code, message, trailing_metadata=trailing)


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, keys: KeySet) -> None:
        self.keys = keys

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(PUBLIC_PREFIXES):
            return handler
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, details.method, metadata),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, details.method, metadata),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, details.method, metadata),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # bidi streaming: not used by chainclub

    def _enter(
        self, metadata: dict[str, str]
    ) -> list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]]:
        auth = metadata.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Unauthenticated("no bearer token in the call metadata")
        principal = self.keys.verify(auth[7:].strip())
        return [
            (principal_var, principal_var.set(principal)),
            (request_id_var, request_id_var.set(metadata.get("x-request-id"))),
        ]

    def _wrap_unary(self, inner, method: str, metadata: dict[str, str]):  # type: ignore[no-untyped-def]
        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with tracer("kit.grpc").start_as_current_span(
                method,
                context=context_from(metadata),
                kind=SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.method": method},
            ):
                tokens = []
                outcome = "ok"
                try:
                    tokens = self._enter(metadata)
                    return await inner(request, context)
                except ChainclubError as err:
                    outcome = err.reason
                    await abort_with(context, err)
                except grpc.aio.AbortError:
                    outcome = "aborted"
                    raise
                except Exception as exc:
                    outcome = "internal"
                    await _abort_unexpected(context, method, exc)
                finally:
                    RPCS.labels(method, outcome).inc()
                    for var, token in reversed(tokens):
                        var.reset(token)

        return behavior

    def _wrap_stream(self, inner, method: str, metadata: dict[str, str]):  # type: ignore[no-untyped-def]
        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
            tokens = []
            try:
                tokens = self._enter(metadata)
                async for item in inner(request, context):
                    yield item
            except ChainclubError as err:
                await abort_with(context, err)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort_unexpected(context, method, exc)
            finally:
                for var, token in reversed(tokens):
                    var.reset(token)

        return behavior


async def _abort_unexpected(context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
    """A database outage, deadlock or serialization failure is UNAVAILABLE ("try again": the
    work rolled back) rather than a bug; anything else is INTERNAL and logged as one."""
    if is_retryable(exc):
        log.warning("%s: %s: %s (answered unavailable)", method, type(exc).__name__, exc)
        await abort_with(context, Unavailable("the database could not finish the request; try again"))
    log.exception("unhandled error in %s", method)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


async def create_server(
    addr: str,
    keys: KeySet,
    registrations: Sequence[tuple[Callable[[Any, grpc.aio.Server], None], Any, str]],
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """A started server with the servicers, health and reflection. ``registrations`` are
    ``(add_XServicer_to_server, servicer, full_service_name)``."""
    server = grpc.aio.server(
        interceptors=[ServerInterceptor(keys)],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [health.SERVICE_NAME, reflection.SERVICE_NAME]
    for add, servicer, name in registrations:
        add(servicer, server)
        names.append(name)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(addr)
    if port == 0:
        raise RuntimeError(f"cannot bind gRPC server to {addr}")
    await server.start()
    for name in ["", *names[2:]]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port, health_servicer


class Identified(Protocol):
    """What ``service_info`` reads of a service's context: its name, settings, schema."""

    name: str
    settings: Settings
    schema_revision: str


def service_info(ctx: Identified) -> Any:
    """The ``ServiceInfo`` every service answers with (name, version, schema, caller)."""
    from chainclub.common.v1 import common_pb2

    caller = current_principal()
    return common_pb2.ServiceInfo(
        service=ctx.name,
        version=ctx.settings.version,
        schema_revision=ctx.schema_revision,
        caller_sub=caller.sub,
        caller_role=caller.role,
        caller_scope=caller.scope,
    )
