"""The browser tier: the real suite (`chainclub dev`, the session's `suite` fixture) driven by a
headless Chromium through Playwright's sync API.

Fixtures
- ``browser`` (package, i.e. the whole tier): the Chromium (found as tests/browser/ensure_chromium.py says; none is
  a failure with the commands that install one, not a skip).
- ``new_context(viewport=DESKTOP, locale="zh-CN", **options)`` (function): a factory of browser
  contexts on the suite (``base_url`` is the gateway, so ``page.goto("/docs")``); each one
  aborts every request to a host other than this machine and records its URL in
  ``blocked_requests``. Contexts are closed after the test.
- ``context`` / ``page`` (function): one desktop context (1024x768, zh-CN) and a page in it.
- ``blocked_requests`` (function): the URLs the test's pages tried to load from elsewhere.
- ``admin`` (session): an ``Admin`` (tests/browser/helpers.py) making org units, users and
  products over REST as the development HQ admin.
Helpers in tests/browser/helpers.py: ``shot(page, name)``, ``page_errors(page)``, ``PHONE``,
``DESKTOP``, ``Admin``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect, sync_playwright

from tests.browser.ensure_chromium import INSTALL_HELP, find_chromium
from tests.browser.helpers import DESKTOP, Admin, shot
from tests.support import Suite

# The machine has no network but this one: without these Chromium keeps trying outside
# services (component updates, sync, QUIC probes) and floods the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# Actions, navigations and expect(...) wait this long (Playwright's 5 s for expect is short for
# Swagger UI's 1.7 MB script on a busy two-core machine running two test workers).
DEFAULT_TIMEOUT_MS = 20_000
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/browser carries the ``browser`` marker (``make browser``)."""
    here = str(config.rootpath / "tests" / "browser")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


# Package scope: one Playwright and one Chromium for all of tests/browser (the whole tier runs
# in one go). While the sync API is started, its event loop counts as the thread's running
# loop, so the async tests of the other tiers (pytest-asyncio) could not run beside a
# session-scoped one.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def chromium_path(playwright: Playwright) -> str:
    path, how = find_chromium(playwright.chromium.executable_path)
    if path is None:
        pytest.fail(f"{INSTALL_HELP}\n({how})", pytrace=False)
    return path


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def blocked_requests() -> list[str]:
    return []


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Remember each phase's report on the test, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_context(
    browser: Browser, suite: Suite, blocked_requests: list[str], request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    made: list[BrowserContext] = []

    def guard(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def make(viewport: dict[str, int] | None = None, locale: str = "zh-CN", **options: Any) -> BrowserContext:
        options.setdefault("base_url", suite.url)
        ctx = browser.new_context(viewport=viewport or DESKTOP, locale=locale, **options)
        ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
        ctx.route("**/*", guard)
        made.append(ctx)
        return ctx

    yield make
    failed = getattr(request.node, "report_call", None)
    for i, ctx in enumerate(made):
        if failed is not None and failed.failed:  # what the page showed when the test failed
            for j, open_page in enumerate(ctx.pages):
                with contextlib.suppress(Exception):
                    shot(open_page, f"failed-{request.node.name}-{i}-{j}")
        ctx.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def admin(suite: Suite) -> Iterator[Admin]:
    with Admin(suite.url) as a:
        yield a
