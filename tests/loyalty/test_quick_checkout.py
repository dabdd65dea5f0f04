"""A checkout that holds nothing is confirmed from its quote, without a reservation: once per
checkout id under concurrency, refused once cancelled, with the same points, history, tier
upgrade and events as the reserved path; and the pricing configuration each process keeps is
never stale."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select, text

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.events.v1 import wallet_pb2 as wev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from kit.events import cloudevent_headers
from services.loyalty.models import points_accounts, points_entries, points_lots, purchases, reservations
from tests.loyalty.conftest import STORE, random_member_no
from tests.support import consumed

pytestmark = pytest.mark.integration


def checkout_id() -> str:
    return "co-" + uuid.uuid4().hex


async def quoted(w, req: pb.QuoteRequest) -> pb.QuotedCheckout:  # type: ignore[no-untyped-def]
    return pb.QuotedCheckout(request=req, quote=await w.stub.Quote(req, metadata=w.md()))


def paid(amount: int) -> list[pb.Tender]:
    return [pb.Tender(method="stored_value", amount=amount, reference="t-" + uuid.uuid4().hex[:6])]


async def outbox_events(w, subject: str, checkout: str) -> list:  # type: ignore[no-untyped-def]
    """The events of ``subject`` in loyalty's outbox that name ``checkout``."""
    kind = ev.PurchaseRecorded if subject == "loyalty.purchase.recorded" else ev.PointsChanged
    async with w.db.transaction() as s:
        rows = (await s.execute(text("SELECT payload FROM outbox WHERE subject = :s"), {"s": subject})).all()
    found = [kind.FromString(r.payload) for r in rows]
    return [
        e
        for e in found
        if getattr(e, "checkout_id", "") == checkout or getattr(e, "reference", "") == checkout
    ]


async def test_a_quoted_checkout_is_recorded_once_and_replays(loyalty_world):
    w = loyalty_world
    m, cid = random_member_no(), checkout_id()
    await w.give_points(m, 300)
    qc = await quoted(w, w.quote_request(m))
    assert qc.quote.total_due == 10_000 and qc.quote.points_to_earn == 100
    req = pb.ConfirmRequest(checkout_id=cid, tenders=paid(10_000), quoted=qc)
    first = await w.stub.Confirm(req, metadata=w.md())
    again = await w.stub.Confirm(req, metadata=w.md())
    assert first.status == "completed" and first.points_earned == 100 and first.points_balance == 400
    assert (again.checkout_id, again.points_earned, again.points_balance) == (cid, 100, 400)
    got = await w.stub.GetPurchase(pb.GetPurchaseRequest(checkout_id=cid), metadata=w.md())
    assert got.quote == qc.quote and got.tenders[0].amount == 10_000
    async with w.db.transaction() as s:
        lots = (
            await s.execute(select(func.sum(points_lots.c.remaining)).where(points_lots.c.member_no == m))
        ).scalar_one()
        balance = (
            await s.execute(select(points_accounts.c.balance).where(points_accounts.c.member_no == m))
        ).scalar_one()
        kinds = (
            (await s.execute(select(points_entries.c.kind).where(points_entries.c.member_no == m)))
            .scalars()
            .all()
        )
    assert lots == balance == 400 and sorted(kinds) == ["bonus", "earn"]
    recorded = await outbox_events(w, "loyalty.purchase.recorded", cid)
    assert len(recorded) == 1 and recorded[0].first_purchase_at_store and recorded[0].points_earned == 100
    assert len(await outbox_events(w, "loyalty.points.earned", cid)) == 1


async def test_concurrent_confirms_of_one_quoted_checkout_record_one_purchase(loyalty_world):
    w = loyalty_world
    m, cid = random_member_no(), checkout_id()
    qc = await quoted(w, w.quote_request(m))
    req = pb.ConfirmRequest(checkout_id=cid, tenders=paid(10_000), quoted=qc)
    results = await asyncio.gather(*(w.stub.Confirm(req, metadata=w.md()) for _ in range(6)))
    assert {r.checkout_id for r in results} == {cid} and {r.points_earned for r in results} == {100}
    async with w.db.transaction() as s:
        count = (
            await s.execute(select(func.count()).select_from(purchases).where(purchases.c.checkout_id == cid))
        ).scalar_one()
        balance = (
            await s.execute(select(points_accounts.c.balance).where(points_accounts.c.member_no == m))
        ).scalar_one()
    assert count == 1 and balance == 100


async def test_a_cancelled_checkout_is_not_recorded_from_its_quote(loyalty_world):
    w = loyalty_world
    m, cid = random_member_no(), checkout_id()
    qc = await quoted(w, w.quote_request(m))
    await w.stub.Cancel(pb.CancelRequest(checkout_id=cid, reason="abandoned"), metadata=w.md())
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Confirm(
            pb.ConfirmRequest(checkout_id=cid, tenders=paid(10_000), quoted=qc), metadata=w.md()
        )
    assert from_rpc_error(exc.value).reason == "conflict"
    async with w.db.transaction() as s:
        assert (await s.execute(select(purchases).where(purchases.c.checkout_id == cid))).first() is None


async def test_bad_quoted_checkouts_are_refused_and_write_nothing(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    qc = await quoted(w, w.quote_request(m))
    cases = {
        "payment_mismatch": pb.ConfirmRequest(checkout_id=checkout_id(), tenders=paid(9_999), quoted=qc),
        "invalid_argument": pb.ConfirmRequest(
            checkout_id=checkout_id(),
            tenders=paid(10_000),
            quoted=pb.QuotedCheckout(request=w.quote_request(m, points_to_use=100), quote=qc.quote),
        ),
    }
    for expected, req in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await w.stub.Confirm(req, metadata=w.md())
        assert from_rpc_error(exc.value).reason == expected
    outside = pb.QuotedCheckout(request=qc.request, quote=qc.quote)
    outside.request.store_path = "HQ/WEST/CD001"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Confirm(pb.ConfirmRequest(checkout_id=checkout_id(), quoted=outside), metadata=w.md())
    assert from_rpc_error(exc.value).reason == "invalid_argument"
    async with w.db.transaction() as s:
        assert (await s.execute(select(purchases).where(purchases.c.member_no == m))).first() is None


async def test_a_customer_without_a_card_is_recorded_without_points(loyalty_world):
    w = loyalty_world
    cid = checkout_id()
    qc = await quoted(w, w.quote_request())
    p = await w.stub.Confirm(
        pb.ConfirmRequest(checkout_id=cid, tenders=paid(10_000), quoted=qc), metadata=w.md()
    )
    assert (p.member_no, p.points_earned, p.quote.total_due) == ("", 0, 10_000)
    recorded = await outbox_events(w, "loyalty.purchase.recorded", cid)
    assert len(recorded) == 1 and not recorded[0].first_purchase_at_store


async def test_a_quoted_checkout_opens_the_account_at_home_and_upgrades_the_tier(loyalty_world):
    w = loyalty_world
    tiers = await w.stub.ListTiers(pb.ListTiersRequest(), metadata=w.md())
    if not any(t.code == "vip" for t in tiers.tiers):
        await w.stub.UpsertTier(
            pb.Tier(code="vip", name="VIP", rank=9, min_spend_12m=1_000_000, discount_bps=500), metadata=w.hq
        )
    m, home = random_member_no(), "HQ/HOME/H002"
    big = [pb.Line(sku="TV", category="x", qty=1, unit_price=1_000_000)]
    qc = await quoted(w, w.quote_request(m, big, member_home_store_path=home))
    p = await w.stub.Confirm(
        pb.ConfirmRequest(checkout_id=checkout_id(), tenders=paid(1_000_000), quoted=qc), metadata=w.md()
    )
    assert p.tier == "vip"
    async with w.db.transaction() as s:
        account = (await s.execute(select(points_accounts).where(points_accounts.c.member_no == m))).one()
    assert (account.home_store_path, account.tier, account.balance) == (home, "vip", 10_000)
    q = await w.stub.Quote(w.quote_request(m), metadata=w.md())
    assert q.tier == "vip" and q.total_due == 9_500


async def test_the_pricing_kept_in_memory_follows_every_change(loyalty_world):
    """A promotion made through the API and a tier changed by a hand-written statement both
    price the very next quote."""
    w = loyalty_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    line = [pb.Line(sku="B", category=cat, qty=1, unit_price=10_000)]
    assert (await w.stub.Quote(w.quote_request("", line), metadata=w.md())).total_due == 10_000
    await w.stub.CreatePromotion(
        pb.Promotion(
            name="cat 20%",
            kind="category_discount",
            category=cat,
            discount_bps=2000,
            scope=STORE,
            active=True,
        ),
        metadata=w.hq,
    )
    assert (await w.stub.Quote(w.quote_request("", line), metadata=w.md())).total_due == 8_000
    code = "t" + uuid.uuid4().hex[:6]
    m = random_member_no()
    await w.give_points(m, 1)
    async with w.db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO tiers (code, name, rank, min_spend_12m, discount_bps) VALUES (:c, 'Hand', 900 + floor(random() * 90), 1000000000000000, 5000)"
            ),
            {"c": code},
        )
        await s.execute(update_tier(m, code))
    q = await w.stub.Quote(w.quote_request(m, line), metadata=w.md())
    assert q.tier == code and q.total_due == 4_000  # 20 % off, then the hand-made tier's 50 %
    async with w.db.transaction() as s:
        await s.execute(update_tier(m, "standard"))
        await s.execute(text("DELETE FROM tiers WHERE code = :c"), {"c": code})


def update_tier(member_no: str, code: str):  # type: ignore[no-untyped-def]
    return points_accounts.update().where(points_accounts.c.member_no == member_no).values(tier=code)


async def test_a_payment_its_payer_records_is_acknowledged_without_recovering(loyalty_world):
    """The payment event of a checkout that reserved nothing says so (``recorded_by_payer``):
    the consumer acknowledges it without reading or confirming. The control: the same event
    without the flag, as old, confirms the pending reservation at once (recovery path)."""
    w = loyalty_world
    long_ago = datetime.now(UTC) - timedelta(minutes=5)  # past the gateway's grace

    async def paid_event(cid: str, total: int, *, recorded_by_payer: bool) -> int:
        event = wev.PaymentCaptured(
            transaction_id=str(uuid.uuid4()), request_id=cid, amount=total, acting_store_path=STORE,
            recorded_by_payer=recorded_by_payer,
        )  # fmt: skip
        eid = str(uuid.uuid4())
        headers = cloudevent_headers(
            event_id=eid, subject="wallet.payment.captured", type_=event.DESCRIPTOR.full_name, source="tests",
            time=long_ago, traceparent=None,
        )  # fmt: skip
        return (
            await w.bus.js.publish("wallet.payment.captured", event.SerializeToString(), headers=headers)
        ).seq

    async def status(cid: str) -> str:
        async with w.db.transaction() as s:
            return (
                await s.execute(select(reservations.c.status).where(reservations.c.checkout_id == cid))
            ).scalar_one()

    flagged, control = checkout_id(), checkout_id()
    for cid in (flagged, control):
        r = await w.stub.Reserve(
            pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(random_member_no())), metadata=w.md()
        )
    seq = await paid_event(flagged, r.quote.total_due, recorded_by_payer=True)
    await consumed(w.bus.js, "WALLET", "loyalty-wallet", seq)
    assert await status(flagged) == "pending"
    seq = await paid_event(control, r.quote.total_due, recorded_by_payer=False)
    await consumed(w.bus.js, "WALLET", "loyalty-wallet", seq)
    assert await status(control) == "confirmed"
