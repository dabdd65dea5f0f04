"""Loyalty against real PostgreSQL and NATS: quote, reserve/confirm/cancel, refunds, coupons
under concurrency, the payment recovery path (invariants 2-4)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from sqlalchemy import func, select

from chainclub.events.v1 import members_pb2 as mev
from chainclub.events.v1 import wallet_pb2 as wev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from kit.events import cloudevent_headers
from kit.testing import eventually
from services.loyalty.models import points_accounts, points_lots, purchases
from tests.loyalty.conftest import STORE, random_member_no
from tests.support import consumed

pytestmark = pytest.mark.integration


def reason(exc: grpc.aio.AioRpcError) -> str:
    return from_rpc_error(exc).reason


def checkout_id() -> str:
    return "co-" + uuid.uuid4().hex


async def lots_sum(w, member_no: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with w.db.transaction() as s:
        lots = (
            await s.execute(
                select(func.coalesce(func.sum(points_lots.c.remaining), 0)).where(
                    points_lots.c.member_no == member_no
                )
            )
        ).scalar_one()
        balance = (
            await s.execute(select(points_accounts.c.balance).where(points_accounts.c.member_no == member_no))
        ).scalar_one()
    return int(lots), balance


async def test_quote_prices_with_promotion_coupon_and_points(loyalty_world):
    w = loyalty_world
    cat = "cat-" + uuid.uuid4().hex[:6]
    await w.stub.CreatePromotion(
        pb.Promotion(
            name="food 10%",
            kind="category_discount",
            category=cat,
            discount_bps=1000,
            scope=STORE,
            active=True,
        ),
        metadata=w.hq,
    )
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="100-20", kind="amount_off", amount_off=2_000, min_spend=5_000), metadata=w.hq
    )
    m = random_member_no()
    issued = await w.stub.IssueCoupons(
        pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]), metadata=w.hq
    )
    await w.give_points(m, 1_000)
    lines = [pb.Line(sku="A", category=cat, qty=2, unit_price=5_005)]  # 10 010
    q = await w.stub.Quote(
        w.quote_request(m, lines, coupon_code=issued.codes[0], points_to_use=500), metadata=w.md()
    )
    # 10% of 10 010 = 1001; coupon 2000; points 500 fen
    assert q.subtotal == 10_010
    assert [(d.kind, d.amount) for d in q.discounts] == [
        ("promotion", 1001),
        ("coupon", 2000),
        ("points", 500),
    ]
    assert q.total_due == 10_010 - 1001 - 2000 - 500
    assert q.points_to_earn == 65  # 65.09 yuan paid, HQ default 1 point per yuan
    assert q.earn_rules == ["HQ default: 1 point per yuan"]
    assert q.lines[0].amount == 10_010 - 3001


async def test_reserve_confirm_earns_points_once_and_confirm_replays(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    await w.give_points(m, 2_000)
    cid = checkout_id()
    r = await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=1_000)), metadata=w.md()
    )
    assert r.status == "pending" and r.quote.total_due == 9_000
    again = await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=1_000)), metadata=w.md()
    )
    assert again.quote == r.quote
    bal = await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())
    assert (bal.balance, bal.reserved) == (2_000, 1_000)

    tenders = [pb.Tender(method="stored_value", amount=9_000, reference="t1")]
    p1 = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid, tenders=tenders), metadata=w.md())
    p2 = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid, tenders=tenders), metadata=w.md())
    assert p1.points_earned == 90 and p1 == p2
    assert p1.points_balance == 2_000 - 1_000 + 90
    bal = await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())
    assert (bal.balance, bal.reserved) == (1_090, 0)
    assert await lots_sum(w, m) == (1_090, 1_090)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Cancel(pb.CancelRequest(checkout_id=cid), metadata=w.md())
    assert reason(exc.value) == "conflict"
    hist = await w.stub.ListPointsHistory(pb.ListPointsHistoryRequest(member_no=m), metadata=w.md())
    assert [e.kind for e in hist.entries] == ["earn", "redeem", "bonus"]


async def test_more_points_than_held_is_refused_and_reserves_nothing(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    await w.give_points(m, 300)
    cid = checkout_id()
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Reserve(
            pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=301)), metadata=w.md()
        )
    assert reason(exc.value) == "insufficient_points"
    bal = await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())
    assert bal.reserved == 0
    # points held by one checkout are not available to another
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=200)), metadata=w.md()
    )
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Reserve(
            pb.ReserveRequest(checkout_id=checkout_id(), quote=w.quote_request(m, points_to_use=200)),
            metadata=w.md(),
        )
    assert reason(exc.value) == "insufficient_points"
    c = await w.stub.Cancel(pb.CancelRequest(checkout_id=cid), metadata=w.md())
    assert c.status == "cancelled"
    assert (await w.stub.Cancel(pb.CancelRequest(checkout_id=cid), metadata=w.md())).status == "cancelled"
    bal = await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())
    assert (bal.balance, bal.reserved) == (300, 0)


async def test_coupon_is_held_by_one_checkout_only(loyalty_world):
    w = loyalty_world
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="5 off", kind="amount_off", amount_off=500), metadata=w.hq
    )
    m = random_member_no()
    code = (
        await w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]),
            metadata=w.hq,
        )
    ).codes[0]

    async def attempt() -> str:
        try:
            await w.stub.Reserve(
                pb.ReserveRequest(checkout_id=checkout_id(), quote=w.quote_request(m, coupon_code=code)),
                metadata=w.md(),
            )
            return "ok"
        except grpc.aio.AioRpcError as exc:
            return reason(exc)

    outcomes = await asyncio.gather(*(attempt() for _ in range(10)))
    assert outcomes.count("ok") == 1 and outcomes.count("coupon_unavailable") == 9, outcomes
    other = random_member_no()
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Quote(w.quote_request(other, coupon_code=code), metadata=w.md())
    assert reason(exc.value) == "coupon_unavailable"


async def test_coupons_are_never_issued_over_quantity_under_concurrency(loyalty_world):
    w = loyalty_world
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(
            name="limited", kind="percent_off", percent_off_bps=1000, total_quantity=10, per_member_limit=1
        ),
        metadata=w.hq,
    )
    members = [random_member_no() for _ in range(30)]

    async def issue(m: str) -> pb.IssueCouponsResponse:
        return await w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]),
            metadata=w.hq,
        )

    results = await asyncio.gather(*(issue(m) for m in members))
    assert sum(r.issued for r in results) == 10 and sum(r.skipped for r in results) == 20
    templates = await w.stub.ListCouponTemplates(pb.ListCouponTemplatesRequest(), metadata=w.hq)
    assert next(t for t in templates.templates if t.id == tpl.id).issued == 10
    # the per-member limit holds too, and a replayed request issues nothing new
    lucky = next(m for m, r in zip(members, results, strict=True) if r.issued)
    again = await w.stub.IssueCoupons(
        pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[lucky]),
        metadata=w.hq,
    )
    assert again.issued == 0


async def test_issuance_to_an_unknown_segment_is_invalid(loyalty_world):
    w = loyalty_world
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=str(uuid.uuid4()), segment="vip"),
            metadata=w.hq,
        )
    assert reason(exc.value) == "invalid_argument"


async def publish(w, subject: str, message, event_id: str) -> int:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    headers = cloudevent_headers(
        event_id=event_id, subject=subject, type_=message.DESCRIPTOR.full_name, source="tests",
        time=datetime.now(UTC), traceparent=None,
    )  # fmt: skip
    return (await w.bus.js.publish(subject, message.SerializeToString(), headers=headers)).seq


async def test_payment_event_delivered_twice_confirms_and_earns_once(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    cid = checkout_id()
    r = await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m)), metadata=w.md())
    event = wev.PaymentCaptured(
        transaction_id=str(uuid.uuid4()),
        request_id=cid,
        member_no=m,
        amount=r.quote.total_due,
        acting_store_path=STORE,
    )
    eid = str(uuid.uuid4())
    await publish(w, "wallet.payment.captured", event, eid)
    await publish(w, "wallet.payment.captured", event, eid)  # the broker drops it (same Nats-Msg-Id)
    second = str(uuid.uuid4())
    second_seq = await publish(w, "wallet.payment.captured", event, second)  # a second, distinct delivery

    async def confirmed():  # type: ignore[no-untyped-def]
        async with w.db.transaction() as s:
            return (await s.execute(select(purchases).where(purchases.c.checkout_id == cid))).first()

    # The gateway gets the first chance (loyalty_recovery_grace_seconds, 5 s): nothing yet.
    await asyncio.sleep(1.0)
    assert await confirmed() is None
    row = await eventually(confirmed, timeout=20, what="the recovery path confirmed the checkout")
    assert row.points_earned == 100
    # The second delivery is acknowledged: the purchase is confirmed, nothing is left to do.
    await consumed(w.bus.js, "WALLET", "loyalty-wallet", second_seq)
    bal = await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())
    assert bal.balance == 100
    p = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert p.points_earned == 100 and p.points_balance == 100


async def test_top_up_bonus_points_arrive_once(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    eid = str(uuid.uuid4())
    ev = wev.TopUpCompleted(
        transaction_id=str(uuid.uuid4()), member_no=m, amount=10_000, bonus_points=50, home_store_path=STORE
    )
    await publish(w, "wallet.topup.completed", ev, eid)
    await publish(w, "wallet.topup.completed", ev, eid)

    async def balance():  # type: ignore[no-untyped-def]
        try:
            return (await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())).balance or None
        except grpc.aio.AioRpcError:
            return None

    assert await eventually(balance, timeout=20, what="bonus points") == 50
    assert await lots_sum(w, m) == (50, 50)


async def test_welcome_coupon_on_registration(loyalty_world):
    w = loyalty_world
    await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(
            name="welcome " + uuid.uuid4().hex[:4],
            kind="amount_off",
            amount_off=300,
            campaign="welcome",
            valid_days=30,
        ),
        metadata=w.hq,
    )
    m = random_member_no()
    await publish(
        w,
        "members.member.registered",
        mev.MemberRegistered(member_no=m, home_store_path=STORE),
        str(uuid.uuid4()),
    )

    async def coupons():  # type: ignore[no-untyped-def]
        got = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=m), metadata=w.md())
        return list(got.coupons) or None

    got = await eventually(coupons, timeout=20, what="welcome coupon")
    assert got[0].status == "available" and got[0].amount_off == 300


async def test_refund_restores_points_and_coupon_and_claws_back(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    await w.give_points(m, 1_000)
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="10 off", kind="amount_off", amount_off=1_000), metadata=w.hq
    )
    code = (
        await w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]),
            metadata=w.hq,
        )
    ).codes[0]
    lines = [
        pb.Line(sku="A", category="x", qty=2, unit_price=5_000),
        pb.Line(sku="B", category="x", qty=1, unit_price=10_000),
    ]
    cid = checkout_id()
    r = await w.stub.Reserve(
        pb.ReserveRequest(
            checkout_id=cid, quote=w.quote_request(m, lines, coupon_code=code, points_to_use=1_000)
        ),
        metadata=w.md(),
    )
    assert r.quote.total_due == 20_000 - 1_000 - 1_000
    p = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert p.points_earned == 180 and p.points_balance == 180

    part = await w.stub.RefundPurchase(
        pb.RefundPurchaseRequest(
            request_id="rf-" + cid, checkout_id=cid, lines=[pb.RefundLine(sku="A", qty=1)]
        ),
        metadata=w.md(),
    )
    # line A: 10 000 - 500 coupon share = 9 500, one unit = 4 750 of 19 000 -> a quarter
    assert part.status == "partially_refunded" and part.refunded_amount == 4_500
    assert part.points_balance == 180 - 45 + 250
    replay = await w.stub.RefundPurchase(
        pb.RefundPurchaseRequest(
            request_id="rf-" + cid, checkout_id=cid, lines=[pb.RefundLine(sku="A", qty=1)]
        ),
        metadata=w.md(),
    )
    assert replay == part
    rest = await w.stub.RefundPurchase(
        pb.RefundPurchaseRequest(request_id="rf2-" + cid, checkout_id=cid), metadata=w.md()
    )
    assert rest.status == "refunded" and rest.refunded_amount == 18_000
    assert rest.points_balance == 1_000  # used points back, earned points gone
    assert await lots_sum(w, m) == (1_000, 1_000)
    coupons = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=m), metadata=w.md())
    assert [c.status for c in coupons.coupons] == ["available"]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RefundPurchase(
            pb.RefundPurchaseRequest(request_id="rf3-" + cid, checkout_id=cid), metadata=w.md()
        )
    assert reason(exc.value) == "conflict"


async def test_clawback_never_takes_the_balance_below_zero(loyalty_world):
    w = loyalty_world
    m = random_member_no()
    cid = checkout_id()
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m)), metadata=w.md())
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())  # earns 100
    spend = checkout_id()
    small = [pb.Line(sku="S", category="x", qty=1, unit_price=160)]  # 80 points pay half, 0.80 yuan earns 0
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=spend, quote=w.quote_request(m, small, points_to_use=80)),
        metadata=w.md(),
    )
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=spend), metadata=w.md())
    bal = (await w.stub.GetPoints(pb.GetPointsRequest(member_no=m), metadata=w.md())).balance
    r = await w.stub.RefundPurchase(
        pb.RefundPurchaseRequest(request_id=uuid.uuid4().hex, checkout_id=cid), metadata=w.md()
    )
    assert bal == 20 and r.points_balance == 0
    assert await lots_sum(w, m) == (0, 0)


async def test_roles_and_scope(loyalty_world):
    w = loyalty_world
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.CreatePromotion(
            pb.Promotion(name="x", kind="member_day", day_of_month=1), metadata=w.md("store_manager")
        )
    assert reason(exc.value) == "forbidden"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Quote(w.quote_request(), metadata=w.md("auditor"))
    assert reason(exc.value) == "forbidden"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.Quote(w.quote_request(), metadata=w.md("clerk", "HQ/WEST/X1"))
    assert reason(exc.value) == "invalid_argument"
    cid = checkout_id()
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request()), metadata=w.md())
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.GetPurchase(
            pb.GetPurchaseRequest(checkout_id=cid), metadata=w.md("store_manager", "HQ/WEST/X1")
        )
    assert reason(exc.value) == "not_found"
    got = await w.stub.GetPurchase(
        pb.GetPurchaseRequest(checkout_id=cid), metadata=w.md("auditor", "HQ/EAST")
    )
    assert got.status == "completed" and got.member_no == ""


async def test_tier_upgrades_at_once(loyalty_world):
    w = loyalty_world
    tiers = await w.stub.ListTiers(pb.ListTiersRequest(), metadata=w.md())
    assert tiers.tiers[0].code == "standard"
    if not any(t.code == "vip" for t in tiers.tiers):
        await w.stub.UpsertTier(
            pb.Tier(code="vip", name="VIP", rank=9, min_spend_12m=1_000_000, discount_bps=500), metadata=w.hq
        )
    m = random_member_no()
    cid = checkout_id()
    big = [pb.Line(sku="TV", category="x", qty=1, unit_price=1_000_000)]
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, big)), metadata=w.md())
    p = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert p.tier == "vip"
    q = await w.stub.Quote(w.quote_request(m), metadata=w.md())
    assert q.tier == "vip" and q.total_due == 9_500


async def test_a_checkout_before_the_registration_event_opens_the_account_at_the_home_store(loyalty_world):
    """The gateway passes the member's home store (from members) with the quote: an account the
    checkout opens belongs there, not to the checkout's store."""
    w = loyalty_world
    m, home = random_member_no(), "HQ/HOME/H001"
    cid = checkout_id()
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, member_home_store_path=home)),
        metadata=w.md(),
    )
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    async with w.db.transaction() as s:
        account = (await s.execute(select(points_accounts).where(points_accounts.c.member_no == m))).one()
    assert account.home_store_path == home


async def test_a_referral_whose_registration_event_comes_after_the_first_purchase_is_rewarded_once(
    loyalty_world,
):
    w = loyalty_world
    referrer, referee = random_member_no(), random_member_no()
    cid = checkout_id()
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(referee)), metadata=w.md())
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    registered = mev.MemberRegistered(member_no=referee, home_store_path=STORE, referrer_member_no=referrer)
    await publish(w, "members.member.registered", registered, str(uuid.uuid4()))

    async def referrer_points():  # type: ignore[no-untyped-def]
        try:
            return (await w.stub.GetPoints(pb.GetPointsRequest(member_no=referrer), metadata=w.md())).balance
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:  # no account yet
                return None
            raise

    assert await eventually(referrer_points, timeout=20, what="the referrer rewarded") == 500
    await publish(w, "members.member.registered", registered, str(uuid.uuid4()))  # a second, distinct event
    await asyncio.sleep(1.5)
    assert await referrer_points() == 500
