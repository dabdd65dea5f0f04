"""``python -m bench`` (``make bench``): every benchmark with its defaults.

``python -m bench identify --members 100000 --seconds 10 --concurrency 16`` runs one, with
options; ``--members 2000 --seconds 2`` is a quick smoke run. PostgreSQL and NATS are embedded
in a temporary directory unless ``CHAINCLUB_DATABASE_URL`` / ``CHAINCLUB_NATS_URL`` are set.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench import identify


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = p.add_subparsers(dest="benchmark")
    defaults = identify.Options()
    ident = sub.add_parser(
        "identify",
        help="identify by card and by phone, gRPC and through the gateway (issue 4)",
        description=identify.__doc__,
    )
    ident.add_argument(
        "--members", type=_positive_int, default=defaults.members, help="members to seed (%(default)s)"
    )
    ident.add_argument(
        "--seconds", type=_positive_float, default=defaults.seconds, help="per case (%(default)s)"
    )
    ident.add_argument(
        "--concurrency",
        type=_positive_int,
        default=defaults.concurrency,
        help="asyncio workers (%(default)s)",
    )
    ident.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds not counted before each case (1, or less for short runs)",
    )
    ident.add_argument("--no-anchors", action="store_true", help="skip pgbench and the gRPC echo (no ratios)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.benchmark in (None, "identify"):
        opts = identify.Options()
        if args.benchmark == "identify":
            opts.members = args.members
            opts.seconds = args.seconds
            opts.concurrency = args.concurrency
            opts.anchors = not args.no_anchors
            if args.warmup is not None:
                opts.warmup = max(0.0, args.warmup)
        if args.benchmark is None or args.warmup is None:
            opts.warmup = min(1.0, opts.seconds / 4)
        try:
            return asyncio.run(identify.run(opts))
        except KeyboardInterrupt:
            print("\n[bench] interrupted; everything it started is stopped", file=sys.stderr)
            return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
