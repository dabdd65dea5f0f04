"""`make run` as a newcomer meets it: a cold start with embedded PostgreSQL and NATS."""

import time

import httpx
import pytest

from kit.dev import port_open
from tests.support import start_suite

pytestmark = pytest.mark.e2e


def test_cold_start_is_ready_then_stops_cleanly_and_keeps_data(tmp_path):
    run_dir = tmp_path / "run"
    suite = start_suite(run_dir)
    try:
        started = time.monotonic()
        ready = suite.wait_ready(timeout=60)
        assert ready == {
            "status": "ready",
            "services": {
                "members": "SERVING",
                "wallet": "SERVING",
                "loyalty": "SERVING",
                "notify": "SERVING",
            },
        }
        assert time.monotonic() - started < 60
        token = httpx.post(
            f"{suite.url}/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": "admin"},
        ).json()["access_token"]
        created = httpx.post(
            f"{suite.url}/api/v1/org-units",
            headers={"Authorization": f"Bearer {token}"},
            json={"code": "KEEP", "name": "kept across restarts", "kind": "region", "parent": "HQ"},
        )
        assert created.status_code == 201, created.text
    finally:
        code = suite.stop()
    out = suite.output.read_text()
    assert code == 0, out
    assert "stopped" in out
    nats_port = int(suite.env["CHAINCLUB_NATS_PORT"])
    assert not port_open("127.0.0.1", nats_port), "embedded NATS still listening after stop"
    assert (run_dir / "pg" / "PG_VERSION").exists()
    assert (run_dir / "nats" / "jetstream").exists()
    for name in ("members", "wallet", "loyalty", "notify"):
        assert f"{name} stopped" in (run_dir / "logs" / f"{name}.log").read_text()

    # Data survives a restart of the same run directory.
    again = start_suite(run_dir, {"CHAINCLUB_GATEWAY_PORT": suite.env["CHAINCLUB_GATEWAY_PORT"]})
    try:
        again.wait_ready(timeout=60)
        token = httpx.post(
            f"{again.url}/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": "admin"},
        ).json()["access_token"]
        kept = httpx.get(f"{again.url}/api/v1/org-units/KEEP", headers={"Authorization": f"Bearer {token}"})
        assert kept.status_code == 200, kept.text
        assert kept.json()["path"] == "HQ/KEEP"
    finally:
        assert again.stop() == 0


def test_suite_uses_configured_servers_and_starts_no_embedded_ones(suite):
    assert not (suite.run_dir / "pg").exists()
    assert not (suite.run_dir / "nats").exists()
    out = suite.output.read_text()
    assert "PostgreSQL: using" in out and "NATS: using" in out
    r = httpx.get(f"{suite.url}/readyz")
    assert r.status_code == 200 and set(r.json()["services"].values()) == {"SERVING"}
