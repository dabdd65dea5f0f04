"""Wallet's own copy of the cards (services/wallet/cards.py): a payment reads the card's status
from it, never from members. Members pushes a block before it commits (wallet down: the block
fails and the card is unchanged), an unblock after; members' events fill in the rest and a late
or repeated one never overwrites a newer state; a card wallet never heard of is asked of members
once. A world of its own (members, wallet, gateway), so its services can be stopped."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest
from sqlalchemy import text

from chainclub.events.v1 import members_pb2 as mev
from chainclub.members.v1 import members_pb2, members_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import KeySet
from kit.events import cloudevent_headers
from kit.runtime import Service
from kit.testing import Infra, eventually
from services.members.cards import change_status
from services.members.main import spec as members_spec
from services.wallet.main import spec as wallet_spec
from tests.support import consumed
from tests.wallet.conftest import WalletWorld, serving_wallet_world
from tests.wallet.helpers import buckets, card_type_grpc, execute, fails, funded, issue, pay, shop

pytestmark = pytest.mark.integration

FAILED = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture(scope="module")
async def w(infra: Infra) -> AsyncIterator[WalletWorld]:
    async with serving_wallet_world(infra, "wc") as world:
        yield world


async def stored(w: WalletWorld, card_no: str) -> tuple[str, int] | None:
    """(status, version) of the card in wallet's database (None: wallet has not heard of it)."""
    async with w.wallet_service.runtime.db.sessions() as session:  # type: ignore[union-attr]
        row = (
            await session.execute(
                text("SELECT status, version FROM cards WHERE card_no = :c"), {"c": card_no}
            )
        ).first()
    return (row.status, row.version) if row else None


async def in_members(w: WalletWorld, card_no: str) -> tuple[str, int]:
    """(status, version) of the card in members (its GetCard)."""
    async with grpc.aio.insecure_channel(w.settings.members_addr) as channel:
        card = await members_pb2_grpc.MembersServiceStub(channel).GetCard(
            members_pb2.GetCardRequest(card_no=card_no),
            metadata=w.md(w.token_for("service", "HQ")),
            timeout=10,
        )
    return card.status, card.version


async def members_status(w: WalletWorld, s, card_no: str) -> str:  # type: ignore[no-untyped-def]
    r = await w.call("GET", f"/api/v1/cards/{card_no}", s.clerk)
    assert r.status_code == 200, r.text
    return r.json()["status"]


async def act(w: WalletWorld, s, card_no: str, action: str) -> None:  # type: ignore[no-untyped-def]
    r = await w.call("POST", f"/api/v1/cards/{card_no}/{action}", s.clerk)
    assert r.status_code == 200, r.text


async def restart_wallet(w: WalletWorld) -> None:
    """Wallet's process back on its address (a new channel: the old one may be backing off)."""
    w.wallet_service = Service(wallet_spec(), w.settings)
    await w.wallet_service.start(w.settings.wallet_addr)
    await w.channel.close()  # type: ignore[union-attr]
    w.channel = grpc.aio.insecure_channel(w.settings.wallet_addr)


async def test_an_issued_card_reaches_wallet_by_its_event(w):
    s = await shop(w)
    card = await w.card(s.clerk)
    issued = await in_members(w, card)
    assert issued[0] == "active"
    assert await eventually(lambda: stored(w, card), what="the card issued event in wallet") == issued


async def test_report_lost_then_pay_at_once_is_refused(w):
    s = await shop(w)
    card = await funded(w, s, 5_000)
    await act(w, s, card, "report-loss")
    assert (await stored(w, card))[0] == "lost"  # pushed before members committed it
    assert await stored(w, card) == await in_members(w, card)
    err = await fails(pay(w, s.grpc_clerk, card, 100))
    assert (err.code, err.reason, err.detail) == (FAILED, "card_lost", "the card is reported lost")
    assert await buckets(w, s.clerk, card) == (5_000, 0)


async def test_an_unblock_reaches_wallet_and_the_card_pays_again(w):
    s = await shop(w)
    card = await funded(w, s, 5_000)
    await act(w, s, card, "freeze")
    err = await fails(pay(w, s.grpc_clerk, card, 100))
    assert (err.reason, err.detail) == ("card_frozen", "the card is frozen")
    await act(w, s, card, "unfreeze")
    assert (await stored(w, card))[0] == "active"  # told right after members committed
    assert await stored(w, card) == await in_members(w, card)
    assert (await pay(w, s.grpc_clerk, card, 100)).balance.total == 4_900


async def test_an_older_status_never_overwrites_a_newer_one(w):
    s = await shop(w)
    card = await funded(w, s, 5_000)
    seen = []
    for action in ("freeze", "unfreeze", "report-loss"):
        await act(w, s, card, action)
        seen.append(await stored(w, card))
    (_, frozen), (_, unfrozen), newest = seen
    assert frozen < unfrozen < newest[1] and newest == ("lost", newest[1]) == await in_members(w, card)
    balance = await w.wallet.GetBalance(
        pb.GetBalanceRequest(card_no=card), metadata=w.md(s.grpc_clerk), timeout=10
    )
    account = balance.account_id
    # A late event of the unfreeze (active), as a redelivery or a slow relay would bring it.
    late = mev.CardStatusChanged(
        card_no=card, member_no="", from_status="frozen", to_status="active", home_store_path=s.path,
        acting_store_path=s.path, actor="test", version=unfrozen, account_id=account, card_type="std",
    )  # fmt: skip
    bus = w.wallet_service.runtime.bus  # type: ignore[union-attr]
    event_id = str(uuid.uuid4())
    headers = cloudevent_headers(
        event_id=event_id, subject="members.card.status_changed", type_=late.DESCRIPTOR.full_name,
        source="chainclub/members", time=datetime.now(UTC), traceparent=None,
    )  # fmt: skip
    ack = await bus.js.publish(
        "members.card.status_changed", late.SerializeToString(), headers=headers, timeout=5
    )
    await consumed(bus.js, "MEMBERS", "wallet-members", ack.seq)
    assert await stored(w, card) == newest
    # The same through the push: an older (or equal) version changes nothing.
    old = pb.CardState(card_no=card, account_id=account, member_no="x", status="active", home_store_path=s.path,
                       card_type="std", version=unfrozen)  # fmt: skip
    reply = await w.wallet.SetCardStatus(
        pb.SetCardStatusRequest(cards=[old]), metadata=w.md(w.token_for("service", "HQ")), timeout=10
    )
    assert reply.applied == 0
    assert await stored(w, card) == newest
    assert (await fails(pay(w, s.grpc_clerk, card, 100))).reason == "card_lost"


async def test_a_card_type_scope_change_reaches_wallet_before_it_returns(w):
    home = await shop(w)
    away = await shop(w)
    ctype = await card_type_grpc(w, home_scope=f"HQ/{home.region}")
    card = await issue(w, home.clerk, (await w.register(home.clerk))["member_no"], ctype)
    assert (await w.top_up(home.clerk, card, 2_000)).status_code == 201
    assert (await fails(pay(w, away.grpc_clerk, card, 500))).reason == "forbidden"

    async def scope(home_scope: str) -> None:
        async with grpc.aio.insecure_channel(w.settings.members_addr) as channel:
            await members_pb2_grpc.MembersServiceStub(channel).UpsertCardType(
                members_pb2.CardType(code=ctype, name=f"type {ctype}", kind="personal", active=True, max_holders=1,
                                     home_scope=home_scope),
                metadata=w.md(w.token_for("hq_admin", "HQ")), timeout=10,
            )  # fmt: skip

    await scope("")  # usable chain-wide now
    assert (await pay(w, away.grpc_clerk, card, 500)).balance.total == 1_500
    await scope(f"HQ/{home.region}")  # and narrowed again
    err = await fails(pay(w, away.grpc_clerk, card, 500))
    assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "forbidden")
    assert await stored(w, card) == await in_members(w, card)
    assert (await pay(w, home.grpc_clerk, card, 500)).balance.total == 1_000


async def test_staff_may_tell_wallet_of_a_block_only(w):
    s = await shop(w)
    card = await funded(w, s, 1_000)
    account = (
        await w.wallet.GetBalance(pb.GetBalanceRequest(card_no=card), metadata=w.md(s.grpc_clerk))
    ).account_id
    _, version = await in_members(w, card)

    def tell(role: str, scope: str, status: str, **fields):  # type: ignore[no-untyped-def]
        values = {"card_no": card, "account_id": account, "member_no": "x", "status": status,
                  "home_store_path": s.path, "card_type": "std", "version": version + 1, **fields}  # fmt: skip
        state = pb.CardState(**values)
        return w.wallet.SetCardStatus(
            pb.SetCardStatusRequest(cards=[state]), metadata=w.md(w.token_for(role, scope)), timeout=10
        )

    for role, scope, status in (
        ("clerk", s.path, "active"),
        ("auditor", "HQ", "lost"),
        ("distributor", s.path, "lost"),
    ):
        err = await fails(tell(role, scope, status))
        assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "forbidden")
    err = await fails(tell("service", "HQ", "lost", account_id="nope"))
    assert (err.reason, err.extra.get("field")) == ("invalid_argument", "account_id")
    assert await stored(w, card) == await in_members(w, card)
    assert (await tell("clerk", s.path, "lost")).applied == 1  # a block: any counter may
    assert await stored(w, card) == ("lost", version + 1)
    assert (await fails(pay(w, s.grpc_clerk, card, 100))).reason == "card_lost"


async def test_members_without_a_key_of_its_own_tells_blocks_with_the_staff_token(w):
    """A members process holding only the public keys (as production may run it): the block is
    told with the clerk's token before it commits, the unblock is refused to that token and
    reaches wallet by the card's event — the card stays blocked until then."""
    s = await shop(w)
    card = await funded(w, s, 2_000)
    # a copy of the service's context whose wallet client cannot sign (the service's own can)
    wallet = copy.copy(w.service.context.wallet)
    wallet.token = None
    ctx = dataclasses.replace(w.service.context, wallet=wallet)
    clerk = KeySet.from_settings(w.settings).verify(s.grpc_clerk)
    await change_status(ctx, clerk, members_pb2.ChangeCardStatusRequest(card_no=card, action="report_loss"))
    assert await stored(w, card) == await in_members(w, card)
    assert (await stored(w, card))[0] == "lost"
    assert (await fails(pay(w, s.grpc_clerk, card, 100))).reason == "card_lost"
    await change_status(ctx, clerk, members_pb2.ChangeCardStatusRequest(card_no=card, action="cancel_loss"))
    unblocked = await in_members(w, card)
    assert unblocked[0] == "active"

    async def heard() -> bool:
        return await stored(w, card) == unblocked

    await eventually(heard, what="the unblock by its event")
    assert (await pay(w, s.grpc_clerk, card, 100)).balance.total == 1_900


async def test_a_card_wallet_never_heard_of_is_asked_of_members_once(w):
    s = await shop(w)
    card = await funded(w, s, 3_000)
    lost = await funded(w, s, 3_000)
    await act(w, s, lost, "report-loss")
    for c in (card, lost):
        await eventually(lambda c=c: stored(w, c), what="the card in wallet")
    # As cards issued before wallet kept them (or whose event is still on its way):
    await execute(w, "DELETE FROM cards WHERE card_no = ANY(:cs)", cs=[card, lost])
    assert (await pay(w, s.grpc_clerk, card, 1_000)).balance.total == 2_000
    assert await stored(w, card) == await in_members(w, card)
    assert (await fails(pay(w, s.grpc_clerk, lost, 1_000))).reason == "card_lost"
    assert await stored(w, lost) == await in_members(w, lost)
    assert (await stored(w, lost))[0] == "lost"


async def test_payments_need_no_members(w):
    s = await shop(w)
    card = await funded(w, s, 4_000)
    frozen = await funded(w, s, 4_000)
    await act(w, s, frozen, "freeze")
    await w.service.stop()
    try:
        assert (await pay(w, s.grpc_clerk, card, 1_500)).balance.total == 2_500
        assert (await fails(pay(w, s.grpc_clerk, frozen, 100))).reason == "card_frozen"
    finally:
        w.service = Service(members_spec(), w.settings)
        await w.service.start(w.settings.members_addr)

    async def reached() -> bool:  # the gateway's and wallet's channels to members reconnect with a backoff
        codes = [
            (await w.call("GET", path, s.clerk)).status_code
            for path in (f"/api/v1/cards/{card}", f"/api/v1/cards/{card}/balance")
        ]
        return codes == [200, 200]

    await eventually(reached, timeout=30, what="members reached again")


async def test_wallet_down_the_report_fails_and_the_card_is_unchanged(w):
    s = await shop(w)
    card = await funded(w, s, 5_000)
    await w.wallet_service.stop()  # type: ignore[union-attr]
    try:
        r = await w.call("POST", f"/api/v1/cards/{card}/report-loss", s.clerk)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "unavailable"
        assert await members_status(w, s, card) == "active"  # nothing changed in members
    finally:
        await restart_wallet(w)
    before = await in_members(w, card)
    assert before[0] == "active"
    assert await eventually(lambda: stored(w, card), what="the card in wallet") == before
    # Wallet back: the report succeeds (once members' channel reconnected) and the card is refused.
    deadline = time.monotonic() + 30
    while (r := await w.call("POST", f"/api/v1/cards/{card}/report-loss", s.clerk)).status_code != 200:
        assert r.status_code == 503, r.text
        assert time.monotonic() < deadline, "members never reached wallet again"
        await asyncio.sleep(0.2)  # members' channel to wallet reconnects with a backoff
    assert await members_status(w, s, card) == "lost"
    assert await stored(w, card) == await in_members(w, card)
    assert (await stored(w, card))[0] == "lost"
    err = await fails(pay(w, s.grpc_clerk, card, 100))
    assert (err.code, err.reason) == (FAILED, "card_lost")
    assert await buckets(w, s.clerk, card) == (5_000, 0)
