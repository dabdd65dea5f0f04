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
from kit.logs import request_id_var
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


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    """What every call carries: the token, the request id of the request being served (if
    any) and the current ``traceparent``/``tracestate``, so the called service continues the
    trace. Set per call rather than by a client interceptor, which grpc.aio runs as an extra
    task on every call."""
    md = [("authorization", f"Bearer {token}")]
    if (rid := request_id_var.get()) is not None:
        md.append(("x-request-id", rid))
    carrier: dict[str, str] = {}
    inject_into(carrier)
    md.extend(carrier.items())
    return tuple(md)


def channel(addr: str) -> grpc.aio.Channel:
    """A channel to ``addr``; give each call ``metadata(token)``."""
    return grpc.aio.insecure_channel(target(addr), options=OPTIONS)


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
