"""A top-up through the gateway leaves one audit row after wallet committed it (written by
``audit.record_alone`` in one autocommit statement): who, where, what, from where, which
request; a refused top-up leaves none."""

from __future__ import annotations

import pytest

from tests.wallet.helpers import shop, username

pytestmark = pytest.mark.integration


async def audit_rows(w, card_no: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await w.call(
        "GET",
        "/api/v1/audit-log",
        w.admin,
        params={"action": "wallet.top_up", "target_id": card_no, "limit": 50},
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_top_up_is_audited_once_with_its_request(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    r = await w.top_up(s.clerk, card, 1_234)
    assert r.status_code == 201, r.text
    (entry,) = await audit_rows(w, card)
    assert entry["actor"] == await username(w, s.clerk)
    assert (entry["actor_role"], entry["target_type"], entry["org_path"]) == ("clerk", "card", s.path)
    assert entry["detail"] == {"transaction_id": r.json()["transaction_id"], "amount": 1_234, "bonus": 0}
    assert (entry["ip"], entry["request_id"]) == ("127.0.0.1", r.headers["X-Request-Id"])


async def test_a_refused_top_up_is_not_audited(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    r = await w.call("POST", f"/api/v1/cards/{card}/freeze", s.clerk)
    assert r.status_code == 200, r.text
    r = await w.top_up(s.clerk, card, 1_000)
    assert r.status_code == 409, r.text
    assert await audit_rows(w, card) == []
