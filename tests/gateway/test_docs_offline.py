"""/docs works with the network unplugged: Swagger UI comes from the gateway itself (no CDN),
and ReDoc, which would need one, is not served."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.integration

_URL_IN_SCRIPT = re.compile(r"""['"]((?:https?:)?//[^'"\s]+|/[^'"\s]*)['"]""")


class _Refs(HTMLParser):
    """Every URL the page makes the browser load: src/href attributes and the quoted absolute
    or root-relative URLs of its inline scripts (Swagger UI's spec URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls.extend(m.group(1) for m in _URL_IN_SCRIPT.finditer(data))


def _references(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


async def test_docs_reference_only_same_origin_urls(gateway):
    r = await gateway.call("GET", "/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    # no absolute URL anywhere in the page: nothing to fetch from another host
    assert not re.search(r"(?:https?:)?//[A-Za-z0-9.-]", html), html
    origin = urlsplit(gateway.url).netloc
    refs = _references(html)
    assert refs, html
    for ref in refs:
        assert urlsplit(urljoin(gateway.url + "/docs", ref)).netloc == origin, ref


async def test_every_asset_of_the_docs_page_is_served_with_its_type(gateway):
    html = (await gateway.call("GET", "/docs")).text
    expected = {
        ".js": ("text/javascript", "application/javascript"),
        ".css": ("text/css",),
        ".png": ("image/png",),
        ".json": ("application/json",),
        "": ("text/html",),  # the OAuth2 redirect page
    }
    refs = _references(html)
    kinds = set()
    for ref in refs:
        path = urlsplit(ref).path
        kind = next(k for k in expected if path.endswith(k))
        kinds.add(kind)
        r = await gateway.call("GET", path)
        assert r.status_code == 200, (path, r.status_code)
        content_type = r.headers["content-type"].split(";")[0].strip()
        assert content_type in expected[kind], (path, content_type)
        assert r.content, path
    # the script, the style sheet, the favicon and the spec are all among them
    assert kinds == set(expected), refs
    assert any(urlsplit(ref).path.startswith("/docs/assets/") for ref in refs), refs


async def test_swagger_ui_bundle_defines_what_the_page_calls(gateway):
    r = await gateway.call("GET", "/docs/assets/swagger-ui-bundle.js")
    assert r.status_code == 200
    assert "SwaggerUIBundle" in r.text
    assert "presets" in r.text


async def test_docs_oauth2_redirect_is_served(gateway):
    r = await gateway.call("GET", "/docs/oauth2-redirect")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "oauth2" in r.text.lower()
    assert not re.search(r"<script[^>]+src=", r.text)


async def test_the_swagger_validator_is_off(gateway):
    # left on, Swagger UI would send the spec's URL to an outside validator
    assert '"validatorUrl": null' in (await gateway.call("GET", "/docs")).text


async def test_redoc_is_not_served(gateway):
    r = await gateway.call("GET", "/redoc")
    assert r.status_code == 404
