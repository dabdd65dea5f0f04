"""Facts about the machine a benchmark ran on, printed before any figure."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    kib = int(line.split()[1])
                    return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def facts(postgres_version: str) -> list[tuple[str, str]]:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    return [
        ("CPUs", f"{cpus}" + (f" ({usable} usable by this process)" if usable != cpus else "")),
        ("CPU model", _cpu_model()),
        ("memory", _memory()),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
        ("PostgreSQL", postgres_version),
        ("grpcio / httpx", f"{_version('grpcio')} / {_version('httpx')}"),
        ("load average", _load()),
    ]


def _load() -> str:
    """Other work on the machine skews every figure; say so when there is some."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    busy = "  (the machine is busy: figures will be low)" if one >= 0.5 * (os.cpu_count() or 1) else ""
    return f"{one:.2f} (1 min), {five:.2f} (5 min) at start{busy}"


def print_facts(postgres_version: str) -> None:
    print("machine", flush=True)
    for key, value in facts(postgres_version):
        print(f"  {key:15} {value}")
    print(flush=True)
