"""docs/design.md §7 invariant 7: a lost or frozen card cannot pay from the moment the request to
block it returns. A payment reads the card from wallet's own copy, which members tells of a
block before the block commits: right after the block returned, both members (GetCard) and
wallet's copy must already say blocked, whatever the events are doing; an unblock is told
right after it commits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.members.helpers import assert_problem, members_grpc

pytestmark = pytest.mark.integration

CARDS = 20


async def in_wallet(world, card_no: str) -> str | None:  # type: ignore[no-untyped-def]
    """The card's status in wallet's copy (None: wallet has not heard of it)."""
    async with world.wallet_service.runtime.db.sessions() as session:
        return (
            await session.execute(text("SELECT status FROM cards WHERE card_no = :c"), {"c": card_no})
        ).scalar()


@pytest.fixture
async def clerk(world):
    return await world.staff("clerk", await world.unit("store", await world.unit("region", "HQ")))


async def test_status_is_visible_to_wallet_as_soon_as_each_request_returns(world, clerk):
    members = await asyncio.gather(*(world.register(clerk) for _ in range(CARDS)))
    cards = [m["card"]["card_no"] for m in members]
    async with members_grpc(world) as client:

        async def block_and_unblock(card_no: str, block: str, unblock: str) -> list[tuple[str, str | None]]:
            seen = []
            r = await world.call("POST", f"/api/v1/cards/{card_no}/{block}", clerk)
            assert r.status_code == 200, r.text
            seen.append(((await client.get_card(card_no)).status, await in_wallet(world, card_no)))
            r = await world.call("POST", f"/api/v1/cards/{card_no}/{unblock}", clerk)
            assert r.status_code == 200, r.text
            seen.append(((await client.get_card(card_no)).status, await in_wallet(world, card_no)))
            return seen

        lost = await asyncio.gather(*(block_and_unblock(c, "report-loss", "cancel-loss") for c in cards))
        assert lost == [[("lost", "lost"), ("active", "active")]] * CARDS
        frozen = await asyncio.gather(*(block_and_unblock(c, "freeze", "unfreeze") for c in cards))
        assert frozen == [[("frozen", "frozen"), ("active", "active")]] * CARDS


async def test_block_from_another_region_is_visible_at_once(world, clerk):
    m = await world.register(clerk)
    elsewhere = await world.terminal(await world.unit("store", await world.unit("region", "HQ")))
    async with members_grpc(world) as wallet:
        r = await world.call("POST", f"/api/v1/cards/{m['card']['card_no']}/report-loss", elsewhere)
        assert r.status_code == 200, r.text
        assert (await wallet.get_card(m["card"]["card_no"])).status == "lost"
        assert await in_wallet(world, m["card"]["card_no"]) == "lost"
    r = await world.call("POST", "/api/v1/members/identify", clerk, json={"card_no": m["card"]["card_no"]})
    assert r.json()["card"]["status"] == "lost"


async def test_concurrent_double_report_loss_has_one_winner(world, clerk):
    members = await asyncio.gather(*(world.register(clerk) for _ in range(5)))
    async with members_grpc(world) as wallet:
        for m in members:
            card = m["card"]["card_no"]
            rs = await asyncio.gather(
                *(world.call("POST", f"/api/v1/cards/{card}/report-loss", clerk) for _ in range(2))
            )
            assert sorted(r.status_code for r in rs) == [200, 409], [r.text for r in rs]
            assert_problem(next(r for r in rs if r.status_code == 409), 409, "invalid_card_state")
            assert (await wallet.get_card(card)).status == "lost"


async def test_concurrent_replace_issues_exactly_one_new_card(world, clerk):
    m = await world.register(clerk)
    card = m["card"]["card_no"]
    r = await world.call("POST", f"/api/v1/cards/{card}/freeze", clerk)
    assert r.status_code == 200, r.text
    rs = await asyncio.gather(*(world.call("POST", f"/api/v1/cards/{card}/replace", clerk) for _ in range(3)))
    assert sorted(r.status_code for r in rs) == [201, 409, 409], [r.text for r in rs]
    got = (await world.call("GET", f"/api/v1/members/{m['member_no']}", clerk)).json()
    assert sorted(c["status"] for c in got["cards"]) == ["active", "replaced"]
