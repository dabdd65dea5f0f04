"""Composition root of the gateway: `chainclub serve gateway` (FastAPI under uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from kit.auth import KeySet
from kit.config import Settings
from kit.db import Database, ensure_database
from kit.logs import setup_logging
from kit.migrations import upgrade
from kit.telemetry import flush_tracing, setup_tracing
from services.gateway import checkout_resume, problems, web
from services.gateway.catalog_cache import CatalogCache
from services.gateway.clients import ServiceClients
from services.gateway.domain import ROOT
from services.gateway.middleware import RequestContext
from services.gateway.models import org_units, users
from services.gateway.routes import (
    analytics,
    audit,
    auth,
    cards,
    catalog,
    checkout,
    docs,
    health,
    loyalty,
    member_io,
    members,
    notify,
    org,
    reports,
    rewards,
    wallet,
)
from services.gateway.routes import users as users_routes
from services.gateway.state import GatewayState

log = logging.getLogger("gateway")


async def bootstrap(db: Database, hasher: PasswordHasher, admin_password: str) -> None:
    """The root ``HQ`` and the bootstrap ``admin`` exist (an existing admin keeps its password)."""
    async with db.transaction() as session:
        await session.execute(
            insert(org_units)
            .values(code=ROOT, name="Headquarters", kind="hq", parent=None, path=ROOT)
            .on_conflict_do_nothing()
        )
        exists = (await session.execute(select(users.c.username).where(users.c.username == "admin"))).first()
        if exists is None:
            password_hash = await asyncio.to_thread(hasher.hash, admin_password)
            await session.execute(
                insert(users)
                .values(
                    username="admin",
                    password_hash=password_hash,
                    role="hq_admin",
                    org_unit=ROOT,
                    created_by="bootstrap",
                )
                .on_conflict_do_nothing()
            )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.check_production(signs_tokens=True)
        url = settings.database_url_for("gateway")
        await ensure_database(url)
        db = Database(url, pool_size=settings.db_pool_size)
        await upgrade(db, "gateway")
        hasher = PasswordHasher()
        await bootstrap(db, hasher, settings.effective_admin_password())
        clients = ServiceClients(settings)
        catalog = CatalogCache(db)
        app.state.gateway = GatewayState(
            settings, db, KeySet.from_settings(settings), clients, hasher, catalog
        )
        # Checkouts a crashed gateway left unfinished: completed or released (docs/design.md §6).
        resumer = asyncio.create_task(checkout_resume.resumer(app.state.gateway), name="checkout-resumer")
        listener = asyncio.create_task(catalog.run(), name="catalog-listener")
        try:
            yield
        finally:
            for task in (resumer, listener):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await clients.close()
            await db.dispose()
            await flush_tracing()

    app = FastAPI(
        title="chainclub gateway",
        version=settings.version,
        description="The REST API of chainclub (see docs/api.md). Money is integer fen.",
        lifespan=lifespan,
        # /docs is Swagger UI from local files (routes/docs.py); no CDN, no ReDoc
        docs_url=None,
        redoc_url=None,
        # FastAPI's own request span carries the trace into the services; its per-request
        # dependency/endpoint/serialization spans are left out (work on every request, no
        # link the trace needs). Metrics are ours (/metrics), not FastAPI's OTel meters.
        telemetry={"operation_spans": False, "metrics": False},
    )
    problems.install(app)
    # Routes are matched in order, one by one: the counter's checkout first (it serves every
    # sale); member_io before members: its /imports and /export.xlsx are not member numbers.
    for module in (
        checkout,
        docs,
        health,
        auth,
        org,
        users_routes,
        catalog,
        audit,
        member_io,
        members,
        cards,
        wallet,
        loyalty,
        analytics,
        reports,
        rewards,
        notify,
    ):
        app.include_router(module.router)
    web.install(app)
    app.add_middleware(RequestContext)
    return app


def server(settings: Settings, port: int | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.gateway_port if port is None else port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=15,
    )
    return uvicorn.Server(config)


async def main(settings: Settings) -> None:
    setup_logging("gateway", settings.log_level, settings.log_json)
    setup_tracing("gateway", settings)
    await server(settings).serve()
