"""The loyalty jobs against a real wallet: an expired reservation is confirmed when wallet
captured a payment for it, and released when it did not."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
import nats
import nats.js.errors
import pytest
from sqlalchemy import select

from chainclub.events.v1 import wallet_pb2 as wev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2 as wpb
from chainclub.wallet.v1 import wallet_pb2_grpc
from services.loyalty import jobs
from services.loyalty.models import reservations
from tests.checkout.conftest import CheckoutWorld
from tests.support import consumed

pytestmark = pytest.mark.integration


async def payment_event_consumed(w: CheckoutWorld, request_id: str) -> None:
    """Wallet has published the payment's event and loyalty's consumer has acknowledged it."""
    nc = await nats.connect(w.settings.nats_url)
    try:
        js = nc.jetstream()
        for _ in range(200):
            try:
                last = await js.get_last_msg("WALLET", "wallet.payment.captured")
            except nats.js.errors.NotFoundError:
                last = None
            if last is not None and wev.PaymentCaptured.FromString(last.data).request_id == request_id:
                await consumed(js, "WALLET", "loyalty-wallet", last.seq)
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no payment event for {request_id}")
    finally:
        await nc.close()


async def status(w: CheckoutWorld, cid: str) -> str:
    rt = w.loyalty_service.runtime  # type: ignore[union-attr]
    async with rt.db.transaction() as s:
        return (
            await s.execute(select(reservations.c.status).where(reservations.c.checkout_id == cid))
        ).scalar_one()


async def test_expired_reservations_ask_wallet(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    md = (("authorization", f"Bearer {w.clerk}"),)
    m = await w.member(balance=20_000)
    async with (
        grpc.aio.insecure_channel(w.settings.loyalty_addr) as lch,
        grpc.aio.insecure_channel(w.settings.wallet_addr) as wch,
    ):
        loyalty = loyalty_pb2_grpc.LoyaltyServiceStub(lch)
        wallet = wallet_pb2_grpc.WalletServiceStub(wch)
        quote = pb.QuoteRequest(
            member_no=m["member_no"], card_no=m["card_no"], store_path=w.store_path,
            lines=[pb.Line(sku="JOB", name="job", category="jobs", qty=1, unit_price=3_000)],
        )  # fmt: skip
        q = await loyalty.Quote(quote, metadata=md)
        paid, unpaid = "co-" + uuid.uuid4().hex, "co-" + uuid.uuid4().hex
        # The payment first, so the loyalty consumer finds no reservation to confirm: only
        # the job can settle it.
        txn = await wallet.CapturePayment(
            wpb.CapturePaymentRequest(
                request_id=paid, card_no=m["card_no"], amount=q.total_due, acting_store_path=w.store_path,
                reference=paid,
            ),
            metadata=md,
        )  # fmt: skip
        await payment_event_consumed(w, paid)
        for cid in (paid, unpaid):
            await loyalty.Reserve(pb.ReserveRequest(checkout_id=cid, quote=quote, ttl_seconds=1), metadata=md)
        assert await status(w, paid) == "pending"

        ctx = w.loyalty_service.context  # type: ignore[union-attr]
        counts = await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5))
        assert counts["confirmed"] >= 1 and counts["expired"] >= 1 and counts["failed"] == 0
        assert await status(w, paid) == "confirmed"
        assert await status(w, unpaid) == "expired"
        p = await loyalty.GetPurchase(pb.GetPurchaseRequest(checkout_id=paid), metadata=md)
        assert [(t.method, t.amount, t.reference) for t in p.tenders] == [
            ("stored_value", q.total_due, txn.transaction_id)
        ]
        with pytest.raises(grpc.aio.AioRpcError):
            await loyalty.GetPurchase(pb.GetPurchaseRequest(checkout_id=unpaid), metadata=md)
    assert await w.balance(m["card_no"]) == 20_000 - q.total_due
