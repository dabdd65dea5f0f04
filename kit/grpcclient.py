"""Calling another service: one channel per target, spread over every replica, and the
short-lived token a service uses when it acts on its own (jobs, consumers, schedules).

A target like ``members:50051`` is resolved through DNS (``dns:///``) and the calls go
round-robin over every address it resolves to: behind a Kubernetes headless Service that is
every ready replica, so one busy client does not pin all its calls to one pod (a ClusterIP
balances connections, and a channel keeps one). An address already naming a scheme is used
as it is.
"""

from __future__ import annotations

import json
import time
from typing import Any

import grpc

from kit.auth import KeySet
from kit.telemetry import inject_into

MAX_MESSAGE = 16 * 1024 * 1024

OPTIONS: list[tuple[str, Any]] = [
    ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.enable_retries", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
]


def target(addr: str) -> str:
    """``host:port`` as a DNS target; anything with a scheme (``dns:``, ``unix:``,
    ``ipv4:``...) unchanged."""
    if ":///" in addr or addr.split(":", 1)[0] in ("dns", "unix", "unix-abstract", "ipv4", "ipv6", "vsock"):
        return addr
    return f"dns:///{addr}"


class TraceContext(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """Every call carries the caller's ``traceparent`` (unless the caller set one), so a
    service called by another service continues the trace."""

    @staticmethod
    def _details(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if "traceparent" not in metadata:
            carrier: dict[str, str] = {}
            inject_into(carrier)
            for key, value in carrier.items():
                metadata.add(key, value)
        return details._replace(metadata=metadata)

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request)


def channel(addr: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target(addr), options=OPTIONS, interceptors=[TraceContext()])


class ServiceToken:
    """A service's own token (role ``service``), signed when first needed and again a minute
    before it runs out."""

    def __init__(self, keys: KeySet, claims: dict[str, Any], ttl: int = 300) -> None:
        self.keys = keys
        self.claims = claims
        self.ttl = ttl
        self._token = ""
        self._until = 0.0

    def get(self) -> str:
        if time.monotonic() >= self._until:
            self._token = self.keys.sign(self.claims, self.ttl)
            self._until = time.monotonic() + self.ttl - 60
        return self._token

    def metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.get()}")]
