"""Issuing a coupon to a segment as a job (services/gateway/issue_jobs.py) with the real
services behind it: batch by batch to the end with its progress recorded, the same key is the
same job, a job taken up again after it stopped (the gateway died between batches) issues
nothing twice, another region's manager cannot see it, a key used for another template is
refused."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from starlette.requests import Request

from kit.auth import KeySet, Principal
from kit.errors import ChainclubError
from services.gateway import issue_jobs
from services.gateway.models import issue_jobs as jobs_table
from tests.checkout.conftest import CheckoutWorld
from tests.checkout.test_analytics_reports import a_region, buy

pytestmark = pytest.mark.integration


def principal(w: CheckoutWorld, token: str) -> Principal:
    return dataclasses.replace(KeySet.from_settings(w.settings).verify(token), token=token)


def request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [], "client": ("127.0.0.1", 1)})


async def finished(w: CheckoutWorld, p: Principal, job_id: str) -> dict:
    for _ in range(200):
        job = await issue_jobs.get(w.gw, p, job_id)
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} still running: {job}")


async def coupons(w: CheckoutWorld, member_no: str, template: str) -> int:
    r = await w.call("GET", f"/api/v1/members/{member_no}/coupons", w.admin)
    assert r.status_code == 200, r.text
    return sum(1 for c in r.json()["items"] if c["template_id"] == template)


async def test_a_segment_is_issued_batch_by_batch_once_even_when_taken_up_again(
    checkout_world: CheckoutWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = checkout_world
    monkeypatch.setattr(issue_jobs, "BATCH", 2)  # five members: three batches
    mine, other = await a_region(w), await a_region(w)
    members = [await w.register(mine["clerk"]) for _ in range(5)]
    for m in members:
        await buy(w, mine["clerk"], 1_000, card_no=m["card"]["card_no"])
    assert (await w.call("POST", "/api/v1/analytics/segments/recompute", w.admin)).status_code == 200
    r = await w.call("POST", "/api/v1/loyalty/coupon-templates", w.admin,
                     json={"name": "新客礼-" + uuid.uuid4().hex[:4], "kind": "amount_off", "amount_off": 500})  # fmt: skip
    assert r.status_code == 201, r.text
    template = r.json()["id"]
    hq = principal(w, w.admin)

    key = uuid.uuid4().hex
    job = await issue_jobs.start(w.gw, request(), hq, key, template, "new", mine["path"])
    assert job["total"] == 5
    done = await finished(w, hq, job["job_id"])
    assert (done["status"], done["done"], done["issued"], done["skipped"]) == ("completed", 5, 5, 0)
    assert [await coupons(w, m["member_no"], template) for m in members] == [1] * 5

    # The same key: the same job, nothing more.
    again = await issue_jobs.start(w.gw, request(), hq, key, template, "new", mine["path"])
    assert again["job_id"] == job["job_id"] and again["status"] == "completed"
    with pytest.raises(ChainclubError) as refused:
        await issue_jobs.start(w.gw, request(), hq, key, str(uuid.uuid4()), "new", mine["path"])
    assert refused.value.reason == "idempotency_key_reused"

    # The gateway died after the first batch was issued but before it was recorded: the job is
    # running, one batch behind, and nobody has moved it for a while. Reading it takes it up.
    async with w.gw.db.transaction() as session:
        await session.execute(
            update(jobs_table).where(jobs_table.c.job_id == uuid.UUID(job["job_id"])).values(
                status="running", batches_done=0, issued=0, skipped=0,
                updated_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )  # fmt: skip
    resumed = await finished(w, hq, job["job_id"])
    assert (resumed["status"], resumed["done"], resumed["issued"]) == ("completed", 5, 5)
    assert [await coupons(w, m["member_no"], template) for m in members] == [1] * 5

    # Another region's manager does not see it.
    with pytest.raises(ChainclubError) as hidden:
        await issue_jobs.get(w.gw, principal(w, other["manager"]), job["job_id"])
    assert hidden.value.reason == "not_found"
    assert (await issue_jobs.get(w.gw, principal(w, mine["manager"]), job["job_id"]))["issued"] == 5
