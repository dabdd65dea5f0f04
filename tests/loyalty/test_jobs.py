"""The loyalty jobs, each called with a chosen ``now`` (on a loyalty database of its own):
expired reservations, points expiry, the expiring announcement, the tier review, birthday and
tier-upgrade coupons, and the referral reward (once, under concurrency)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select, update

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.events.v1 import members_pb2 as mev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.wallet.v1 import wallet_pb2
from services.loyalty import expiry, jobs
from services.loyalty import points as points_uc
from services.loyalty.models import (
    coupons,
    points_accounts,
    points_entries,
    points_lots,
    purchases,
    reservations,
)
from tests.loyalty.conftest import STORE, random_member_no

pytestmark = pytest.mark.integration


def checkout_id() -> str:
    return "co-" + uuid.uuid4().hex


def ctx_of(w):  # type: ignore[no-untyped-def]
    return w.service.context


async def events(w, subject: str, member_no: str) -> list[ev.PointsChanged | ev.TierChanged]:  # type: ignore[no-untyped-def]
    outbox = w.service.runtime.tables.outbox
    async with w.db.transaction() as s:
        rows = (
            (
                await s.execute(
                    select(outbox.c.payload).where(outbox.c.subject == subject).order_by(outbox.c.id)
                )
            )
            .scalars()
            .all()
        )
    kind = ev.TierChanged if subject == "loyalty.tier.changed" else ev.PointsChanged
    out = [kind.FromString(p) for p in rows]
    return [e for e in out if e.member_no == member_no]


async def account(w, member_no: str):  # type: ignore[no-untyped-def]
    async with w.db.transaction() as s:
        return (
            await s.execute(select(points_accounts).where(points_accounts.c.member_no == member_no))
        ).one()


async def lot(w, member_no: str, points: int, expires_on: date) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_of(w)
    async with w.db.transaction() as s:
        acct = await points_uc.ensure_account(s, member_no, STORE)
        await points_uc.add_lot(
            ctx, s, acct, points, source="bonus", reference="test", now=ctx.now(), expires_on=expires_on
        )


async def member_coupons(w, member_no: str) -> int:  # type: ignore[no-untyped-def]
    async with w.db.transaction() as s:
        return (
            await s.execute(select(func.count()).select_from(coupons).where(coupons.c.member_no == member_no))
        ).scalar_one()


# --- points expiry ----------------------------------------------------------------------------


async def test_points_past_expiry_are_expired_once(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    now = ctx.now()
    today = ctx.local_date(now)
    m = random_member_no()
    await lot(w, m, 300, today - timedelta(days=1))  # expired yesterday
    await lot(w, m, 200, today)  # good through today
    await lot(w, m, 50, today - timedelta(days=400))

    assert await expiry.expire_points(ctx, now) >= 350
    a = await account(w, m)
    assert a.balance == 200 and a.reserved == 0
    async with w.db.transaction() as s:
        lots = (
            await s.execute(select(points_lots.c.remaining).where(points_lots.c.member_no == m))
        ).scalars()
        assert sorted(lots) == [0, 0, 200]
        kinds = (
            await s.execute(
                select(points_entries.c.kind, points_entries.c.points).where(points_entries.c.member_no == m)
            )
        ).all()
    assert sorted(p for k, p in kinds if k == "expire") == [-300, -50]
    expired = await events(w, "loyalty.points.expired", m)
    assert sorted(e.points for e in expired) == [50, 300]
    assert min(e.balance for e in expired) == 200

    await expiry.expire_points(ctx, now)  # again: nothing more
    assert (await account(w, m)).balance == 200
    assert len(await events(w, "loyalty.points.expired", m)) == 2
    # tomorrow the last lot goes too
    await expiry.expire_points(ctx, now + timedelta(days=1))
    assert (await account(w, m)).balance == 0


async def test_expiry_leaves_points_held_by_a_pending_checkout(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    today = ctx.local_date(ctx.now())
    m = random_member_no()
    await lot(w, m, 1_000, today + timedelta(days=5))
    cid = checkout_id()
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=400)), metadata=w.md()
    )
    assert (await account(w, m)).reserved == 400
    await expiry.expire_points(ctx, ctx.now() + timedelta(days=10))
    a = await account(w, m)
    assert a.balance == 400 and a.reserved == 400  # the checkout can still pay with them
    p = await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert p.quote.points_used == 400


async def test_expiring_points_are_announced_once_per_lot(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    now = ctx.now()
    today = ctx.local_date(now)
    m = random_member_no()
    await lot(w, m, 120, today + timedelta(days=10))
    await lot(w, m, 80, today + timedelta(days=30))
    await lot(w, m, 70, today + timedelta(days=31))  # later: not yet

    await expiry.announce_expiring(ctx, now)
    got = await events(w, "loyalty.points.expiring", m)
    assert sorted((e.points, e.expires_on) for e in got) == [
        (80, (today + timedelta(days=30)).isoformat()),
        (120, (today + timedelta(days=10)).isoformat()),
    ]
    await expiry.announce_expiring(ctx, now)
    await asyncio.gather(
        expiry.announce_expiring(ctx, now), expiry.announce_expiring(ctx, now)
    )  # two replicas
    assert len(await events(w, "loyalty.points.expiring", m)) == 2
    await expiry.announce_expiring(ctx, now + timedelta(days=1))  # the third lot enters the window
    assert sorted(e.points for e in await events(w, "loyalty.points.expiring", m)) == [70, 80, 120]


# --- expired reservations ---------------------------------------------------------------------


def wallet_saying(paid: dict[str, int]):  # type: ignore[no-untyped-def]
    """A stand-in for wallet's GetPayment: ``paid`` maps checkout ids to captured amounts."""
    asked: list[str] = []

    async def lookup(checkout_id: str) -> wallet_pb2.Payment:
        asked.append(checkout_id)
        if checkout_id not in paid:
            return wallet_pb2.Payment(found=False)
        return wallet_pb2.Payment(
            found=True,
            transaction=wallet_pb2.Transaction(transaction_id="t-" + checkout_id, amount=paid[checkout_id]),
        )

    lookup.asked = asked  # type: ignore[attr-defined]
    return lookup


async def reservation_status(w, cid: str) -> str:  # type: ignore[no-untyped-def]
    async with w.db.transaction() as s:
        return (
            await s.execute(select(reservations.c.status).where(reservations.c.checkout_id == cid))
        ).scalar_one()


async def test_expired_reservation_is_released_when_nothing_was_captured(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    m = random_member_no()
    await w.give_points(m, 1_000)
    cid, fresh = checkout_id(), checkout_id()
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=300), ttl_seconds=60),
        metadata=w.md(),
    )
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=fresh, quote=w.quote_request(m, points_to_use=100), ttl_seconds=3600),
        metadata=w.md(),
    )
    wallet = wallet_saying({})
    counts = await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5), wallet)
    assert counts["expired"] >= 1 and cid in wallet.asked and fresh not in wallet.asked
    assert await reservation_status(w, cid) == "expired"
    assert await reservation_status(w, fresh) == "pending"
    assert (await account(w, m)).reserved == 100
    # a late confirm of the expired one is refused; a cancel is a no-op
    with pytest.raises(Exception) as exc:
        await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())
    assert "expired" in str(exc.value)
    await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5), wallet)
    assert wallet.asked.count(cid) == 1


async def test_expired_reservation_that_was_paid_is_confirmed(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    m = random_member_no()
    await w.give_points(m, 1_000)
    cid = checkout_id()
    r = await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=300), ttl_seconds=60),
        metadata=w.md(),
    )
    wallet = wallet_saying({cid: r.quote.total_due})
    counts = await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5), wallet)
    assert counts["confirmed"] >= 1
    assert await reservation_status(w, cid) == "confirmed"
    p = await w.stub.GetPurchase(pb.GetPurchaseRequest(checkout_id=cid), metadata=w.md())
    assert p.status == "completed" and [(t.method, t.amount) for t in p.tenders] == [
        ("stored_value", r.quote.total_due)
    ]
    a = await account(w, m)
    assert a.reserved == 0 and a.balance == 1_000 - 300 + p.points_earned


async def test_reservations_wait_when_wallet_cannot_answer(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    cid = checkout_id()
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(), ttl_seconds=1), metadata=w.md()
    )
    # The fixture's wallet address has no server: the job leaves the reservation pending.
    counts = await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5))
    assert counts["expired"] == counts["confirmed"] == 0
    assert await reservation_status(w, cid) == "pending"
    await jobs.expire_reservations(ctx, ctx.now() + timedelta(minutes=5), wallet_saying({}))
    assert await reservation_status(w, cid) == "expired"


# --- tiers ------------------------------------------------------------------------------------


async def buy(w, m: str, amount: int) -> pb.Purchase:  # type: ignore[no-untyped-def]
    cid = checkout_id()
    lines = [pb.Line(sku="X", category="big", qty=1, unit_price=amount)]
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, lines)), metadata=w.md())
    return await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md())


async def test_tier_upgrade_coupon_and_periodic_downgrade(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    await w.stub.UpsertTier(
        pb.Tier(code="gold", name="Gold", rank=5, min_spend_12m=5_000_000, discount_bps=300), metadata=w.hq
    )
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(
            name="welcome to gold", kind="amount_off", amount_off=1_000, campaign="tier_upgrade"
        ),
        metadata=w.hq,
    )
    m, small = random_member_no(), random_member_no()
    p = await buy(w, m, 6_000_000)
    assert p.tier == "gold"
    got = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=m), metadata=w.md())
    assert [c.template_id for c in got.coupons] == [tpl.id]
    await buy(w, small, 1_000)
    assert (await account(w, small)).tier == "standard"

    # within 12 months the member keeps the tier; after them, the review moves it down
    assert await jobs.review_tiers(ctx, ctx.now() + timedelta(days=200)) == 0
    assert (await account(w, m)).tier == "gold"
    later = ctx.now() + timedelta(days=400)
    await asyncio.gather(jobs.review_tiers(ctx, later), jobs.review_tiers(ctx, later))  # two replicas
    assert (await account(w, m)).tier == "standard"
    changes = await events(w, "loyalty.tier.changed", m)
    assert [(c.from_tier, c.to_tier) for c in changes] == [("standard", "gold"), ("gold", "standard")]
    assert await jobs.review_tiers(ctx, later) == 0
    await w.stub.UpsertTier(
        pb.Tier(code="gold", name="Gold", rank=5, min_spend_12m=10**12, discount_bps=300), metadata=w.hq
    )  # no one else gets upgraded by the other tests


async def test_the_review_keeps_a_member_who_reaches_the_keep_threshold(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    # 升级 at 40 000 yuan, 保级 at 30 000.
    jade = pb.Tier(code="jade", name="Jade", rank=7, min_spend_12m=4_000_000, keep_spend_12m=3_000_000)
    assert (await w.stub.UpsertTier(jade, metadata=w.hq)).keep_spend_12m == 3_000_000
    keeps, drops = random_member_no(), random_member_no()
    for m in (keeps, drops):
        assert (await buy(w, m, 4_000_000)).tier == "jade"
    # Refunds leave 33 000 (still over 保级) and 25 000 (under it) in their 12 months.
    async with w.service.runtime.db.transaction() as session:
        for m, refunded in ((keeps, 700_000), (drops, 1_500_000)):
            await session.execute(
                update(purchases).where(purchases.c.member_no == m).values(refunded_amount=refunded)
            )
    await jobs.review_tiers(ctx, ctx.now() + timedelta(days=30))
    assert (await account(w, keeps)).tier == "jade"
    assert (await account(w, drops)).tier == "standard"

    # 保级 above 升级 is refused: a member who just reached the tier would lose it at once.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await w.stub.UpsertTier(
            pb.Tier(code="jade", name="Jade", rank=7, min_spend_12m=4_000_000, keep_spend_12m=4_000_001),
            metadata=w.hq,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await w.stub.UpsertTier(pb.Tier(code="jade", name="Jade", rank=7, min_spend_12m=10**12), metadata=w.hq)
    async with w.service.runtime.db.transaction() as session:  # no other test meets a jade member
        await session.execute(
            update(points_accounts).where(points_accounts.c.tier == "jade").values(tier="standard")
        )


# --- birthday ---------------------------------------------------------------------------------


async def test_birthday_coupons_once_a_year(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="happy birthday", kind="amount_off", amount_off=500, campaign="birthday"),
        metadata=w.hq,
    )
    m, other, leap = random_member_no(), random_member_no(), random_member_no()
    async with w.db.transaction() as s:
        for member_no, birthday in ((m, "1990-05-17"), (other, "1990-05-18"), (leap, "2000-02-29")):
            await points_uc.ensure_account(s, member_no, STORE)
            await s.execute(
                update(points_accounts)
                .where(points_accounts.c.member_no == member_no)
                .values(birthday=birthday)
            )
    day = datetime(2027, 5, 17, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    await asyncio.gather(jobs.birthday_coupons(ctx, day), jobs.birthday_coupons(ctx, day))
    await jobs.birthday_coupons(ctx, day + timedelta(hours=5))
    got = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=m), metadata=w.md())
    assert [c.template_id for c in got.coupons] == [tpl.id]
    assert await member_coupons(w, other) == 0
    await jobs.birthday_coupons(ctx, datetime(2028, 5, 17, 1, 0, tzinfo=UTC))  # next year: again
    assert await member_coupons(w, m) == 2
    await jobs.birthday_coupons(ctx, datetime(2027, 2, 28, 1, 0, tzinfo=UTC))  # 29 Feb, common year
    assert await member_coupons(w, leap) == 1


# --- referral ---------------------------------------------------------------------------------


async def test_referrer_is_rewarded_once_under_concurrent_first_purchases(jobs_world):
    w = jobs_world
    tpl = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(
            name="thanks for the referral", kind="amount_off", amount_off=800, campaign="referral"
        ),
        metadata=w.hq,
    )
    referrer, referee = random_member_no(), random_member_no()
    async with w.db.transaction() as s:
        await points_uc.ensure_account(s, referrer, STORE)
        await points_uc.ensure_account(s, referee, STORE)
        await s.execute(
            update(points_accounts)
            .where(points_accounts.c.member_no == referee)
            .values(referrer_member_no=referrer)
        )
    ids = [checkout_id() for _ in range(8)]
    for cid in ids:
        await w.stub.Reserve(
            pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(referee)), metadata=w.md()
        )
    await asyncio.gather(
        *(w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=w.md()) for cid in ids)
    )
    await buy(w, referee, 3_000)  # a later purchase: nothing more
    a = await account(w, referrer)
    assert a.balance == w.settings.loyalty_referral_points == 500
    earned = await events(w, "loyalty.points.earned", referrer)
    assert [(e.kind, e.points, list(e.rules)) for e in earned] == [("referral", 500, ["referral"])]
    got = await w.stub.ListMemberCoupons(pb.ListMemberCouponsRequest(member_no=referrer), metadata=w.md())
    assert [c.template_id for c in got.coupons] == [tpl.id]
    assert await member_coupons(w, referee) == 0


async def test_registration_event_keeps_referrer_and_birthday(jobs_world):
    from tests.loyalty.test_checkout import publish

    w = jobs_world
    referrer, referee = random_member_no(), random_member_no()
    await publish(
        w,
        "members.member.registered",
        mev.MemberRegistered(
            member_no=referee, home_store_path=STORE, referrer_member_no=referrer, birthday="1988-03-09"
        ),
        str(uuid.uuid4()),
    )
    for _ in range(200):
        async with w.db.transaction() as s:
            row = (
                await s.execute(select(points_accounts).where(points_accounts.c.member_no == referee))
            ).first()
        if row is not None and row.referrer_member_no:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the registration event was not handled")
    assert (row.referrer_member_no, row.birthday) == (referrer, "1988-03-09")
    await buy(w, referee, 2_000)
    assert (await account(w, referrer)).balance == 500


# --- coupon expiring --------------------------------------------------------------------------


async def coupon_events(w, subject: str, member_no: str) -> list[ev.CouponChanged]:  # type: ignore[no-untyped-def]
    outbox = w.service.runtime.tables.outbox
    async with w.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.payload).where(outbox.c.subject == subject))).scalars().all()
    return [e for e in map(ev.CouponChanged.FromString, rows) if e.member_no == member_no]


async def test_expiring_coupons_are_announced_once_each_days_ahead(jobs_world):
    w = jobs_world
    ctx = ctx_of(w)
    soon = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="soon over", kind="amount_off", amount_off=300, valid_days=2), metadata=w.hq
    )
    later = await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name="later over", kind="amount_off", amount_off=300, valid_days=30), metadata=w.hq
    )
    m = random_member_no()
    codes = {}
    for tpl in (soon, later):
        issued = await w.stub.IssueCoupons(
            pb.IssueCouponsRequest(request_id=uuid.uuid4().hex, template_id=tpl.id, member_nos=[m]),
            metadata=w.hq,
        )
        codes[tpl.id] = issued.codes[0]
    now = ctx.now()
    await asyncio.gather(
        expiry.announce_expiring_coupons(ctx, now), expiry.announce_expiring_coupons(ctx, now)
    )
    await expiry.announce_expiring_coupons(ctx, now + timedelta(hours=1))
    got = await coupon_events(w, "loyalty.coupon.expiring", m)
    assert [(e.code, e.name) for e in got] == [(codes[soon.id], "soon over")]
    assert got[0].valid_until == ctx.local_date(now + timedelta(days=2)).isoformat()
    # 27 days on, the other one enters the three-day window; the first is past its end.
    await expiry.announce_expiring_coupons(ctx, now + timedelta(days=27, hours=1))
    got = await coupon_events(w, "loyalty.coupon.expiring", m)
    assert sorted(e.code for e in got) == sorted(codes.values())
