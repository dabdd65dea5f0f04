"""Follow-ups created for a batch of members (CreateFollowUps) on the real notify service:
one task per member at the home store, idempotent per (batch key, member), the caller's scope
and the input checked, and completing one records the visit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from chainclub.members.v1 import members_pb2
from chainclub.notify.v1 import notify_pb2 as pb
from kit.errors import from_rpc_error
from tests.notify.conftest import CHAIN_TZ, random_store

pytestmark = pytest.mark.integration


def in_days(n: int) -> str:
    return (datetime.now(UTC).astimezone(CHAIN_TZ).date() + timedelta(days=n)).isoformat()


def request(key: str, members: list[members_pb2.Member], **kw) -> pb.CreateFollowUpsRequest:  # type: ignore[no-untyped-def]
    targets = [pb.FollowUpTarget(member_no=m.member_no, home_store_path=m.home_store_path) for m in members]
    values = {"batch_key": key, "purpose": "回访：近期未消费", "due_on": in_days(2), **kw}
    return pb.CreateFollowUpsRequest(targets=targets, **values)


async def test_a_batch_creates_one_follow_up_per_member_once(notify_world) -> None:  # type: ignore[no-untyped-def]
    w = notify_world
    region = f"HQ/B{uuid.uuid4().hex[:6].upper()}"
    one, two = f"{region}/S1", f"{region}/S2"
    a = await w.register(one, sms=False, email=False, wechat=False)
    b = await w.register(two, sms=False, email=False, wechat=False)
    manager = w.md(w.token("region_manager", region))
    key = "batch-" + uuid.uuid4().hex

    first = await w.api.CreateFollowUps(request(key, [a, b]), metadata=manager)
    assert (first.created, first.existing) == (2, 0)
    again = await w.api.CreateFollowUps(request(key, [a, b]), metadata=manager)
    assert (again.created, again.existing) == (0, 2)
    other_batch = await w.api.CreateFollowUps(request("other-" + key, [a]), metadata=manager)
    assert (other_batch.created, other_batch.existing) == (1, 0)

    store_clerk = w.md(w.token("clerk", two))
    listed = await w.api.ListFollowUps(pb.ListFollowUpsRequest(due_before=in_days(3)), metadata=store_clerk)
    assert [
        (f.member_no, f.store_path, f.stage, f.due_on, f.purpose, f.batch_key) for f in listed.follow_ups
    ] == [(b.member_no, two, "ask", in_days(2), "回访：近期未消费", key)]
    region_list = await w.api.ListFollowUps(pb.ListFollowUpsRequest(), metadata=manager)
    assert sorted(f.member_no for f in region_list.follow_ups) == sorted(
        [a.member_no, a.member_no, b.member_no]
    )

    done = await w.api.CompleteFollowUp(
        pb.CompleteFollowUpRequest(id=listed.follow_ups[0].id, outcome="已联系"), metadata=store_clerk
    )
    assert done.status == "done" and done.visit_id and done.purpose == "回访：近期未消费"


async def test_a_batch_is_refused_whole_outside_the_scope_or_with_bad_input(notify_world) -> None:  # type: ignore[no-untyped-def]
    w = notify_world
    mine, theirs = random_store(), random_store()
    a = await w.register(mine, sms=False, email=False, wechat=False)
    b = await w.register(theirs, sms=False, email=False, wechat=False)
    manager = w.md(w.token("store_manager", mine))
    key = "batch-" + uuid.uuid4().hex

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.CreateFollowUps(request(key, [a, b]), metadata=manager)
    assert from_rpc_error(err.value).reason in ("not_found", "out_of_scope")
    cases = {
        "due_on": request(key, [a], due_on=in_days(-1)),
        "purpose": request(key, [a], purpose=" "),
        "batch_key": request("", [a]),
        "targets": request(key, []),
    }
    for field, bad in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await w.api.CreateFollowUps(bad, metadata=manager)
        problem = from_rpc_error(err.value)
        assert problem.reason == "invalid_argument" and problem.extra.get("field") == field, (field, problem)
    clerk = w.md(w.token("clerk", mine))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.CreateFollowUps(request(key, [a]), metadata=clerk)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = await w.api.ListFollowUps(pb.ListFollowUpsRequest(due_before=in_days(30)), metadata=clerk)
    assert [f for f in listed.follow_ups if f.batch_key == key] == []
