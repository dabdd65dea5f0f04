"""NATS JetStream: one connection per process, stream and consumer provisioning from code.

The connection is made in the background and retried forever, so a process starts (and
keeps its outbox filling) while NATS is down; the relay publishes once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

log = logging.getLogger("kit.bus")

DUPLICATE_WINDOW = 120.0  # seconds; relay retries within it are absorbed by Nats-Msg-Id


@dataclass(frozen=True)
class StreamSpec:
    """One stream per producing service: ``MEMBERS`` holds ``members.>``."""

    name: str
    subjects: tuple[str, ...]
    max_age_days: int = 30

    @classmethod
    def for_service(cls, service: str) -> StreamSpec:
        return cls(name=service.upper(), subjects=(f"{service}.>",))


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer with explicit ack and bounded redelivery."""

    durable: str
    stream: str
    subjects: tuple[str, ...]
    max_deliver: int = 8
    backoff: tuple[float, ...] = field(default=(1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0))
    max_ack_pending: int = 1000
    ack_wait: float = 60.0  # a handler slower than this is redelivered (the inbox makes that safe)

    def config(self) -> js_api.ConsumerConfig:
        return js_api.ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            deliver_policy=js_api.DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            # Redelivery delays come from our explicit nak(delay=backoff[n]); a broker-side
            # backoff would also replace ack_wait with its first (short) step.
            ack_wait=self.ack_wait,
            filter_subjects=list(self.subjects),
            max_ack_pending=self.max_ack_pending,
        )

    def delay_after(self, delivered: int) -> float:
        return self.backoff[min(max(delivered - 1, 0), len(self.backoff) - 1)]


class Bus:
    def __init__(self, url: str, *, name: str, replicas: int = 1, sync_always: bool = False) -> None:
        self.url = url
        self.name = name
        self.replicas = replicas
        self.sync_always = sync_always
        self.nc: Client | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def js(self) -> JetStreamContext:
        if self.nc is None:
            raise RuntimeError("not connected to NATS yet")
        return self.nc.jetstream(timeout=5)

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def start(self) -> None:
        """Connect in the background, retrying until it works."""
        if self._task is None:
            self._task = asyncio.create_task(self._connect_forever(), name=f"nats-connect-{self.name}")

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def _connect_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                self.nc = await nats.connect(
                    self.url,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    ping_interval=5,
                    max_outstanding_pings=3,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                self._connected.set()
                log.info("connected to NATS at %s", self.url)
                return
            except Exception as exc:  # any failure to connect is retried, not fatal
                log.warning("NATS not reachable at %s (%s); retrying", self.url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("NATS error: %s", exc)

    async def _on_disconnected(self) -> None:
        log.warning("disconnected from NATS")

    async def _on_reconnected(self) -> None:
        log.info("reconnected to NATS")

    async def ensure_stream(self, spec: StreamSpec) -> None:
        """Create the stream, or bring its configuration back to the code's (drift is logged)."""
        want = js_api.StreamConfig(
            name=spec.name,
            subjects=list(spec.subjects),
            retention=js_api.RetentionPolicy.LIMITS,
            storage=js_api.StorageType.FILE,
            num_replicas=self.replicas,
            duplicate_window=DUPLICATE_WINDOW,
            max_age=spec.max_age_days * 86400.0,
            discard=js_api.DiscardPolicy.OLD,
        )
        try:
            info = await self.js.stream_info(spec.name)
        except NotFoundError:
            await self.js.add_stream(want)
            log.info("stream %s created for %s", spec.name, ",".join(spec.subjects))
            return
        have = info.config
        drift = {
            key: (getattr(have, key), getattr(want, key))
            for key in ("subjects", "num_replicas", "duplicate_window", "max_age")
            if _normal(getattr(have, key)) != _normal(getattr(want, key))
        }
        if have.storage != want.storage or have.retention != want.retention:
            raise RuntimeError(
                f"stream {spec.name} has storage/retention {have.storage}/{have.retention}; "
                "these cannot be changed in place: migrate the stream by hand"
            )
        if drift:
            log.warning("stream %s config drift %s: updating to the code's", spec.name, drift)
            await self.js.update_stream(want)

    async def ensure_consumer(self, spec: ConsumerSpec) -> None:
        want = spec.config()
        try:
            info = await self.js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            await self.js.add_consumer(spec.stream, want)
            log.info("consumer %s on %s created", spec.durable, spec.stream)
            return
        have = info.config
        drift = {
            key: (getattr(have, key), getattr(want, key))
            for key in ("filter_subjects", "max_deliver", "ack_wait", "max_ack_pending")
            if _normal(getattr(have, key)) != _normal(getattr(want, key))
        }
        if drift:
            log.warning("consumer %s config drift %s: updating to the code's", spec.durable, drift)
            await self.js.add_consumer(spec.stream, want)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=5)
            except Exception:
                await self.nc.close()


def _normal(value: object) -> object:
    if isinstance(value, list | tuple):
        return sorted(_normal(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, float):
        return round(value, 3)
    return value
