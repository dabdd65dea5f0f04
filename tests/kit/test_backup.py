"""`chainclub backup` / `chainclub restore` against real PostgreSQL: the five service databases
migrated by their real Alembic scripts, with rows, dumped and restored into other prefixes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import asyncpg
import pytest

from kit.backup import BackupError, backup, restore, sha256_of
from kit.config import DATABASES, Settings
from kit.db import Database, asyncpg_dsn, ensure_database, with_database
from kit.migrations import head_revision, upgrade
from kit.testing import Infra

pytestmark = pytest.mark.integration

CHAINCLUB = Path(sys.executable).parent / "chainclub"


def settings_on(infra: Infra, prefix: str | None = None) -> Settings:
    return Settings(
        profile="test", database_url=infra.database_url, db_prefix=prefix or f"bk{uuid.uuid4().hex[:8]}_"
    )


async def migrate_all(settings: Settings) -> None:
    for name in DATABASES:
        url = settings.database_url_for(name)
        await ensure_database(url)
        db = Database(url, pool_size=1)
        try:
            await upgrade(db, name)
        finally:
            await db.dispose()


async def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def execute(url: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def add_rows(settings: Settings) -> None:
    """A table of the test's own in every database, and events in the real outbox tables."""
    for name in DATABASES:
        url = settings.database_url_for(name)
        await execute(
            url,
            "CREATE TABLE backup_probe (id bigserial PRIMARY KEY, note text, amount bigint, "
            "payload bytea, at timestamptz)",
        )
        for i in range(3):
            await execute(
                url,
                "INSERT INTO backup_probe (note, amount, payload, at) VALUES ($1, $2, $3, $4)",
                f"{name} 会员 {i}",
                10_000 * i + 1,
                bytes(range(i, i + 40)),
                datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(days=i),
            )
        if (await fetch(url, "SELECT to_regclass('public.outbox') AS t"))[0]["t"] is not None:
            await execute(
                url,
                "INSERT INTO outbox (event_id, subject, type, payload, org_path) VALUES ($1, $2, $3, $4, $5)",
                uuid.uuid4(),
                f"{name}.probe.created",
                "chainclub.test.Probe",
                b"\x00\x01payload",
                "HQ/EAST/SH001",
            )


async def snapshot(settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Every row of every user table, and every sequence's position, per database."""
    result: dict[str, dict[str, list[str]]] = {}
    for name in DATABASES:
        url = settings.database_url_for(name)
        tables = await fetch(
            url,
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
        )
        content: dict[str, list[str]] = {}
        for t in tables:
            rows = await fetch(url, f'SELECT to_jsonb(t)::text AS j FROM "{t[0]}"."{t[1]}" t')
            content[f"{t[0]}.{t[1]}"] = sorted(r["j"] for r in rows)
        for s in await fetch(url, "SELECT schemaname, sequencename, last_value FROM pg_sequences"):
            content[f"sequence {s[0]}.{s[1]}"] = [str(s[2])]
        result[name] = content
    return result


async def databases_named(infra: Infra, prefix: str) -> list[str]:
    rows = await fetch(
        with_database(infra.database_url, "postgres"),
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1",
        prefix,
    )
    return [r[0] for r in rows]


async def drop_prefix(infra: Infra, prefix: str) -> None:
    admin = with_database(infra.database_url, "postgres")
    for name in await databases_named(infra, prefix):
        await execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
async def source(infra: Infra) -> AsyncIterator[Settings]:
    """An installation with every service's real schema and rows in each database."""
    settings = settings_on(infra)
    await migrate_all(settings)
    await add_rows(settings)
    try:
        yield settings
    finally:
        await drop_prefix(infra, settings.db_prefix)


@pytest.fixture(scope="module")
async def backup_dir(source: Settings) -> AsyncIterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="chainclub-backup-"))
    await backup(source, directory / "b", say=quiet)
    try:
        yield directory / "b"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def target(infra: Infra) -> AsyncIterator[Settings]:
    """A fresh, empty installation (no databases yet) on the same server."""
    settings = settings_on(infra)
    try:
        yield settings
    finally:
        await drop_prefix(infra, settings.db_prefix)


@pytest.fixture
def copy_of(backup_dir: Path, tmp_path: Path) -> Path:
    """The module's backup, copied so a test may damage it."""
    return Path(shutil.copytree(backup_dir, tmp_path / "copy"))


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHAINCLUB), *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def cli_env(settings: Settings, run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINCLUB_")}
    env.update(
        CHAINCLUB_PROFILE="test",
        CHAINCLUB_DATABASE_URL=settings.database_url or "",
        CHAINCLUB_DB_PREFIX=settings.db_prefix,
        CHAINCLUB_RUN_DIR=str(run_dir),
    )
    return env


async def test_restore_into_a_fresh_installation_brings_every_row_back(
    source: Settings, backup_dir: Path, target: Settings
) -> None:
    await restore(target, backup_dir, say=quiet)

    restored, original = await snapshot(target), await snapshot(source)
    assert restored == original
    assert len(restored["wallet"]["public.backup_probe"]) == 3
    assert any("wallet.probe.created" in row for row in restored["wallet"]["public.outbox"])
    for name in DATABASES:
        rows = await fetch(target.database_url_for(name), "SELECT version_num FROM alembic_version")
        assert [r[0] for r in rows] == [head_revision(name)]


async def test_manifest_records_versions_revisions_and_checksums(source: Settings, backup_dir: Path) -> None:
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    server = (await fetch(source.database_url_for("members"), "SHOW server_version"))[0][0]

    assert manifest["format"] == 1
    assert manifest["chainclub_version"] == version("chainclub")
    assert manifest["postgresql_server_version"] == server
    assert manifest["pg_dump_version"].startswith("pg_dump (PostgreSQL) ")
    created = datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= datetime.now(UTC) - created < timedelta(minutes=30)
    assert set(manifest["databases"]) == set(DATABASES)
    for name, entry in manifest["databases"].items():
        dump = backup_dir / entry["file"]
        assert entry["database"] == f"{source.db_prefix}{name}"
        assert entry["alembic_revision"] == head_revision(name)
        assert entry["size"] == dump.stat().st_size > 0
        assert entry["sha256"] == sha256_of(dump)
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert sorted(os.listdir(backup_dir)) == sorted(["manifest.json", *(f"{n}.dump" for n in DATABASES)])


async def test_a_tampered_dump_is_refused_and_nothing_is_restored(
    infra: Infra, copy_of: Path, target: Settings
) -> None:
    dump = copy_of / "wallet.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupError, match=r"wallet: wallet\.dump does not match its sha256") as caught:
        await restore(target, copy_of, say=quiet)

    assert "members" not in str(caught.value)
    assert await databases_named(infra, target.db_prefix) == []


async def test_restoring_over_data_is_refused_without_force(
    source: Settings, backup_dir: Path, target: Settings
) -> None:
    await restore(target, backup_dir, say=quiet)
    loyalty = target.database_url_for("loyalty")
    await execute(loyalty, "INSERT INTO backup_probe (note) VALUES ('written after the backup')")

    with pytest.raises(BackupError, match=r"holds data: .*loyalty \(rows in backup_probe.*--force"):
        await restore(target, backup_dir, say=quiet)
    assert (
        len(await fetch(loyalty, "SELECT 1 FROM backup_probe WHERE note = 'written after the backup'")) == 1
    )

    await restore(target, backup_dir, force=True, say=quiet)
    assert await fetch(loyalty, "SELECT 1 FROM backup_probe WHERE note = 'written after the backup'") == []
    assert await snapshot(target) == await snapshot(source)


async def test_databases_with_tables_but_no_rows_count_as_empty(
    source: Settings, backup_dir: Path, target: Settings
) -> None:
    for name in DATABASES:
        url = target.database_url_for(name)
        await ensure_database(url)
        await execute(url, "CREATE TABLE leftover (id int); CREATE TABLE alembic_version (version_num text)")
        await execute(url, "INSERT INTO alembic_version VALUES ('0001')")  # alembic_version is no data

    await restore(target, backup_dir, say=quiet)

    assert await snapshot(target) == await snapshot(source)  # whole databases replaced: no leftover


async def test_seed_rows_count_as_data(backup_dir: Path, target: Settings) -> None:
    url = target.database_url_for("members")
    await ensure_database(url)
    await execute(url, "CREATE TABLE settings_seed (k text); INSERT INTO settings_seed VALUES ('x')")

    with pytest.raises(BackupError, match=r"holds data: members \(rows in settings_seed\)\. Pass --force"):
        await restore(target, backup_dir, say=quiet)


async def test_restore_refuses_databases_in_use(infra: Infra, backup_dir: Path, target: Settings) -> None:
    url = target.database_url_for("notify")
    await ensure_database(url)
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        with pytest.raises(BackupError, match=r"in use: notify \(1 connection\)"):
            await restore(target, backup_dir, say=quiet)
    finally:
        await conn.close()
    assert await databases_named(infra, target.db_prefix) == [f"{target.db_prefix}notify"]


async def test_a_dump_that_does_not_restore_replaces_nothing(
    infra: Infra, copy_of: Path, target: Settings
) -> None:
    # A dump that matches its manifest but is no archive: members restores, notify fails.
    broken = copy_of / "notify.dump"
    broken.write_bytes(b"not a pg_dump archive")
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["databases"]["notify"].update(size=broken.stat().st_size, sha256=sha256_of(broken))
    (copy_of / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupError, match=r"pg_restore of the notify database failed, nothing was replaced"):
        await restore(target, copy_of, say=quiet)

    assert await databases_named(infra, target.db_prefix) == []  # scratch databases dropped too


async def test_a_revision_other_than_the_manifests_replaces_nothing(
    infra: Infra, copy_of: Path, target: Settings
) -> None:
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["databases"]["gateway"]["alembic_revision"] = "not_this_one"
    (copy_of / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupError, match=r"restored gateway database is at revision .* says not_this_one"):
        await restore(target, copy_of, say=quiet)

    assert await databases_named(infra, target.db_prefix) == []


async def test_backup_of_an_installation_without_its_databases_is_refused(
    infra: Infra, target: Settings, tmp_path: Path
) -> None:
    await ensure_database(target.database_url_for("members"))

    with pytest.raises(BackupError, match=r"the wallet database \(.*\) does not exist"):
        await backup(target, tmp_path / "out", say=quiet)

    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


async def test_the_cli_backs_up_and_restores_with_exit_codes(
    source: Settings, target: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("someone else's file")
    env = cli_env(source, tmp_path / "run")

    refused = await asyncio.to_thread(cli, "backup", str(out), env=env)
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]

    done = await asyncio.to_thread(cli, "backup", "--force", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text())["databases"]["members"]["file"] == "members.dump"
    assert (out / "notes.txt").read_text() == "someone else's file"

    restore_env = cli_env(target, tmp_path / "run")
    restored = await asyncio.to_thread(cli, "restore", str(out), env=restore_env)
    assert restored.returncode == 0, restored.stderr
    assert "restore complete" in restored.stdout
    assert await snapshot(target) == await snapshot(source)

    again = await asyncio.to_thread(cli, "restore", str(out), env=restore_env)
    assert again.returncode == 1
    assert "holds data" in again.stderr and "Traceback" not in again.stderr

    missing = await asyncio.to_thread(cli, "restore", str(tmp_path / "nowhere"), env=restore_env)
    assert missing.returncode == 1
    assert "no manifest.json" in missing.stderr

    usage = await asyncio.to_thread(cli, "restore", env=restore_env)
    assert usage.returncode == 2
    assert "DIR" in usage.stderr


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A run directory the embedded PostgreSQL's system user can reach (pytest's are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="chainclub-run-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def test_a_fresh_machine_restores_into_the_embedded_postgresql(
    source: Settings, backup_dir: Path, run_dir: Path, target: Settings
) -> None:
    # No CHAINCLUB_DATABASE_URL and no `chainclub dev` running: restore starts the embedded
    # PostgreSQL of the run directory (as `make run` would later), and backup finds it again.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINCLUB_")}
    env.update(CHAINCLUB_PROFILE="dev", CHAINCLUB_RUN_DIR=str(run_dir))

    nothing = await asyncio.to_thread(cli, "backup", str(run_dir / "early"), env=env)
    assert nothing.returncode == 1
    assert "holds no embedded PostgreSQL" in nothing.stderr

    restored = await asyncio.to_thread(cli, "restore", str(backup_dir), env=env)
    assert restored.returncode == 0, restored.stderr
    assert (run_dir / "pg" / "PG_VERSION").exists()

    again = await asyncio.to_thread(cli, "backup", str(run_dir / "again"), env=env)
    assert again.returncode == 0, again.stderr
    first = json.loads((backup_dir / "manifest.json").read_text())["databases"]
    second = json.loads((run_dir / "again" / "manifest.json").read_text())["databases"]
    assert {n: e["alembic_revision"] for n, e in second.items()} == {
        n: e["alembic_revision"] for n, e in first.items()
    }
    assert {e["database"] for e in second.values()} == {f"chainclub_{n}" for n in DATABASES}
    # What the embedded server held is the source's data: its backup restores to the same rows.
    await restore(target, run_dir / "again", say=quiet)
    assert await snapshot(target) == await snapshot(source)
