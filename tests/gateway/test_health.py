"""Liveness, readiness, metrics, OpenAPI and docs, and problem answers for unknown routes."""

import pytest

from tests.gateway.helpers import assert_problem

pytestmark = pytest.mark.integration


async def test_healthz_is_200(gateway):
    r = await gateway.call("GET", "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_is_503_while_no_service_answers(gateway):
    r = await gateway.call("GET", "/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert set(body["services"]) == {"members", "wallet", "loyalty", "notify"}
    for name, status in body["services"].items():
        assert status != "SERVING", f"{name} reported {status} though nothing runs"


async def test_metrics_count_http_requests(gateway):
    await gateway.call("GET", "/healthz")
    r = await gateway.call("GET", "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "chainclub_http_requests_total" in r.text
    assert 'route="/healthz"' in r.text


async def test_metrics_label_routes_by_template_not_raw_path(gateway):
    # unbounded label values (one per code) would blow up Prometheus
    await gateway.call("GET", "/api/v1/org-units/SOMECODE123", gateway.admin)
    text = (await gateway.call("GET", "/metrics")).text
    assert 'route="/api/v1/org-units/{code}"' in text
    assert "SOMECODE123" not in text


async def test_openapi_lists_the_public_paths(gateway):
    r = await gateway.call("GET", "/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/org-units",
        "/api/v1/org-units/{code}",
        "/api/v1/users",
        "/api/v1/terminals",
        "/api/v1/products",
        "/api/v1/products/{sku}",
        "/api/v1/catalog",
        "/api/v1/audit-log",
    ):
        assert path in paths, f"{path} missing from OpenAPI"
    token_body = paths["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token_body


async def test_docs_are_served(gateway):
    r = await gateway.call("GET", "/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]


async def test_unknown_path_is_a_404_problem(gateway):
    body = assert_problem(await gateway.call("GET", "/api/v1/does-not-exist"), 404, "not_found")
    assert "/api/v1/does-not-exist" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/api/v1/me"), ("PUT", "/api/v1/org-units"), ("POST", "/api/v1/catalog")]
)
async def test_wrong_method_is_a_405_problem(gateway, method, path):
    assert_problem(await gateway.call(method, path, gateway.admin), 405)
