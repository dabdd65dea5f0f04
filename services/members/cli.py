"""`chainclub members rotate-keys`: re-encrypt every PII value under the active key."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import or_, select, update

from kit.config import get_settings
from kit.db import Database
from services.members.models import members
from services.members.pii import Keyring, aad

FIELDS = ("phone", "email", "id_number", "address")


async def rotate(db: Database, keyring: Keyring, batch: int = 500) -> int:
    """Rows whose values are under an older key get them re-encrypted; returns how many."""
    done = 0
    prefix = f"{keyring.active}:"
    stale = or_(*[(getattr(members.c, f"{f}_enc").is_not(None)) & ~getattr(members.c, f"{f}_enc").startswith(prefix)
                  for f in FIELDS])  # fmt: skip
    while True:
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(members).where(stale).limit(batch).with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                values = {}
                for f in FIELDS:
                    stored = getattr(row, f"{f}_enc")
                    if stored and not stored.startswith(prefix):
                        values[f"{f}_enc"] = keyring.encrypt(
                            keyring.decrypt(stored, aad(row.id, f)), aad(row.id, f)
                        )
                await session.execute(update(members).where(members.c.id == row.id).values(**values))
            done += len(rows)
        if len(rows) < batch:
            return done


async def _rotate() -> int:
    s = get_settings()
    keyring = Keyring.from_config(s.pii_keys, s.pii_active_key, s.pii_index_key, s.profile)
    db = Database(s.database_url_for("members"), pool_size=1)
    try:
        count = await rotate(db, keyring)
    finally:
        await db.dispose()
    print(f"re-encrypted {count} member(s) under key {keyring.active!r}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chainclub members")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rotate-keys", help="re-encrypt PII under CHAINCLUB_PII_ACTIVE_KEY")
    args = parser.parse_args(argv)
    if args.command == "rotate-keys":
        return asyncio.run(_rotate())
    return 2
