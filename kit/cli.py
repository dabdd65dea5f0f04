"""The ``chainclub`` command: ``dev``, ``serve <name>``, ``migrate``, ``makemigration``, ``backup``,
``restore``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from kit.config import DATABASES, SERVICES, Settings, get_settings

T = TypeVar("T")


def _service_main(name: str):  # type: ignore[no-untyped-def]
    # Resolved by name at run time: kit knows no service, each brings its own main.py.
    return importlib.import_module(f"services.{name}.main")


async def _migrate(names: list[str]) -> None:
    from kit.db import Database, ensure_database
    from kit.migrations import upgrade

    settings = get_settings()
    for name in names:
        url = settings.database_url_for(name)
        await ensure_database(url)
        db = Database(url, pool_size=1)
        try:
            print(f"{name}: at {await upgrade(db, name)}")
        finally:
            await db.dispose()


async def _makemigration(name: str, message: str) -> None:
    from kit.db import Database, ensure_database
    from kit.migrations import autogenerate, upgrade

    settings = get_settings()
    url = settings.database_url_for(name)
    await ensure_database(url)
    db = Database(url, pool_size=1)
    try:
        await upgrade(db, name)
        await autogenerate(db, name, message)
    finally:
        await db.dispose()


def run_loop(main: Coroutine[Any, Any, T], settings: Settings) -> T:
    """``asyncio.run`` on the event loop ``settings.event_loop`` names: uvloop (the default:
    a checkout costs measurably less CPU on it, see README "Benchmarks") or asyncio's own."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SERVICES:
        # `chainclub <service> ...`: commands a service brings in its own cli.py
        try:
            module = importlib.import_module(f"services.{argv[0]}.cli")
        except ModuleNotFoundError:
            print(f"the {argv[0]} service has no commands")
            return 2
        return int(module.main(argv[1:]))
    parser = argparse.ArgumentParser(prog="chainclub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("wallet", help="wallet commands: reconcile")
    sub.add_parser("members", help="members commands: rotate-keys")
    sub.add_parser("dev", help="start the whole suite (embedded PostgreSQL and NATS unless URLs are set)")
    serve = sub.add_parser("serve", help="run one process")
    serve.add_argument("name", choices=[*SERVICES, "gateway"])
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("names", nargs="*", help=f"any of {', '.join(DATABASES)} (default: all)")
    mk = sub.add_parser("makemigration", help="autogenerate a migration from a service's models")
    mk.add_argument("name", choices=list(DATABASES))
    mk.add_argument("-m", "--message", required=True)
    bk = sub.add_parser("backup", help="pg_dump every service database into DIR, with a manifest")
    bk.add_argument("dir", metavar="DIR", help="an empty or new directory")
    bk.add_argument("--force", action="store_true", help="write into a directory that is not empty")
    rs = sub.add_parser("restore", help="restore every database of a backup DIR (checksums checked first)")
    rs.add_argument("dir", metavar="DIR", help="a directory written by `chainclub backup`")
    rs.add_argument("--force", action="store_true", help="replace databases that already hold data")
    args = parser.parse_args(argv)

    if args.command == "dev":
        from kit.dev import run_dev

        return run_loop(run_dev(get_settings()), get_settings())
    if args.command == "serve":
        run_loop(_service_main(args.name).main(get_settings()), get_settings())
        return 0
    if args.command == "migrate":
        unknown = set(args.names) - set(DATABASES)
        if unknown:
            parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
        asyncio.run(_migrate(args.names or list(DATABASES)))
        return 0
    if args.command in ("backup", "restore"):
        from pathlib import Path

        from kit.backup import run_command

        return run_command(args.command, Path(args.dir), force=args.force, settings=get_settings())
    if args.command == "makemigration":
        asyncio.run(_makemigration(args.name, args.message))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
