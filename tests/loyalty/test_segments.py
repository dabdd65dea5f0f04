"""Segments on real PostgreSQL: purchases made with Reserve/Confirm (some moved back in
time), recomputed on demand, read per scope; coupon issuance by segment."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import update

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from services.loyalty import segments
from services.loyalty.models import purchases
from tests.loyalty.conftest import random_member_no

pytestmark = pytest.mark.integration


async def buy(w, store: str, member_no: str, amount: int, days_ago: float = 0) -> str:  # type: ignore[no-untyped-def]
    cid = "seg-" + uuid.uuid4().hex
    q = pb.QuoteRequest(
        member_no=member_no, card_no="C" + member_no, store_path=store,
        lines=[pb.Line(sku="A", name="apple", category="food", qty=1, unit_price=amount)],
    )  # fmt: skip
    md = w.md("clerk", store)
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=q), metadata=md)
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=md)
    if days_ago:
        async with w.db.transaction() as s:
            await s.execute(
                update(purchases)
                .where(purchases.c.checkout_id == cid)
                .values(created_at=purchases.c.created_at - timedelta(days=days_ago))
            )
    return cid


def counts(report) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {c.segment: c.count for c in report.counts}


async def test_segments_from_purchases(loyalty_world) -> None:  # type: ignore[no-untyped-def]
    w = loyalty_world
    region = "HQ/SG" + uuid.uuid4().hex[:6].upper()
    store, other = f"{region}/S1", f"{region}/S2"
    ally, butterfly, barnacle, stranger = (random_member_no() for _ in range(4))
    for d in (200, 100, 40, 10):  # first purchase 200 days ago: not new
        await buy(w, store, ally, 50_000, d)
    await buy(w, store, butterfly, 90_000, 120)  # one big purchase 120 days ago: at risk
    for d in (150, 120, 60, 5):  # spent 30 000 in 180..90, 2 000 in the last 90: declining
        await buy(w, store, barnacle, 15_000 if d > 90 else 1_000, d)
    await buy(w, store, stranger, 1_000, 300)  # churned
    newcomer = random_member_no()
    await buy(w, other, newcomer, 2_000, 3)

    r = await w.stub.RecomputeSegments(pb.RecomputeSegmentsRequest(), metadata=w.hq)
    assert r.members >= 5

    region_mgr = w.md("region_manager", region)
    quad = await w.stub.GetQuadrants(pb.SegmentQuery(store_path=store), metadata=region_mgr)
    assert quad.scope == store
    by = {m.member_no: m for m in quad.items}
    assert set(by) == {ally, butterfly, barnacle, stranger}
    assert {k: by[v].quadrant for k, v in dict(a=ally, b=butterfly, c=barnacle, d=stranger).items()} == {
        "a": "ally", "b": "butterfly", "c": "barnacle", "d": "stranger",
    }  # fmt: skip
    assert counts(quad) == {"ally": 1, "butterfly": 1, "barnacle": 1, "stranger": 1}
    only = await w.stub.GetQuadrants(pb.SegmentQuery(store_path=store, segment="ally"), metadata=region_mgr)
    assert [m.member_no for m in only.items] == [ally]

    life = await w.stub.GetLifecycle(pb.SegmentQuery(), metadata=region_mgr)  # the whole region
    assert life.scope == region
    stages = {m.member_no: m.lifecycle for m in life.items}
    assert stages == {
        ally: "active", butterfly: "at_risk", barnacle: "declining", stranger: "churned", newcomer: "new",
    }  # fmt: skip
    assert counts(life) == {"new": 1, "active": 1, "declining": 1, "at_risk": 1, "churned": 1}

    rfm = await w.stub.GetRfm(pb.SegmentQuery(store_path=store, page={"limit": 2}), metadata=region_mgr)
    assert rfm.members == 4 and len(rfm.items) == 2 and rfm.page.next_cursor == "2"
    assert [sum(c.count for c in dist) for dist in (rfm.r, rfm.f, rfm.m)] == [4, 4, 4]
    assert rfm.items[0].member_no == ally and (rfm.items[0].f, rfm.items[0].m) == (
        4,
        5,
    )  # F tied with barnacle
    rest = await w.stub.GetRfm(
        pb.SegmentQuery(store_path=store, page={"limit": 2, "cursor": "2"}), metadata=region_mgr
    )
    assert len(rest.items) == 2 and not rest.page.next_cursor
    first = {m.member_no: m for m in list(rfm.items) + list(rest.items)}
    assert first[ally].frequency == 4 and first[ally].monetary == 200_000
    assert first[stranger].frequency == 1 and first[stranger].recency_days == 300

    got = await w.stub.MembersInSegment(pb.MembersInSegmentRequest(segment="churned"), metadata=region_mgr)
    assert list(got.member_nos) == [stranger]

    # another region's manager sees none of it; a store outside the scope is refused
    outsider = w.md("region_manager", "HQ/ELSEWHERE")
    none = await w.stub.GetLifecycle(pb.SegmentQuery(), metadata=outsider)
    assert not ({m.member_no for m in none.items} & {ally, butterfly, barnacle, stranger, newcomer})
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.GetRfm(pb.SegmentQuery(store_path=store), metadata=outsider)
    assert from_rpc_error(exc.value).reason in ("not_found", "forbidden", "out_of_scope")
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.GetRfm(pb.SegmentQuery(store_path=store), metadata=w.md("clerk", store))
    assert from_rpc_error(exc.value).reason == "forbidden"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.MembersInSegment(pb.MembersInSegmentRequest(segment="vip"), metadata=region_mgr)
    assert from_rpc_error(exc.value).reason == "invalid_argument"

    # coupons to a segment: only the members of that segment in the caller's scope
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="win back", kind="amount_off", amount_off=500), metadata=w.hq
    )
    issued = await w.stub.IssueCoupons(
        pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, segment="at_risk"),
        metadata=w.hq,
    )
    assert issued.issued >= 1
    mine = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=butterfly), metadata=w.hq)
    assert [c.template_id for c in mine.coupons] == [tpl.id]
    theirs = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=ally), metadata=w.hq)
    assert tpl.id not in [c.template_id for c in theirs.coupons]


async def test_recompute_as_of_a_later_day(loyalty_world) -> None:  # type: ignore[no-untyped-def]
    """The job's function takes ``now``: a member active today is churned 200 days on."""
    w = loyalty_world
    store = "HQ/SG" + uuid.uuid4().hex[:6].upper() + "/S1"
    m = random_member_no()
    await buy(w, store, m, 3_000, 40)
    ctx = w.service.context
    await segments.recompute(ctx, ctx.now() + timedelta(days=200))
    got = await w.stub.MembersInSegment(
        pb.MembersInSegmentRequest(segment="churned", store_path=store), metadata=w.hq
    )
    assert list(got.member_nos) == [m]
    await segments.recompute(ctx)
    got = await w.stub.MembersInSegment(
        pb.MembersInSegmentRequest(segment="active", store_path=store), metadata=w.hq
    )
    assert list(got.member_nos) == [m]
