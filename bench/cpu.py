"""Where the CPU goes: processor time (user + system, from /proc) used by each part of the
stack during a case — the load generator, each chainclub process, PostgreSQL (the postmaster
and its backends) and nats-server — divided by the requests served. On a machine with two
cores the sum is what a request costs; the largest part is what to make cheaper first."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _tree(roots: Iterable[int]) -> set[int]:
    """``roots`` and every descendant."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = st[0]
    found = {r for r in roots if r in parents}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


@dataclass
class CpuMeter:
    """``groups`` maps a part's name to its root pids: the part is the roots and their
    descendants (looked up at each snapshot, so new backends count), except for the parts in
    ``alone`` — the load generator, whose descendants are the other parts."""

    groups: dict[str, list[int]]
    alone: frozenset[str] = frozenset()

    def snapshot(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, roots in self.groups.items():
            pids = set(roots) if name in self.alone else _tree(roots)
            totals[name] = sum(st[1] for pid in pids if (st := _stat(pid)) is not None)
        return totals

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
        """CPU milliseconds per request of each part (processes that ended in between are not
        counted; a part's total never goes below zero)."""
        if requests <= 0:
            return {}
        return {name: max(0.0, after[name] - before.get(name, 0.0)) * 1000.0 / requests for name in after}


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def report(rows: list[tuple[str, dict[str, float]]]) -> None:
    """A table: one line per case, one column per part, CPU ms per request."""
    rows = [(name, cpu) for name, cpu in rows if cpu]
    if not rows:
        return
    parts = list(rows[0][1])
    print("CPU per request, ms (user + system, all cores; from /proc)")
    print(f"  {'case':34} " + " ".join(f"{p[:10]:>10}" for p in parts) + f" {'total':>8}")
    for name, cpu in rows:
        print(
            f"  {name:34} "
            + " ".join(f"{cpu.get(p, 0.0):10.3f}" for p in parts)
            + f" {sum(cpu.values()):8.3f}"
        )
    print(flush=True)
