"""OpenTelemetry: one tracer provider per process and W3C ``traceparent`` helpers that carry
a trace from HTTP to gRPC, into the outbox row, over NATS and into the consumer."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

_configured = False


def setup_tracing(service: str, exporter: str = "none") -> None:
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"chainclub-{service}"}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from(carrier: Mapping[str, str] | None) -> context.Context:
    """The remote context in ``carrier`` (headers or metadata with a ``traceparent``)."""
    return propagate.extract(dict(carrier or {}))
