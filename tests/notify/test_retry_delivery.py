"""Retrying a dead delivery, against real PostgreSQL, NATS, members and a local HTTP provider."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from sqlalchemy import update

from chainclub.notify.v1 import notify_pb2 as pb
from services.notify import sender
from services.notify.channels import HttpChannel
from services.notify.models import deliveries
from tests.notify.conftest import chain_time, random_store
from tests.notify.provider_stub import ProviderStub
from tests.notify.test_notify import _sms

DAYTIME = chain_time(11)  # 11:00 in Shanghai tomorrow: no quiet hours


@pytest.fixture
async def sms_provider(notify_world):  # type: ignore[no-untyped-def]
    """SMS through a real local HTTP provider stub for one test (others' due deliveries sent first)."""
    stub = ProviderStub()
    url = await stub.start()
    while sum((await sender.send_due(notify_world.ctx, DAYTIME)).values()):
        pass
    channels = notify_world.ctx.channels
    saved = channels["sms"]
    channels["sms"] = HttpChannel(url, retries=1, backoff=0.01, timeout=2)
    try:
        yield stub
    finally:
        channels["sms"] = saved
        await stub.stop()


async def test_a_dead_delivery_is_retried_by_a_manager_and_then_sent(notify_world, sms_provider) -> None:
    w = notify_world
    store = random_store()
    member = await w.register(store, sms=True, email=False, wechat=False)
    await _sms(w, member.member_no)
    sms_provider.down = True
    now = DAYTIME
    for _ in range(w.settings.notify_max_attempts):
        await sender.send_due(w.ctx, now)
        now += timedelta(hours=1)
    dead = await _sms(w, member.member_no)
    assert dead.status == "dead" and "503" in dead.last_error
    retry = pb.RetryDeliveryRequest(id=str(dead.id))

    # A clerk reads deliveries but may not retry them; another store's manager does not see it.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.RetryDelivery(retry, metadata=w.md(w.token("clerk", store)))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.RetryDelivery(retry, metadata=w.md(w.token("store_manager", random_store())))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.RetryDelivery(
            pb.RetryDeliveryRequest(id="nope"), metadata=w.md(w.token("hq_admin", "HQ"))
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    manager = w.token("store_manager", store)
    retried = await w.api.RetryDelivery(retry, metadata=w.md(manager))
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, "")
    assert retried.next_attempt_at.ToDatetime(tzinfo=now.tzinfo) <= DAYTIME
    # Retrying it again before the sender ran is a conflict that says why.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.RetryDelivery(retry, metadata=w.md(manager))
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "is pending, not dead" in (err.value.details() or "")

    sms_provider.down = False  # the provider is back: the sender sends it
    await sender.send_due(w.ctx, DAYTIME)
    sent = await _sms(w, member.member_no)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert [m["to"] for m in sms_provider.received if m["to"] == member.phone] == [member.phone]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.RetryDelivery(retry, metadata=w.md(manager))
    assert err.value.code() == grpc.StatusCode.ABORTED


async def test_rest_retry_of_a_dead_notification(notify_gateway) -> None:
    gw, w = notify_gateway, notify_gateway.world
    store = random_store()
    member = await w.register(store, sms=True, email=False, wechat=False)
    sms = await _sms(w, member.member_no)
    async with w.ctx.db.transaction() as s:  # as the sender leaves it after the last attempt
        await s.execute(
            update(deliveries)
            .where(deliveries.c.id == sms.id)
            .values(status="dead", attempts=5, last_error="503")
        )
    path = f"/api/v1/notifications/{sms.id}/retry"
    r = await gw.call("POST", path, w.token("clerk", store))
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    r = await gw.call("POST", path, w.token("region_manager", random_store().rsplit("/", 1)[0]))
    assert r.status_code == 404, r.text

    manager = w.token("store_manager", store)
    r = await gw.call("POST", path, manager)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"], body["attempts"], body["last_error"]) == (
        str(sms.id),
        "pending",
        0,
        "",
    )
    r = await gw.call("POST", path, manager)
    assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    assert "pending" in r.json()["detail"]
    r = await gw.call("GET", "/api/v1/audit-log", w.token("hq_admin", "HQ"),
                      params={"action": "notify.delivery.retry", "target_id": str(sms.id)})  # fmt: skip
    assert [a["action"] for a in r.json()["items"]] == ["notify.delivery.retry"]
