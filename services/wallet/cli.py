"""`chainclub wallet reconcile`: prints a report and exits non-zero on any difference."""

from __future__ import annotations

import argparse
import asyncio

from kit.config import get_settings
from kit.db import Database
from services.wallet.reports import reconcile


async def _reconcile() -> int:
    settings = get_settings()
    db = Database(settings.database_url_for("wallet"), pool_size=1)
    try:
        report = await reconcile(db)
    finally:
        await db.dispose()
    print(f"checked {report.checked_transactions} transactions and {report.checked_accounts} accounts")
    for problem in report.problems:
        print(f"DIFFERENCE: {problem}")
    print("clean: every transaction sums to zero, balances equal postings, no bucket negative" if report.clean
          else f"{len(report.problems)} difference(s)")  # fmt: skip
    return 0 if report.clean else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chainclub wallet")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("reconcile", help="check the journal against the cached balances")
    args = parser.parse_args(argv)
    if args.command == "reconcile":
        return asyncio.run(_reconcile())
    return 2
