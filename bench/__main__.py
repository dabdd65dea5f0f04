"""``python -m bench`` (``make bench``): every benchmark with its defaults — identify, then
stored value (wallet), then checkout — on one stack, against anchors measured once at the start
of the run.

``python -m bench identify --members 100000 --seconds 10 --concurrency 16`` or
``python -m bench wallet --cards 10000 --seconds 10 --concurrency 16`` or
``python -m bench checkout --members 10000 --seconds 10 --concurrency 16`` runs one, with
options; ``identify --members 2000 --seconds 2``, ``wallet --cards 500 --seconds 2`` and
``checkout --members 500 --seconds 2`` are quick smoke runs. PostgreSQL and NATS are embedded in a temporary directory unless
``CHAINCLUB_DATABASE_URL`` / ``CHAINCLUB_NATS_URL`` are set.
"""

from __future__ import annotations

import argparse
import sys

from bench import anchors, checkout, identify, machine, wallet
from bench.stack import Stack, say
from kit.cli import run_loop
from kit.config import get_settings


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


def _common(
    p: argparse.ArgumentParser, defaults: identify.Options | wallet.Options | checkout.Options
) -> None:
    p.add_argument("--seconds", type=_positive_float, default=defaults.seconds, help="per case (%(default)s)")
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=defaults.concurrency,
        help="asyncio workers (%(default)s)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds not counted before each case (1, or less for short runs)",
    )
    p.add_argument("--no-anchors", action="store_true", help="skip pgbench and the gRPC echo (no ratios)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = p.add_subparsers(dest="benchmark")
    ident = sub.add_parser(
        "identify",
        help="identify by card and by phone, gRPC and through the gateway",
        description=identify.__doc__,
    )
    ident.add_argument(
        "--members",
        type=_positive_int,
        default=identify.Options().members,
        help="members to seed (%(default)s)",
    )
    _common(ident, identify.Options())
    wal = sub.add_parser(
        "wallet",
        help="top-ups and payments, gRPC and through the gateway, reconciled after",
        description=wallet.__doc__,
    )
    wal.add_argument(
        "--cards",
        type=_positive_int,
        default=wallet.Options().cards,
        help="funded cards to seed (%(default)s)",
    )
    _common(wal, wallet.Options())
    co = sub.add_parser(
        "checkout",
        help="checkout through the gateway: max throughput and p50/p95/p99 at half of it",
        description=checkout.__doc__,
    )
    co.add_argument(
        "--members",
        type=_positive_int,
        default=checkout.Options().members,
        help="funded members to seed (%(default)s)",
    )
    _common(co, checkout.Options())
    return p


def _options(args: argparse.Namespace, opts):  # type: ignore[no-untyped-def]
    opts.seconds = args.seconds
    opts.concurrency = args.concurrency
    opts.anchors = not args.no_anchors
    opts.warmup = min(1.0, opts.seconds / 4) if args.warmup is None else max(0.0, args.warmup)
    return opts


async def run_all() -> int:
    """Every benchmark with its defaults on one stack, anchors measured once."""
    ident, wal, co = identify.Options(), wallet.Options(), checkout.Options()
    stack = Stack()
    try:
        await stack.start()
        machine.print_facts(await stack.postgres_version())
        pg, echo = await anchors.measure(stack, ident)
        failed = await identify.measure(stack, ident, pg, echo, tag="i")
        say("identify done: stopping its processes; the wallet benchmark starts its own")
        await stack.stop_children()
        print()
        failed |= await wallet.measure(stack, wal, pg, echo, tag="w")
        say("wallet done: stopping its processes; the checkout benchmark starts its own")
        await stack.stop_children()
        print()
        failed |= await checkout.measure(stack, co, pg, echo, tag="c")
        return failed
    finally:
        say("stopping: gateway, services, NATS, PostgreSQL")
        await stack.close()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.benchmark is None:
        job = run_all()
    elif args.benchmark == "identify":
        opts = _options(args, identify.Options())
        opts.members = args.members
        job = identify.run(opts)
    elif args.benchmark == "wallet":
        opts = _options(args, wallet.Options())
        opts.cards = args.cards
        job = wallet.run(opts)
    elif args.benchmark == "checkout":
        opts = _options(args, checkout.Options())
        opts.members = args.members
        job = checkout.run(opts)
    else:
        return 2
    try:
        # The load generator runs on the services' event loop (CHAINCLUB_EVENT_LOOP).
        return run_loop(job, get_settings())
    except KeyboardInterrupt:
        print("\n[bench] interrupted; everything it started is stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
