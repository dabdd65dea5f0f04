"""/docs in a real Chromium with every request off this machine refused: Swagger UI renders
the API from the gateway's own files."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.helpers import page_errors, shot


def test_swagger_ui_renders_the_api_with_the_network_unplugged(page: Page, blocked_requests: list[str]):
    errors = page_errors(page)
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))

    page.goto("/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("chainclub gateway")
    token = page.locator(".opblock-summary-path", has_text="/api/v1/auth/token").first
    expect(token).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "docs")

    assert blocked_requests == [], blocked_requests
    assert errors == [], errors
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in loaded), loaded
    assert any(url.endswith("/openapi.json") for url in loaded), loaded
