"""The points liability (GetPointsLiability): points held per home store within the scope, and
what of it expires within 30 and 90 days (a lot is good through its expires_on)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from services.loyalty import points as points_uc
from tests.loyalty.conftest import random_member_no

pytestmark = pytest.mark.integration


async def holding(w, home: str, *lots: tuple[int, int]) -> str:  # type: ignore[no-untyped-def]
    """A member of ``home`` holding ``(points, days until they expire)`` lots."""
    member_no = random_member_no()
    ctx = w.service.context
    today = ctx.local_date(ctx.now())
    async with w.db.transaction() as s:
        account = await points_uc.ensure_account(s, member_no, home)
        for points, days in lots:
            await points_uc.add_lot(ctx, s, account, points, source="bonus", reference="test", now=ctx.now(),
                                    expires_on=today + timedelta(days=days))  # fmt: skip
    return member_no


async def test_the_liability_sums_points_per_home_store_and_what_expires_soon(loyalty_world):
    w = loyalty_world
    region, elsewhere = f"HQ/L{uuid.uuid4().hex[:6]}", f"HQ/O{uuid.uuid4().hex[:6]}"
    s1, s2 = f"{region}/S1", f"{region}/S2"
    await holding(w, s1, (100, 10), (200, 60), (300, 200))
    await holding(w, s1, (40, 0))  # good through today: expiring within 30 days
    await holding(w, s2, (50, 30), (7, 90), (9, 91))
    await holding(w, s2)  # an account holding nothing is no liability
    await holding(w, f"{elsewhere}/S3", (1_000, 5))

    manager = w.md("region_manager", region)
    got = await w.stub.GetPointsLiability(pb.GetPointsLiabilityRequest(), metadata=manager)
    ctx = w.service.context
    assert (got.org_path, got.as_of) == (region, ctx.local_date(ctx.now()).isoformat())
    figures = [
        (s.store_path, s.members, s.outstanding, s.expiring_30_days, s.expiring_90_days) for s in got.stores
    ]
    assert figures == [(s1, 2, 640, 140, 340), (s2, 1, 66, 50, 57)]

    one = await w.stub.GetPointsLiability(pb.GetPointsLiabilityRequest(org_path=s2), metadata=w.hq)
    assert [(s.store_path, s.outstanding) for s in one.stores] == [(s2, 66)]
    with pytest.raises(grpc.aio.AioRpcError) as outside:
        await w.stub.GetPointsLiability(pb.GetPointsLiabilityRequest(org_path=elsewhere), metadata=manager)
    assert outside.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as clerk:
        await w.stub.GetPointsLiability(pb.GetPointsLiabilityRequest(), metadata=w.md("clerk", s1))
    assert clerk.value.code() == grpc.StatusCode.PERMISSION_DENIED
