"""Benchmarks of chainclub (docs/design.md §8): measured on one machine in one run, as ratios
against physical anchors — pgbench ``simple-update`` TPS on the same PostgreSQL and a raw
grpc.aio unary echo — printing machine facts, throughput and p50/p95/p99 latency.

``make bench`` (``python -m bench``) runs everything with the defaults; see
``python -m bench --help``.
"""

import os

# The benchmark starts processes (pg_ctl, pgbench) while its gRPC channels are open; gRPC's
# fork handlers only warn about that. Children are exec'd at once, so they are not needed.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
