"""A closed-loop load generator: N asyncio workers call one coroutine back to back for a fixed
time; each call's latency is recorded. The same generator drives the anchors and chainclub,
so the ratios compare like with like."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.cpu import CpuMeter


@dataclass
class Result:
    name: str
    seconds: float  # measured window
    ok: int
    errors: int
    latencies_ms: list[float] = field(repr=False, default_factory=list)
    first_error: str = ""
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by part (bench.cpu)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the successful calls, in ms."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]


async def run_load(
    name: str,
    call: Callable[[], Awaitable[None]],
    *,
    seconds: float,
    concurrency: int,
    warmup: float = 1.0,
    meter: CpuMeter | None = None,
) -> Result:
    """``call`` raises on any failure (a wrong answer included). Calls started during the
    warm-up are not counted; workers start no call after the window closes. With ``meter``,
    the CPU each part of the stack used in the window is divided by the requests counted."""
    loop = time.perf_counter
    begin = loop()
    measure_from = begin + warmup
    end = measure_from + seconds
    latencies: list[float] = []
    errors = 0
    first_error = ""
    last_finish = measure_from

    async def worker() -> None:
        nonlocal errors, first_error, last_finish
        while True:
            t0 = loop()
            if t0 >= end:
                return
            failed = None
            try:
                await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failed = exc
            t1 = loop()
            if t0 < measure_from:
                continue
            last_finish = max(last_finish, t1)
            if failed is None:
                latencies.append((t1 - t0) * 1000.0)
            else:
                errors += 1
                if not first_error:
                    first_error = f"{type(failed).__name__}: {failed}"[:300]

    cpu_before: dict[str, float] = {}
    if meter is not None:

        def snapshot() -> None:
            cpu_before.update(meter.snapshot())

        asyncio.get_running_loop().call_later(warmup, snapshot)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result = Result(name, last_finish - measure_from, len(latencies), errors, latencies, first_error)
    if meter is not None and cpu_before:
        result.cpu_ms = CpuMeter.per_request(cpu_before, meter.snapshot(), result.ok)
    return result


HEADER = f"  {'case':34} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}"


def row(r: Result) -> str:
    return (
        f"  {r.name:34} {r.throughput:9.0f} {r.percentile(50):8.2f} {r.percentile(95):8.2f}"
        f" {r.percentile(99):8.2f} {r.ok:9d} {r.errors:7d}"
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}" if b > 0 else "     -"


def anchor_ceiling(echo_per_s: float, pgbench_tps: float, calls: int, transactions: int) -> float:
    """Requests per second the anchors themselves allow for a path of ``calls`` RPCs and
    ``transactions`` database transactions, were the application code free: both anchors use
    the whole machine, so one echo call costs 1/echo of it and one pgbench transaction
    1/pgbench (a lower bound — our transactions write more rows than pgbench's)."""
    if echo_per_s <= 0 or pgbench_tps <= 0:
        return 0.0
    return 1.0 / (calls / echo_per_s + transactions / pgbench_tps)


def ceiling_line(what: str, calls: int, transactions: int, echo_per_s: float, pgbench_tps: float) -> str:
    """The report's line for ``anchor_ceiling``: ``what`` names the path's calls and writes."""
    top = anchor_ceiling(echo_per_s, pgbench_tps, calls, transactions)
    share = top / pgbench_tps if pgbench_tps > 0 else 0.0
    return f"  the anchors' own ceiling for {what} with no application code: {top:,.0f}/s = {share:.1%} of pgbench"
