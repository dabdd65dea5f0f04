"""Batch top-ups (批量充值) through the gateway: JSON rows and CSV files, per-row results, idempotent per row."""

from __future__ import annotations

import uuid

import pytest

from kit.testing import eventually
from tests.wallet.helpers import (
    assert_problem,
    buckets,
    history,
    post,
    rand_code,
    shop,
)

pytestmark = pytest.mark.integration


async def bonus_rule(w, scope: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    body = {"name": rand_code("BONUS"), "min_amount": 50_000, "bonus_amount": 5_000, "bonus_points": 300,
            "scope": scope, **fields}  # fmt: skip
    r = await w.call("POST", "/api/v1/wallet/bonus-rules", w.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# --- batch top-ups ---------------------------------------------------------------------------------
async def finished(w, token: str, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    async def done() -> dict | None:
        r = await w.call("GET", f"/api/v1/wallet/batch-top-ups/{job_id}", token)
        assert r.status_code == 200, r.text
        return r.json() if r.json()["status"] == "completed" else None

    return await eventually(done, timeout=30, what=f"batch job {job_id} completed")


async def test_batch_top_up_of_rows_reports_each_row(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    c1, c2 = await w.card(s.clerk), await w.card(s.clerk)
    rows = [{"card_no": c1, "amount": 1_000}, {"card_no": "8800000000000000", "amount": 2_000},
            {"card_no": c2, "amount": 3_000}]  # fmt: skip
    idem = uuid.uuid4().hex
    r = await post(w, "/api/v1/wallet/batch-top-ups", manager, {"rows": rows}, idem=idem)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job = await finished(w, manager, job_id)
    assert (job["total"], job["done"], job["failed"]) == (3, 2, 1)
    by_row = {row["row"]: row for row in job["rows"]}
    assert by_row[1]["status"] == by_row[3]["status"] == "done"
    assert by_row[2]["status"] == "failed" and by_row[2]["error_code"] == "not_found"
    assert await buckets(w, s.clerk, c1) == (1_000, 0)
    assert await buckets(w, s.clerk, c2) == (3_000, 0)
    [txn] = await history(w, s.clerk, c1)
    assert (txn["channel"], txn["transaction_id"]) == ("batch", by_row[1]["transaction_id"])

    again = await post(w, "/api/v1/wallet/batch-top-ups", manager, {"rows": rows}, idem=idem)
    assert again.status_code == 202, again.text
    assert again.json()["job_id"] == job_id
    assert (await finished(w, manager, job_id))["done"] == 2
    assert await buckets(w, s.clerk, c1) == (1_000, 0)
    assert await buckets(w, s.clerk, c2) == (3_000, 0)
    assert len(await history(w, s.clerk, c2)) == 1
    stranger = await w.staff("store_manager", (await shop(w)).store)
    assert_problem(await w.call("GET", f"/api/v1/wallet/batch-top-ups/{job_id}", stranger), 404, "not_found")


async def test_batch_top_up_from_a_csv_file(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    c1, c2 = await w.card(s.clerk), await w.card(s.clerk)
    csv = f"card_no,amount\n{c1},500\n{c2},700\n8800000000000000,100\n".encode()
    idem = uuid.uuid4().hex
    r = await w.call("POST", "/api/v1/wallet/batch-top-ups", manager, files={"file": ("rows.csv", csv, "text/csv")},
                     headers={"Idempotency-Key": idem})  # fmt: skip
    assert r.status_code == 202, r.text
    job = await finished(w, manager, r.json()["job_id"])
    assert (job["total"], job["done"], job["failed"]) == (3, 2, 1)
    assert await buckets(w, s.clerk, c1) == (500, 0)
    assert await buckets(w, s.clerk, c2) == (700, 0)
    r = await w.call("POST", "/api/v1/wallet/batch-top-ups", manager, files={"file": ("rows.csv", csv, "text/csv")},
                     headers={"Idempotency-Key": idem})  # fmt: skip
    assert r.status_code == 202 and r.json()["job_id"] == job["job_id"], r.text
    await finished(w, manager, job["job_id"])
    assert await buckets(w, s.clerk, c1) == (500, 0)


async def test_batch_top_up_bad_input_and_missing_key(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    card = await w.card(s.clerk)
    r = await w.call(
        "POST", "/api/v1/wallet/batch-top-ups", manager, json={"rows": [{"card_no": card, "amount": 1}]}
    )
    assert_problem(r, 400, "idempotency_key_required")
    for body in (
        {"rows": []},
        {"rows": [{"card_no": card, "amount": 0}]},
        {"rows": [{"card_no": card, "amount": 1.5}]},
    ):
        assert_problem(await post(w, "/api/v1/wallet/batch-top-ups", manager, body), 422, "invalid_argument")
    bad_csv = f"card_no,amount\n{card},12.50\n".encode()
    r = await w.call("POST", "/api/v1/wallet/batch-top-ups", manager, files={"file": ("x.csv", bad_csv, "text/csv")},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert_problem(r, 422, "invalid_argument")
    assert_problem(await post(w, "/api/v1/wallet/batch-top-ups", s.clerk, {"rows": [{"card_no": card, "amount": 1}]}),
                   403, "forbidden")  # fmt: skip
    assert await buckets(w, s.clerk, card) == (0, 0)


async def test_batch_same_key_with_other_rows_is_refused(wallet_world):
    """docs/api.md Conventions: same Idempotency-Key, different body -> 409 idempotency_key_reused
    (a batch of the same length but other cards or amounts must not replay the first job)."""
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    c1, c2 = await w.card(s.clerk), await w.card(s.clerk)
    idem = uuid.uuid4().hex
    r = await post(
        w, "/api/v1/wallet/batch-top-ups", manager, {"rows": [{"card_no": c1, "amount": 1_000}]}, idem=idem
    )
    assert r.status_code == 202, r.text
    await finished(w, manager, r.json()["job_id"])
    r = await post(
        w, "/api/v1/wallet/batch-top-ups", manager, {"rows": [{"card_no": c2, "amount": 9_000}]}, idem=idem
    )
    assert_problem(r, 409, "idempotency_key_reused")
    assert await buckets(w, s.clerk, c2) == (0, 0)
