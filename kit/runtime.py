"""The life of one service process: settings, logging, database + migrations, NATS,
outbox relay, consumers, gRPC server, metrics — and a graceful SIGTERM.

A service's ``main.py`` is its composition root: it builds a ``ServiceSpec`` naming the
service's context factory, servicers, consumer routes and jobs, and calls ``serve``.
``Service.start`` builds the context once and hands that one object to every servicer,
consumer and job of the process, so per-process state (caches, client channels) exists once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc
from prometheus_client import Counter, start_http_server

from kit.auth import KeySet
from kit.bus import Bus, ConsumerSpec, StreamSpec
from kit.config import Settings
from kit.db import Database, ensure_database
from kit.grpcserver import create_server
from kit.inbox import Consumer, Route
from kit.logs import setup_logging
from kit.migrations import upgrade
from kit.outbox import Relay
from kit.schema import MessagingTables
from kit.telemetry import flush_tracing, setup_tracing

log = logging.getLogger("kit.runtime")

C = TypeVar("C")  # a service's context: what its use cases need

STARTS = Counter("chainclub_process_starts_total", "Process starts", ["service"])


@dataclass
class Runtime:
    """What a started process holds; the service's context factory builds its context from it."""

    name: str
    settings: Settings
    db: Database
    bus: Bus
    keys: KeySet
    tables: MessagingTables
    schema_revision: str = ""


@dataclass
class ConsumerDef(Generic[C]):
    spec: ConsumerSpec
    routes: Callable[[C], dict[str, Route]]  # the handlers, given the process's context


@dataclass
class ServiceSpec(Generic[C]):
    name: str
    tables: MessagingTables
    context: Callable[[Runtime], C]  # builds the context once per process, after migrations
    # (add_XServicer_to_server, factory(context) -> servicer, full service name)
    servicers: Sequence[tuple[Callable[[Any, grpc.aio.Server], None], Callable[[C], Any], str]]
    consumers: Sequence[ConsumerDef[C]] = field(default_factory=list)
    produces: bool = True  # has a stream of its own
    background: Sequence[Callable[[C], Any]] = field(default_factory=list)  # async jobs


class Service(Generic[C]):
    """A started service; ``stop()`` is the graceful path SIGTERM takes."""

    def __init__(self, spec: ServiceSpec[C], settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.runtime: Runtime | None = None
        self._context: C | None = None
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self._health = None
        self._relay: Relay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._consumers: list[Consumer] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._jobs: list[asyncio.Task[Any]] = []  # periodic jobs: cancelled at stop

    async def start(self, addr: str | None = None) -> int:
        s = self.settings
        name = self.spec.name
        url = s.database_url_for(name)
        await ensure_database(url)
        db = Database(url, pool_size=s.db_pool_size)
        revision = await upgrade(db, name)
        if not s.nats_url:
            raise RuntimeError("CHAINCLUB_NATS_URL is not set (start the suite with `chainclub dev`)")
        bus = Bus(
            s.nats_url,
            name=f"chainclub-{name}",
            replicas=s.nats_stream_replicas,
            sync_always=s.nats_sync_always,
        )
        bus.start()
        rt = Runtime(name, s, db, bus, KeySet.from_settings(s), self.spec.tables, revision)
        self.runtime = rt
        ctx = self._context = self.spec.context(rt)

        if self.spec.produces:
            self._tasks.append(asyncio.create_task(self._provision(bus, StreamSpec.for_service(name))))
            self._relay = Relay(
                db,
                self.spec.tables.outbox,
                bus,
                source=f"chainclub/{name}",
                batch=s.relay_batch,
                poll_seconds=s.relay_poll_seconds,
            )
            self._relay_task = asyncio.create_task(self._relay.run(), name=f"{name}-relay")
        for cdef in self.spec.consumers:
            consumer = Consumer(
                cdef.spec,
                cdef.routes(ctx),
                db=db,
                bus=bus,
                inbox=self.spec.tables.inbox,
                dead_letter=self.spec.tables.dead_letter,
            )
            self._consumers.append(consumer)
            self._tasks.append(asyncio.create_task(consumer.run(), name=cdef.spec.durable))
        for job in self.spec.background:
            self._jobs.append(asyncio.create_task(job(ctx)))

        registrations = [(add, factory(ctx), full) for add, factory, full in self.spec.servicers]
        self.server, self.port, self._health = await create_server(
            addr or s.service_addr(name), rt.keys, registrations
        )
        log.info("%s serving gRPC on port %d (schema %s)", name, self.port, revision)
        return self.port

    @property
    def context(self) -> C:
        """The one context of this process (tests use it to share the service's caches)."""
        if self._context is None:
            raise RuntimeError(f"{self.spec.name} is not started")
        return self._context

    async def _provision(self, bus: Bus, stream: StreamSpec) -> None:
        while True:
            await bus.wait_connected()
            try:
                await bus.ensure_stream(stream)
                return
            except Exception as exc:
                log.warning("provisioning stream %s failed (%s); retrying", stream.name, exc)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        """NOT_SERVING, let in-flight calls finish, drain consumers and relay, close."""
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self.server is not None:
            await self.server.stop(self.settings.grpc_grace_seconds)
        for job in self._jobs:
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        for consumer in self._consumers:
            consumer.stop()
        await _finish(self._tasks)
        # last: the relay publishes what the calls and handlers above committed, and marks it
        if self._relay is not None and self._relay_task is not None:
            self._relay.stop()
            await _finish([self._relay_task])
        if self.runtime is not None:
            await self.runtime.bus.close()
            await self.runtime.db.dispose()
        await flush_tracing()  # the last calls' and events' spans, before the process ends


async def _finish(tasks: Sequence[asyncio.Task[Any]], timeout: float = 10.0) -> None:
    """Wait for tasks told to stop; cancel those still running after ``timeout``."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def serve(spec: ServiceSpec[Any], settings: Settings) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully."""
    setup_logging(spec.name, settings.log_level, settings.log_json)
    setup_tracing(spec.name, settings)
    settings.check_production()
    STARTS.labels(spec.name).inc()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.host)
    service = Service(spec, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    await stop.wait()
    log.info("%s stopping", spec.name)
    await service.stop()
    log.info("%s stopped", spec.name)
