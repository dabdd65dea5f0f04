"""ListMemberDates: birthdays and join anniversaries on a date, for service callers only,
within their scope, leap days greeted on 28 February of a common year."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from sqlalchemy import update

from chainclub.members.v1 import members_pb2 as pb
from chainclub.members.v1 import members_pb2_grpc
from services.members.celebrations import days_celebrated_on
from services.members.models import members


def test_leap_day_is_celebrated_on_28_february_of_a_common_year() -> None:
    assert days_celebrated_on(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert days_celebrated_on(date(2028, 2, 28)) == [(2, 28)]
    assert days_celebrated_on(date(2028, 2, 29)) == [(2, 29)]


async def _dates(world, token: str, kind: str, day: str) -> pb.ListMemberDatesResponse:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(world.settings.members_addr) as channel:
        return await members_pb2_grpc.MembersServiceStub(channel).ListMemberDates(
            pb.ListMemberDatesRequest(kind=kind, date=day),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )


async def test_member_dates_for_services_in_scope_without_names(world) -> None:
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    path = f"HQ/{region}/{store}"
    clerk = await world.staff("clerk", store)
    leap = await world.register(clerk, birthday="1992-02-29")
    plain = await world.register(clerk, birthday="1985-02-28")
    await world.register(clerk, birthday="1985-03-01")
    async with world.service.runtime.db.transaction() as s:
        await s.execute(
            update(members)
            .where(members.c.member_no == leap["member_no"])
            .values(joined_on=date(2020, 5, 10))
        )
        await s.execute(update(members).where(members.c.member_no == plain["member_no"]).values(joined_on=date(2026, 5, 10)))  # fmt: skip

    service = world.service_token(f"HQ/{region}")
    got = await _dates(world, service, "birthday", "2027-02-28")
    assert sorted(m.member_no for m in got.members) == sorted([leap["member_no"], plain["member_no"]])
    assert {m.home_store_path for m in got.members} == {path} and {m.years for m in got.members} == {0}
    assert [m.member_no for m in (await _dates(world, service, "birthday", "2028-02-28")).members] == [
        plain["member_no"]
    ]
    got = await _dates(world, service, "anniversary", "2026-05-10")  # joined this year: no anniversary yet
    assert [(m.member_no, m.years) for m in got.members] == [(leap["member_no"], 6)]

    other = world.service_token("HQ/NOT-THIS-REGION")
    assert list((await _dates(world, other, "birthday", "2027-02-28")).members) == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _dates(world, clerk, "birthday", "2027-02-28")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for kind, day in (("wedding", "2027-02-28"), ("birthday", "2027-02-30")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _dates(world, service, kind, day)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (kind, day)


async def test_visits_on_behalf_of_staff_are_for_services_only(world) -> None:
    region = await world.unit("region", "HQ")
    home, away = await world.unit("store", region), await world.unit("store", region)
    clerk = await world.staff("clerk", home)
    member = await world.register(clerk)
    visit = pb.AddVisitRequest(member_no=member["member_no"], channel="phone", outcome="ok",
                               store_path=f"HQ/{region}/{away}", on_behalf_of="clerk-7")  # fmt: skip
    async with grpc.aio.insecure_channel(world.settings.members_addr) as channel:
        stub = members_pb2_grpc.MembersServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:  # staff may not name someone else
            await stub.AddVisit(visit, metadata=(("authorization", f"Bearer {clerk}"),), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        own = pb.AddVisitRequest(member_no=member["member_no"], channel="phone", outcome="ok",
                                 store_path=f"HQ/{region}/{away}")  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as err:  # a store outside the clerk's scope
            await stub.AddVisit(own, metadata=(("authorization", f"Bearer {clerk}"),), timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        done = await stub.AddVisit(
            visit, metadata=(("authorization", f"Bearer {world.service_token()}"),), timeout=10
        )
    assert (done.staff, done.store_path) == ("clerk-7", f"HQ/{region}/{away}")
