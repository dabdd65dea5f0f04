"""OpenTelemetry: one tracer provider per process and W3C ``traceparent`` helpers that carry
a trace from HTTP to gRPC, into the outbox row, over NATS and into the consumer. (The
gateway's HTTP spans are FastAPI's own: it traces requests with the global provider.)

``CHAINCLUB_OTEL_EXPORTER`` picks where spans go: ``none`` (kept in-process: log lines still
carry ``trace_id``), ``console`` (printed as they end) or ``otlp`` (batched to a collector
over OTLP/HTTP protobuf at ``CHAINCLUB_OTEL_ENDPOINT``, else the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` / exporter default). A batching process holds spans for a
few seconds, so the graceful stop paths call ``flush_tracing``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from kit.config import Settings

log = logging.getLogger("kit.telemetry")

TRACES_PATH = "/v1/traces"
_provider: TracerProvider | None = None


def traces_endpoint(base: str | None) -> str | None:
    """The OTLP/HTTP traces URL of a collector's base URL (``http://otel-collector:4318`` ->
    ``.../v1/traces``, as the exporter treats ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    if not base:
        return None
    base = base.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def tracer_provider(service: str, settings: Settings) -> TracerProvider:
    """A provider for process ``service`` exporting as ``settings`` say (not yet global)."""
    resource = Resource.create(
        {
            "service.name": service,
            "service.namespace": "chainclub",
            "service.version": settings.version,
            "deployment.environment": settings.profile,
        }
    )
    # Flushed by the graceful stop paths (``flush_tracing``) while the network is still up,
    # rather than by an exit hook after the event loop and its pools are gone.
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    if settings.otel_exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    elif settings.otel_exporter == "otlp":
        # Imported here: a process that does not export never loads the exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = OTLPSpanExporter(endpoint=traces_endpoint(settings.otel_endpoint))
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def setup_tracing(service: str, settings: Settings | None = None) -> None:
    """Install this process's provider (once; later calls keep the first)."""
    global _provider
    if _provider is not None:
        return
    _provider = tracer_provider(service, settings or Settings(otel_exporter="none"))
    trace.set_tracer_provider(_provider)


async def flush_tracing(timeout: float = 5.0) -> bool:
    """Export the spans a batch processor still holds (graceful stop). The export blocks on
    HTTP, so it runs in a thread; a collector that does not answer costs at most ``timeout``."""
    if _provider is None:
        return True
    try:
        return await asyncio.wait_for(asyncio.to_thread(_provider.force_flush, int(timeout * 1000)), timeout)
    except TimeoutError:
        log.warning("spans not flushed within %.1fs; the collector may be unreachable", timeout)
        return False


@functools.cache
def tracer(name: str) -> trace.Tracer:
    """The tracer of ``name``, made once (every RPC and event asks for it). One got before
    ``setup_tracing`` is a proxy that turns to the installed provider's once there is one."""
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from(carrier: Mapping[str, str] | None) -> context.Context:
    """The remote context in ``carrier`` (headers or metadata with a ``traceparent``)."""
    return propagate.extract(dict(carrier or {}))


def inject_into(carrier: MutableMapping[str, str]) -> None:
    """Add the current ``traceparent`` (and ``tracestate``) to ``carrier``."""
    propagate.inject(carrier)
