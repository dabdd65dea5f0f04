"""Members + notify services (real grpc.aio servers) on the session's PostgreSQL and NATS,
and a real aiosmtpd SMTP server for email."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc
import httpx
import pytest
from aiosmtpd.controller import Controller
from google.protobuf.message import Message

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from chainclub.notify.v1 import notify_pb2_grpc
from kit.auth import KeySet
from kit.bus import StreamSpec
from kit.config import Settings
from kit.dev import free_port
from kit.events import cloudevent_headers
from kit.runtime import Service
from kit.testing import Infra
from services.members.main import spec as members_spec
from services.notify import templates
from services.notify.context import NotifyContext
from services.notify.main import spec as notify_spec
from tests.members.conftest import random_phone
from tests.support import serving_gateway, settings_for


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class NotifyWorld:
    settings: Settings
    members: Service
    notify: Service[NotifyContext]
    mailbox: Mailbox
    channel: grpc.aio.Channel
    members_channel: grpc.aio.Channel
    _keys: KeySet = field(init=False)
    _streams: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._keys = KeySet.from_settings(self.settings)

    @property
    def ctx(self) -> NotifyContext:
        return self.notify.context

    @property
    def api(self) -> notify_pb2_grpc.NotifyServiceStub:
        return notify_pb2_grpc.NotifyServiceStub(self.channel)

    @property
    def members_api(self) -> members_pb2_grpc.MembersServiceStub:
        return members_pb2_grpc.MembersServiceStub(self.members_channel)

    def token(self, role: str, scope: str) -> str:
        claims = {"sub": f"{role}-{uuid.uuid4().hex[:6]}", "role": role, "scope": scope,
                  "org_unit": scope.rsplit("/", 1)[-1]}  # fmt: skip
        return self._keys.sign(claims, 900)

    @staticmethod
    def md(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)

    async def register(
        self, store: str, *, sms: bool, email: bool, wechat: bool, birthday: str = ""
    ) -> members_pb2.Member:
        clerk = self.token("clerk", store)
        return await self.members_api.RegisterMember(
            members_pb2.RegisterMemberRequest(
                name="通知会员", phone=random_phone(), email=f"m{uuid.uuid4().hex[:8]}@example.com",
                home_store_path=store, has_consents=True, birthday=birthday,
                consents=members_pb2.Consents(sms=sms, email=email, wechat=wechat),
            ),
            metadata=self.md(clerk), timeout=10,
        )  # fmt: skip

    async def publish(self, subject: str, message: Message, event_id: str, *, msg_id: str = "") -> None:
        """Publish an event as its producer's relay would, on the world's real NATS (the
        producer's stream is provisioned first). ``msg_id`` other than the event id gets past
        the broker's duplicate window: a redelivery the inbox has to absorb."""
        assert self.notify.runtime is not None
        bus = self.notify.runtime.bus
        service = subject.split(".", 1)[0]
        if service not in self._streams:
            await bus.ensure_stream(StreamSpec.for_service(service))
            self._streams.add(service)
        headers = cloudevent_headers(
            event_id=event_id, subject=subject, type_=message.DESCRIPTOR.full_name, source=f"chainclub/{service}",
            time=datetime.now(UTC), traceparent=None,
        )  # fmt: skip
        headers["Nats-Msg-Id"] = msg_id or event_id
        await bus.js.publish(subject, message.SerializeToString(), headers=headers, timeout=5)


CHAIN_TZ = ZoneInfo("Asia/Shanghai")  # the chain's time zone in the notify world (checked there)


def chain_time(hour: int, *, days: int = 1) -> datetime:
    """``hour``:00 on the chain-local day ``days`` after today, as a ``now`` for ``send_due``.
    Consumers make new deliveries due at the real now and the sender claims only those due by
    its ``now``: an instant from tomorrow on lies past everything the session enqueues, on
    whatever date it runs, while its local hour still decides quiet hours."""
    today = datetime.now(UTC).astimezone(CHAIN_TZ).date()
    return datetime.combine(today + timedelta(days=days), time(hour), CHAIN_TZ)


def random_store() -> str:
    return f"HQ/R{uuid.uuid4().hex[:6].upper()}/S{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="session")
async def notify_world(infra: Infra, tmp_path_factory) -> AsyncIterator[NotifyWorld]:  # type: ignore[no-untyped-def]
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    settings = settings_for(
        infra, "n", run_dir=tmp_path_factory.mktemp("notify-run"), notify_email_channel="smtp",
        notify_smtp_port=smtp_port, notify_jobs_interval_seconds=3600, notify_retry_base_seconds=60,
        notify_max_attempts=3, notify_alert_emails=["hq-risk@example.com"],
    )  # fmt: skip
    assert settings.chain_timezone == CHAIN_TZ.key, settings.chain_timezone
    members = Service(members_spec(), settings)
    await members.start(settings.members_addr)
    notify = Service(notify_spec(), settings)
    await notify.start(settings.notify_addr)
    channel = grpc.aio.insecure_channel(settings.notify_addr)
    members_channel = grpc.aio.insecure_channel(settings.members_addr)
    try:
        yield NotifyWorld(settings, members, notify, mailbox, channel, members_channel)
    finally:
        await channel.close()
        await members_channel.close()
        await notify.stop()
        await members.stop()
        controller.stop()


@dataclass
class NotifyGateway:
    """The real gateway in front of the notify world (same settings, so the same token keys)."""

    world: NotifyWorld
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, token: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        headers = {**kw.pop("headers", {}), "Authorization": f"Bearer {token}"}
        return await self.http.request(method, path, headers=headers, **kw)

    async def store(self) -> tuple[str, str]:
        """A new region and store in the gateway's org tree: (store code, store path)."""
        admin = self.world.token("hq_admin", "HQ")
        parent, path = "HQ", "HQ"
        for kind in ("region", "store"):
            code = f"{kind[0].upper()}{uuid.uuid4().hex[:10].upper()}"
            r = await self.call("POST", "/api/v1/org-units", admin,
                                json={"code": code, "name": code, "kind": kind, "parent": parent})  # fmt: skip
            assert r.status_code == 201, r.text
            parent, path = code, f"{path}/{code}"
        return parent, path


@pytest.fixture(scope="session")
async def notify_gateway(notify_world: NotifyWorld) -> AsyncIterator[NotifyGateway]:
    async with (
        serving_gateway(notify_world.settings) as url,
        httpx.AsyncClient(base_url=url, timeout=20) as http,
    ):
        yield NotifyGateway(notify_world, http)


@pytest.fixture
async def stalled_rendering(monkeypatch):  # type: ignore[no-untyped-def]
    """Rendering that does not finish until the test ends, and a short time limit: what the
    sandbox's limits should make impossible, to see the time limit hold on its own."""
    release = threading.Event()

    def stalled(text: str, variables: dict) -> str:  # type: ignore[type-arg]
        release.wait(30)
        return text

    monkeypatch.setattr(templates, "render_now", stalled)
    monkeypatch.setattr(templates, "RENDER_SECONDS", 0.3)
    yield
    release.set()
