"""Members on a tier (loyalty's current tier, moved by purchases) and a member's purchases, on
the real loyalty service: scope, paging, refunds shown."""

from __future__ import annotations

import uuid

import grpc
import pytest

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from tests.loyalty.conftest import random_member_no

pytestmark = pytest.mark.integration

TIER = "gold_ml"


async def ensure_tier(w) -> None:  # type: ignore[no-untyped-def]
    tiers = await w.stub.ListTiers(pb.ListTiersRequest(), metadata=w.md())
    if not any(t.code == TIER for t in tiers.tiers):
        rank = max(t.rank for t in tiers.tiers) + 1
        await w.stub.UpsertTier(
            pb.Tier(code=TIER, name="Gold", rank=rank, min_spend_12m=5_000_000), metadata=w.hq
        )


async def buy(w, store: str, member_no: str, amount: int) -> str:  # type: ignore[no-untyped-def]
    cid = "ml-" + uuid.uuid4().hex
    q = pb.QuoteRequest(
        member_no=member_no, card_no="C" + member_no, store_path=store, member_home_store_path=store,
        lines=[pb.Line(sku="TV", name="tv", category="x", qty=1, unit_price=amount)],
    )  # fmt: skip
    md = w.md("clerk", store)
    await w.stub.Reserve(pb.ReserveRequest(checkout_id=cid, quote=q), metadata=md)
    await w.stub.Confirm(pb.ConfirmRequest(checkout_id=cid), metadata=md)
    return cid


async def test_a_member_upgraded_by_a_purchase_is_on_the_new_tier_in_scope(loyalty_world) -> None:  # type: ignore[no-untyped-def]
    w = loyalty_world
    await ensure_tier(w)
    region = "HQ/MT" + uuid.uuid4().hex[:6].upper()
    store, other = f"{region}/S1", f"{region}/S2"
    big, small, elsewhere = random_member_no(), random_member_no(), random_member_no()
    await buy(w, store, big, 5_000_000)
    await buy(w, store, small, 1_000)
    await buy(w, other, elsewhere, 6_000_000)

    region_mgr = w.md("region_manager", region)
    on_tier = await w.stub.MembersOnTier(pb.MembersOnTierRequest(tier=TIER), metadata=region_mgr)
    assert sorted(on_tier.member_nos) == sorted([big, elsewhere])
    assert on_tier.page.next_cursor == ""
    in_store = await w.stub.MembersOnTier(
        pb.MembersOnTierRequest(tier=TIER, store_path=store), metadata=region_mgr
    )
    assert list(in_store.member_nos) == [big]
    standard = await w.stub.MembersOnTier(
        pb.MembersOnTierRequest(tier="standard", store_path=store), metadata=region_mgr
    )
    assert list(standard.member_nos) == [small]

    first = await w.stub.MembersOnTier(
        pb.MembersOnTierRequest(tier=TIER, page={"limit": 1}), metadata=region_mgr
    )
    assert len(first.member_nos) == 1 and first.page.next_cursor == "1"
    second = await w.stub.MembersOnTier(
        pb.MembersOnTierRequest(tier=TIER, page={"limit": 1, "cursor": "1"}), metadata=region_mgr
    )
    assert sorted([*first.member_nos, *second.member_nos]) == sorted([big, elsewhere])
    assert second.page.next_cursor == ""

    store_mgr = w.md("store_manager", other)
    theirs = await w.stub.MembersOnTier(pb.MembersOnTierRequest(tier=TIER), metadata=store_mgr)
    assert list(theirs.member_nos) == [elsewhere]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.stub.MembersOnTier(pb.MembersOnTierRequest(tier=TIER, store_path=store), metadata=store_mgr)
    assert from_rpc_error(err.value).reason in ("not_found", "out_of_scope")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.stub.MembersOnTier(pb.MembersOnTierRequest(tier=""), metadata=region_mgr)
    assert from_rpc_error(err.value).reason == "invalid_argument"


async def test_a_members_purchases_newest_first_with_refunds_and_paging(loyalty_world) -> None:  # type: ignore[no-untyped-def]
    w = loyalty_world
    store = "HQ/MP" + uuid.uuid4().hex[:6].upper() + "/S1"
    member = random_member_no()
    first = await buy(w, store, member, 10_000)
    second = await buy(w, store, member, 25_000)
    await w.stub.RefundPurchase(
        pb.RefundPurchaseRequest(request_id="r-" + first, checkout_id=first), metadata=w.md("clerk", store)
    )
    mgr = w.md("store_manager", store)
    got = await w.stub.ListMemberPurchases(pb.ListMemberPurchasesRequest(member_no=member), metadata=mgr)
    assert [p.checkout_id for p in got.purchases] == [second, first]
    newest, refunded = got.purchases
    assert newest.store_path == store and newest.subtotal == 25_000 and newest.total_due == 25_000
    assert newest.status == "completed" and newest.points_earned > 0 and newest.created_at.seconds > 0
    assert refunded.status == "refunded" and refunded.refunded_amount == 10_000

    page = await w.stub.ListMemberPurchases(
        pb.ListMemberPurchasesRequest(member_no=member, page={"limit": 1}), metadata=mgr
    )
    assert [p.checkout_id for p in page.purchases] == [second] and page.page.next_cursor == "1"

    auditor_elsewhere = w.md("auditor", "HQ/NOWHERE")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.stub.ListMemberPurchases(
            pb.ListMemberPurchasesRequest(member_no=member), metadata=auditor_elsewhere
        )
    assert from_rpc_error(err.value).reason in ("not_found", "out_of_scope")
    nobody = await w.stub.ListMemberPurchases(
        pb.ListMemberPurchasesRequest(member_no=random_member_no()), metadata=mgr
    )
    assert list(nobody.purchases) == []


async def test_the_tiers_of_some_members_in_one_call(loyalty_world) -> None:  # type: ignore[no-untyped-def]
    w = loyalty_world
    await ensure_tier(w)
    region = "HQ/MX" + uuid.uuid4().hex[:6].upper()
    store, other = f"{region}/S1", "HQ/MY" + uuid.uuid4().hex[:6].upper() + "/S1"
    big, small, away, nobody = (random_member_no() for _ in range(4))
    await buy(w, store, big, 5_000_000)
    await buy(w, store, small, 1_000)
    await buy(w, other, away, 5_000_000)
    asked = pb.MemberTiersRequest(member_nos=[small, big, away, nobody, big])
    got = await w.stub.MemberTiers(asked, metadata=w.md("clerk", store))
    assert {t.member_no: t.tier for t in got.tiers} == {big: TIER, small: "standard", away: TIER}
    auditor = await w.stub.MemberTiers(asked, metadata=w.md("auditor", region))
    assert {t.member_no: t.tier for t in auditor.tiers} == {big: TIER, small: "standard"}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.stub.MemberTiers(
            pb.MemberTiersRequest(member_nos=[random_member_no() for _ in range(501)]), metadata=w.md()
        )
    assert from_rpc_error(err.value).reason == "invalid_argument"
