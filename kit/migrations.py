"""Alembic per service, applied at start under an advisory lock (replicas may race).

Each service has ``services/<name>/migrations/`` with an ``env.py`` that calls ``run_env``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from kit.db import Database


def migrations_dir(service: str) -> Path:
    spec = importlib.util.find_spec(f"services.{service}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"no such service package: services.{service}")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


def alembic_config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("version_table", "alembic_version")
    return cfg


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``env.py``: run on the connection we were handed."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `chainclub migrate`, not the alembic CLI")
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _lock_key(service: str) -> int:
    return int.from_bytes(f"mig:{service}".encode()[:8].ljust(8, b"\0"), "big", signed=True)


async def upgrade(db: Database, service: str, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; returns the revision now current."""
    cfg = alembic_config(service)

    def _run(conn: Connection) -> str:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(service)})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return MigrationContext.configure(conn).get_current_revision() or ""

    async with db.engine.begin() as conn:
        return await conn.run_sync(_run)


async def current_revision(db: Database) -> str:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision() or "")


def head_revision(service: str) -> str:
    return ScriptDirectory.from_config(alembic_config(service)).get_current_head() or ""


async def autogenerate(db: Database, service: str, message: str) -> None:
    """Write a new revision from the difference between models and the database."""
    cfg = alembic_config(service)

    def _run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)
