"""Find the Chromium the browser tests drive, and install one when there is none.

Looked for in this order: ``CHAINCLUB_CHROMIUM`` (a path), Playwright's own downloaded
Chromium, ``/usr/bin/chromium`` or ``chromium`` on ``PATH``. ``make test`` and ``make browser``
run this file first (``python tests/browser/ensure_chromium.py``): when none is found it tries
``python -m playwright install chromium``, then (as root, where apt-get exists) Debian's
``chromium`` and ``fonts-noto-cjk`` (the pages are Chinese); when there is still none it prints
the commands and exits 1. tests/browser/conftest.py imports ``find_chromium`` from here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ENV = "CHAINCLUB_CHROMIUM"
INSTALL_HELP = (
    "No Chromium for the browser tests. Install one with either\n"
    f"  {sys.executable} -m playwright install chromium\n"
    "or, as root on Debian/Ubuntu,\n"
    "  apt-get update && apt-get install -y chromium fonts-noto-cjk\n"
    f"or point {ENV} at a Chromium (or Chrome) executable."
)


def _executable(path: str | Path | None) -> str | None:
    if path and Path(path).is_file() and os.access(path, os.X_OK):
        return str(path)
    return None


def playwright_chromium() -> str | None:
    """Playwright's own Chromium when it was downloaded (``playwright install chromium``)."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            return _executable(p.chromium.executable_path)
    except Exception:
        return None


def find_chromium(playwright_executable: str | None = None) -> tuple[str | None, str]:
    """(path, where it came from), or (None, why none was taken). ``playwright_executable``
    is ``chromium.executable_path`` of a Playwright already started (else one is started)."""
    notes = []
    if wanted := os.environ.get(ENV):
        if found := _executable(wanted) or _executable(shutil.which(wanted)):
            return found, ENV
        notes.append(f"{ENV}={wanted} is not an executable file")
    if found := (_executable(playwright_executable) if playwright_executable else playwright_chromium()):
        return found, "playwright"
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        if found := _executable(shutil.which(name)):
            return found, "system"
    return None, "; ".join(notes) or "none found"


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> bool:
    print("+", " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd, timeout=timeout, env=env, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"  {exc}", flush=True)
        return False


def install() -> None:
    """Playwright's download first, then (as root) Debian's packages."""
    _run([sys.executable, "-m", "playwright", "install", "chromium"], timeout=600)
    if find_chromium()[0]:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        packages = ["apt-get", "install", "-y", "chromium", "fonts-noto-cjk"]
        if not _run(packages, timeout=900, env=env):
            _run(["apt-get", "update"], timeout=600, env=env)
            _run(packages, timeout=900, env=env)


def main() -> int:
    path, how = find_chromium()
    if path is None:
        print(f"browser tests: no Chromium ({how}); installing one", flush=True)
        install()
        path, how = find_chromium()
    if path is None:
        print(INSTALL_HELP, file=sys.stderr)
        return 1
    print(f"browser tests: Chromium {path} ({how})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
