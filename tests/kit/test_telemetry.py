"""Trace export settings: OTLP/HTTP batches to a real collector (an HTTP server in this
process) with the process's resource, the standard endpoint variable as the fallback,
console printing, and "none" as the default."""

from __future__ import annotations

import pydantic
import pytest

from kit.config import Settings
from kit.telemetry import tracer_provider, traces_endpoint
from tests.otlp import Collector, running_collector

pytestmark = pytest.mark.unit


@pytest.fixture
def collector():
    with running_collector() as c:
        yield c


def test_otlp_batches_spans_to_the_collector_with_the_process_resource(collector: Collector) -> None:
    settings = Settings(otel_exporter="otlp", otel_endpoint=collector.url, profile="test", version="9.8.7")
    provider = tracer_provider("wallet", settings)
    try:
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("capture payment") as outer:
            with tracer.start_as_current_span("lock account") as inner:
                pass
        # Batched: nothing leaves when a span ends (a simple processor would have sent it).
        assert collector.snapshot() == []
        assert provider.force_flush(5000)
    finally:
        provider.shutdown()

    spans = {s.name: s for s in collector.wait_for(lambda s: len(s) == 2, "two spans")}
    assert collector.rejected == []
    ids = outer.get_span_context(), inner.get_span_context()
    assert spans["capture payment"].span_id == format(ids[0].span_id, "016x")
    assert spans["capture payment"].parent_span_id == ""
    assert spans["lock account"].parent_span_id == spans["capture payment"].span_id
    assert (
        spans["lock account"].trace_id == spans["capture payment"].trace_id == format(ids[0].trace_id, "032x")
    )
    for span in spans.values():
        assert span.resource["service.name"] == "wallet"
        assert span.resource["service.version"] == "9.8.7"
        assert span.resource["deployment.environment"] == "test"


def test_otlp_without_an_endpoint_uses_the_standard_variable(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    provider = tracer_provider("notify", Settings(otel_exporter="otlp", otel_endpoint=None))
    try:
        with provider.get_tracer("test").start_as_current_span("send reminder"):
            pass
        provider.force_flush(5000)
    finally:
        provider.shutdown()
    (span,) = collector.wait_for(lambda s: len(s) == 1, "the span")
    assert (span.name, span.service) == ("send reminder", "notify")


def test_settings_read_the_exporter_and_endpoint_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHAINCLUB_OTEL_EXPORTER", raising=False)
    monkeypatch.delenv("CHAINCLUB_OTEL_ENDPOINT", raising=False)
    assert (Settings().otel_exporter, Settings().otel_endpoint) == ("none", None)
    monkeypatch.setenv("CHAINCLUB_OTEL_EXPORTER", "otlp")
    monkeypatch.setenv("CHAINCLUB_OTEL_ENDPOINT", "http://otel-collector:4318")
    s = Settings()
    assert (s.otel_exporter, s.otel_endpoint) == ("otlp", "http://otel-collector:4318")
    monkeypatch.setenv("CHAINCLUB_OTEL_EXPORTER", "jaeger")
    with pytest.raises(pydantic.ValidationError):
        Settings()


def test_the_endpoint_setting_is_the_collector_base_url() -> None:
    assert traces_endpoint("http://otel-collector:4318") == "http://otel-collector:4318/v1/traces"
    assert traces_endpoint("http://otel-collector:4318/") == "http://otel-collector:4318/v1/traces"
    assert traces_endpoint("https://c.example/otlp/v1/traces") == "https://c.example/otlp/v1/traces"
    assert traces_endpoint(None) is None


def test_console_prints_each_span_as_it_ends(capsys: pytest.CaptureFixture[str]) -> None:
    provider = tracer_provider("members", Settings(otel_exporter="console"))
    with provider.get_tracer("test").start_as_current_span("register member"):
        pass
    out = capsys.readouterr().out
    assert '"name": "register member"' in out
    assert '"service.name": "members"' in out


def test_none_exports_nothing_but_still_records_trace_ids(collector: Collector) -> None:
    provider = tracer_provider("loyalty", Settings(otel_exporter="none", otel_endpoint=collector.url))
    with provider.get_tracer("test").start_as_current_span("confirm") as span:
        assert span.get_span_context().is_valid  # log lines carry it
    provider.force_flush(5000)
    provider.shutdown()
    assert collector.snapshot() == []
