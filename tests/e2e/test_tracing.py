"""One trace across the processes of the running suite, exported over OTLP/HTTP to a real
collector (an HTTP server in the test process): the gateway's HTTP span, the service's gRPC
span, a service calling another, and the consumers of the event the outbox carried over
NATS. The batch processors wait ten minutes between exports here, so every span the
collector has was flushed by the processes' graceful stop."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import nats
import pytest

from kit.testing import Infra
from tests.otlp import ExportedSpan, running_collector
from tests.support import private_nats_url, start_suite

pytestmark = pytest.mark.e2e

REGISTER = "/chainclub.members.v1.MembersService/RegisterMember"
CHANGE_CARD_STATUS = "/chainclub.members.v1.MembersService/ChangeCardStatus"
TOP_UP = "/chainclub.wallet.v1.WalletService/TopUp"
SET_CARD_STATUS = "/chainclub.wallet.v1.WalletService/SetCardStatus"
CONSUMERS = {"loyalty": "loyalty-members", "notify": "notify-members"}


def traceparent() -> tuple[str, str, str]:
    """A caller's (a POS terminal's) own trace: (header, trace id, span id)."""
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def consumers_caught_up(nats_url: str, timeout: float = 30.0) -> None:
    """Wait until loyalty and notify acknowledged every MEMBERS event they take (their spans
    ended): nothing left to deliver to them, nothing delivered unacknowledged."""

    async def check() -> None:
        nc = await nats.connect(nats_url, connect_timeout=5)
        try:
            js = nc.jetstream(timeout=5)
            deadline = time.monotonic() + timeout
            seen: dict[str, object] = {}
            while time.monotonic() < deadline:
                last = (await js.stream_info("MEMBERS")).state.last_seq
                infos = {s: await js.consumer_info("MEMBERS", d) for s, d in CONSUMERS.items()}
                seen = {
                    s: (i.ack_floor.stream_seq, last, i.num_pending, i.num_ack_pending)
                    for s, i in infos.items()
                }
                if last and all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos.values()):
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(
                f"consumers not caught up in {timeout}s (ack floor, last, pending, unacked): {seen}"
            )
        finally:
            await nc.close()

    asyncio.run(check())


def one(spans: list[ExportedSpan], service: str, name: str, trace_id: str) -> ExportedSpan:
    found = [s for s in spans if (s.service, s.name, s.trace_id) == (service, name, trace_id)]
    assert len(found) == 1, f"{service} {name!r} in trace {trace_id}: {found}\nall: {spans}"
    return found[0]


def parent_of(spans: list[ExportedSpan], span: ExportedSpan, service: str) -> ExportedSpan:
    (parent,) = [s for s in spans if s.span_id == span.parent_span_id]
    assert (parent.service, parent.trace_id) == (service, span.trace_id), parent
    return parent


def server_span_of(spans: list[ExportedSpan], span: ExportedSpan) -> ExportedSpan:
    """The HTTP server span ``span`` (a gateway span) descends from, within the gateway."""
    by_id = {s.span_id: s for s in spans if s.service == "gateway"}
    while span.kind_name != "SPAN_KIND_SERVER":
        assert span.parent_span_id in by_id, f"{span} has no gateway parent"
        span = by_id[span.parent_span_id]
    return span


def test_a_request_is_one_trace_from_the_gateway_through_services_and_events(
    infra: Infra, tmp_path: Path
) -> None:
    nats_url = private_nats_url(infra)
    with running_collector() as collector:
        suite = start_suite(
            tmp_path / "run",
            {
                "CHAINCLUB_DATABASE_URL": infra.database_url,
                "CHAINCLUB_NATS_URL": nats_url,
                "CHAINCLUB_DB_PREFIX": f"tr{uuid.uuid4().hex[:6]}_",
                "CHAINCLUB_VERSION": "7.7.7-e2e",
                "CHAINCLUB_OTEL_EXPORTER": "otlp",
                "CHAINCLUB_OTEL_ENDPOINT": collector.url,
                "OTEL_BSP_SCHEDULE_DELAY": "600000",  # only a flush sends
            },
        )
        try:
            suite.wait_ready()
            with httpx.Client(base_url=suite.url, timeout=15) as http:

                def call(method: str, path: str, token: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
                    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
                    return http.request(method, path, headers=headers, **kw)

                def login(username: str, password: str) -> str:
                    r = http.post(
                        "/api/v1/auth/token",
                        data={"grant_type": "password", "username": username, "password": password},
                    )
                    assert r.status_code == 200, r.text
                    return r.json()["access_token"]

                admin = login("admin", "admin")
                region, store = f"R{uuid.uuid4().hex[:8]}".upper(), f"S{uuid.uuid4().hex[:8]}".upper()
                for code, kind, parent in ((region, "region", "HQ"), (store, "store", region)):
                    r = call("POST", "/api/v1/org-units", admin,
                             json={"code": code, "name": code, "kind": kind, "parent": parent})  # fmt: skip
                    assert r.status_code == 201, r.text
                clerk_name = f"clerk_{uuid.uuid4().hex[:8]}"
                r = call("POST", "/api/v1/users", admin,
                         json={"username": clerk_name, "password": "s3cret-pass", "role": "clerk",
                               "org_unit": store})  # fmt: skip
                assert r.status_code == 201, r.text
                clerk = login(clerk_name, "s3cret-pass")

                register_tp, register_trace, pos_span = traceparent()
                phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
                r = call("POST", "/api/v1/members", clerk, json={"name": "追踪", "phone": phone},
                         headers={"traceparent": register_tp})  # fmt: skip
                assert r.status_code == 201, r.text
                card_no = r.json()["card"]["card_no"]

                top_up_tp, top_up_trace, _ = traceparent()
                r = call("POST", f"/api/v1/cards/{card_no}/top-ups", clerk, json={"amount": 10_000, "channel": "cash"},
                         headers={"traceparent": top_up_tp, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
                assert r.status_code == 201, r.text

                loss_tp, loss_trace, _ = traceparent()
                r = call(
                    "POST", f"/api/v1/cards/{card_no}/report-loss", clerk, headers={"traceparent": loss_tp}
                )
                assert r.status_code == 200, r.text
            consumers_caught_up(nats_url)
            # Nothing was exported yet: the processors only send when the processes stop.
            assert [s for s in collector.snapshot() if s.trace_id == register_trace] == []
        finally:
            code = suite.stop()
        assert code == 0, suite.output.read_text()

        spans = collector.snapshot()
        assert collector.rejected == []

    # HTTP -> gRPC -> outbox -> NATS -> both consumers, one trace, each span the child of the last.
    gateway = one(spans, "gateway", "POST /api/v1/members", register_trace)
    assert (gateway.kind_name, gateway.parent_span_id) == ("SPAN_KIND_SERVER", pos_span)
    assert gateway.attributes["http.response.status_code"] == 201
    register = one(spans, "members", REGISTER, register_trace)
    assert register.kind_name == "SPAN_KIND_SERVER"
    assert server_span_of(spans, parent_of(spans, register, "gateway")) == gateway
    for service in CONSUMERS:
        consumed = one(spans, service, "consume members.member.registered", register_trace)
        assert (consumed.kind_name, consumed.parent_span_id) == ("SPAN_KIND_CONSUMER", register.span_id)

    # A top-up is the gateway and wallet alone (wallet reads its own copy of the card).
    gateway = one(spans, "gateway", "POST /api/v1/cards/{card_no}/top-ups", top_up_trace)
    top_up = one(spans, "wallet", TOP_UP, top_up_trace)
    assert server_span_of(spans, parent_of(spans, top_up, "gateway")) == gateway
    assert [s.name for s in spans if s.trace_id == top_up_trace and s.service == "members"] == []

    # A service calling another continues the caller's trace: members tells wallet of a block.
    gateway = one(spans, "gateway", "POST /api/v1/cards/{card_no}/report-loss", loss_trace)
    change = one(spans, "members", CHANGE_CARD_STATUS, loss_trace)
    assert server_span_of(spans, parent_of(spans, change, "gateway")) == gateway
    told = one(spans, "wallet", SET_CARD_STATUS, loss_trace)
    assert told.parent_span_id == change.span_id

    for span in spans:
        assert span.resource["service.version"] == "7.7.7-e2e"
        assert span.resource["deployment.environment"] == "dev"
    assert {s.service for s in spans} >= {"gateway", "members", "wallet", "loyalty", "notify"}
