"""Top-ups, their preview, fees and reads take the card from wallet's own copy
(services/wallet/cards.py) with its type's limits and fees: members stopped, they still work
and refuse as before; a change of a type's limits reaches wallet before it returns; a new card
brings its type's terms by its event; a card whose terms wallet has not heard of is asked of
members once. A world of its own (members, wallet, gateway), so members can be stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sqlalchemy import text

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.runtime import Service
from kit.testing import Infra, eventually
from services.members.main import spec as members_spec
from tests.wallet.conftest import WalletWorld, serving_wallet_world
from tests.wallet.helpers import card_type_grpc, execute, fails, issue, key, scalar, shop, top_up_grpc

pytestmark = pytest.mark.integration

TERMS = ("max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee")


@pytest.fixture(scope="module")
async def w(infra: Infra) -> AsyncIterator[WalletWorld]:
    async with serving_wallet_world(infra, "wt") as world:
        yield world


async def held(w: WalletWorld, card_no: str) -> dict[str, Any] | None:
    """The card's status, version and terms in wallet's copy (None: not heard of)."""
    async with w.wallet_service.runtime.db.sessions() as session:  # type: ignore[union-attr]
        row = (
            await session.execute(
                text(f"SELECT status, version, {', '.join(TERMS)} FROM cards WHERE card_no = :c"),
                {"c": card_no},
            )
        ).first()
    return dict(row._mapping) if row else None


async def in_members(w: WalletWorld, card_no: str) -> dict[str, Any]:
    """The same as members answers it (GetCard)."""
    async with grpc.aio.insecure_channel(w.settings.members_addr) as channel:
        card = await members_pb2_grpc.MembersServiceStub(channel).GetCard(
            members_pb2.GetCardRequest(card_no=card_no),
            metadata=w.md(w.token_for("service", "HQ")),
            timeout=10,
        )
    return {"status": card.status, "version": card.version} | {t: getattr(card, t) for t in TERMS}


async def upsert_type(w: WalletWorld, code: str, **fields: Any) -> None:
    """HQ changes the card type (every field given again, as the upsert takes them)."""
    async with grpc.aio.insecure_channel(w.settings.members_addr) as channel:
        await members_pb2_grpc.MembersServiceStub(channel).UpsertCardType(
            members_pb2.CardType(
                code=code, name=f"type {code}", kind="personal", active=True, max_holders=1, **fields
            ),
            metadata=w.md(w.token_for("hq_admin", "HQ")),
            timeout=10,
        )


async def card_of_type(w: WalletWorld, s, ctype: str) -> str:  # type: ignore[no-untyped-def]
    """A new member's card of ``ctype``, once its event brought it to wallet with its terms."""
    card = await issue(w, s.clerk, (await w.register(s.clerk))["member_no"], ctype)
    issued = await in_members(w, card)
    assert await eventually(lambda: held(w, card), what="the issued card in wallet") == issued
    return card


async def restart_members(w: WalletWorld, s, card_no: str) -> None:  # type: ignore[no-untyped-def]
    """Members back on its address, once the gateway reaches it again (its channel reconnects
    with a backoff)."""
    w.service = Service(members_spec(), w.settings)
    await w.service.start(w.settings.members_addr)

    async def reached() -> bool:
        return (await w.call("GET", f"/api/v1/cards/{card_no}", s.clerk)).status_code == 200

    await eventually(reached, timeout=30, what="members reached again")


def top_up(w: WalletWorld, token: str, card_no: str, amount: int, request_id: str):  # type: ignore[no-untyped-def]
    return w.wallet.TopUp(
        pb.TopUpRequest(request_id=request_id, card_no=card_no, amount=amount, channel="cash"),
        metadata=w.md(token),
        timeout=15,
    )


async def test_top_ups_previews_fees_and_reads_need_no_members(w):
    s = await shop(w)
    ctype = await card_type_grpc(w, joining_fee=300, max_single_top_up=5_000, max_balance=8_000)
    card = await card_of_type(w, s, ctype)
    frozen = await card_of_type(w, s, ctype)
    r = await w.call("POST", f"/api/v1/cards/{frozen}/freeze", s.clerk)
    assert r.status_code == 200, r.text
    await w.service.stop()
    try:
        assert (await top_up_grpc(w, s.grpc_clerk, card, 2_000)).balance.total == 2_000
        preview = await w.wallet.PreviewTopUp(
            pb.PreviewTopUpRequest(card_no=card, amount=1_000, channel="cash"),
            metadata=w.md(s.grpc_clerk),
            timeout=10,
        )
        assert preview.amount == 1_000
        err = await fails(top_up_grpc(w, s.grpc_clerk, card, 6_000))
        assert (err.reason, err.detail) == ("limit_exceeded", "a single top-up may be at most 5000 fen")
        assert (await fails(top_up_grpc(w, s.grpc_clerk, frozen, 100))).reason == "card_frozen"
        fee = await w.wallet.ChargeFee(
            pb.ChargeFeeRequest(request_id=key(), card_no=card, fee_type="joining", payment="stored_value"),
            metadata=w.md(s.grpc_clerk),
            timeout=10,
        )
        assert (fee.amount, fee.balance.total) == (300, 1_700)
        balance = await w.wallet.GetBalance(pb.GetBalanceRequest(card_no=frozen), metadata=w.md(s.grpc_clerk))
        assert (balance.card_status, balance.total) == ("frozen", 0)
        listed = await w.wallet.ListTransactions(
            pb.ListTransactionsRequest(card_no=card), metadata=w.md(s.grpc_clerk)
        )
        assert [t.kind for t in listed.transactions] == ["fee", "topup"]
    finally:
        await restart_members(w, s, card)


async def test_a_card_type_limit_change_reaches_wallet_before_it_returns(w):
    s = await shop(w)
    ctype = await card_type_grpc(w, max_single_top_up=1_000, max_balance=3_000)
    card = await card_of_type(w, s, ctype)
    request_id = key()
    err = await fails(top_up(w, s.grpc_clerk, card, 1_500, request_id))
    assert (err.reason, err.detail) == ("limit_exceeded", "a single top-up may be at most 1000 fen")
    await upsert_type(w, ctype, max_single_top_up=2_000, max_balance=3_000)
    assert await held(w, card) == await in_members(w, card)
    # The single limit is checked before anything is kept, as it always was: the same request
    # goes through once the limit allows it.
    assert (await top_up(w, s.grpc_clerk, card, 1_500, request_id)).balance.total == 1_500
    err = await fails(top_up(w, s.grpc_clerk, card, 2_000, key()))
    assert (err.reason, err.detail) == (
        "limit_exceeded",
        "the balance would be 3500 fen, over the card's 3000 fen",
    )
    await upsert_type(w, ctype, max_single_top_up=2_000, max_balance=0)  # the deployment's default
    assert (await top_up(w, s.grpc_clerk, card, 2_000, key())).balance.total == 3_500
    assert await held(w, card) == await in_members(w, card)


async def test_terms_wallet_has_not_heard_of_are_asked_of_members_once(w):
    s = await shop(w)
    ctype = await card_type_grpc(w, max_single_top_up=4_000, annual_fee=700)
    card = await card_of_type(w, s, ctype)
    lost = await card_of_type(w, s, ctype)
    r = await w.call("POST", f"/api/v1/cards/{lost}/report-loss", s.clerk)
    assert r.status_code == 200, r.text
    # As cards wallet heard of from a status change alone (or an event older than the terms):
    nulls = ", ".join(f"{t} = NULL" for t in TERMS)
    await execute(w, f"UPDATE cards SET {nulls} WHERE card_no = ANY(:cs)", cs=[card, lost])
    assert (await top_up_grpc(w, s.grpc_clerk, card, 4_000)).balance.total == 4_000
    assert await held(w, card) == await in_members(w, card)
    assert (await fails(top_up_grpc(w, s.grpc_clerk, lost, 100))).reason == "card_lost"
    assert await held(w, lost) == await in_members(w, lost)
    err = await fails(top_up_grpc(w, s.grpc_clerk, card, 4_001))
    assert (err.reason, err.detail) == ("limit_exceeded", "a single top-up may be at most 4000 fen")


async def test_a_card_nobody_knows_is_not_found_and_nothing_is_kept(w):
    s = await shop(w)
    request_id = key()
    err = await fails(top_up(w, s.grpc_clerk, "99999999999", 100, request_id))
    assert err.reason == "not_found"
    assert await scalar(w, "SELECT count(*) FROM idempotency WHERE request_id = :r", r=request_id) == 0


async def test_a_replacement_card_brings_its_type_terms_and_takes_top_ups_without_members(w):
    s = await shop(w)
    ctype = await card_type_grpc(w, max_single_top_up=3_000, replacement_fee=200)
    old = await card_of_type(w, s, ctype)
    assert (await w.call("POST", f"/api/v1/cards/{old}/report-loss", s.clerk)).status_code == 200
    r = await w.call("POST", f"/api/v1/cards/{old}/replace", s.clerk, json={"fee_payment": "cash"})
    assert r.status_code == 201, r.text
    new = r.json()["card_no"]
    replaced = await in_members(w, new)
    assert await eventually(lambda: held(w, new), what="the replacement card in wallet") == replaced
    await w.service.stop()
    try:
        err = await fails(top_up_grpc(w, s.grpc_clerk, new, 3_001))
        assert (err.reason, err.detail) == ("limit_exceeded", "a single top-up may be at most 3000 fen")
        assert (await top_up_grpc(w, s.grpc_clerk, new, 3_000)).balance.total == 3_000
        assert (await fails(top_up_grpc(w, s.grpc_clerk, old, 100))).reason == "card_replaced"
    finally:
        await restart_members(w, s, new)
