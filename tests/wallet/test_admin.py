"""HQ's side of stored value through the gateway: adjustments and their approval, fees, risk
rules and alerts, inter-store settlement, the wallet's events on NATS, and scope."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from chainclub.wallet.v1 import wallet_pb2 as pb
from tests.wallet.helpers import (
    assert_problem,
    buckets,
    card_type_grpc,
    fails,
    funded,
    history,
    issue,
    key,
    pay,
    post,
    postings_count,
    refund,
    shop,
    tap,
    username,
)

pytestmark = pytest.mark.integration

ADJUST = "/api/v1/wallet/adjustments"


# --- adjustments -------------------------------------------------------------------------------------
async def test_adjustment_needs_a_reason(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    before = await postings_count(w)
    assert_problem(
        await post(w, ADJUST, w.admin, {"card_no": card, "amount": 500}), 422, "invalid_argument", "reason"
    )
    for reason in ("", "   "):
        r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": 500, "reason": reason})
        assert_problem(r, 422, "invalid_argument")
    assert_problem(
        await post(w, ADJUST, w.admin, {"card_no": card, "amount": 0, "reason": "x"}), 422, "invalid_argument"
    )
    assert await postings_count(w) == before
    assert await buckets(w, s.clerk, card) == (1_000, 0)


async def test_small_adjustment_is_applied_at_once(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    idem = key()
    r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": 5_000, "reason": "goodwill"}, idem=idem)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["amount"], body["bucket"], body["card_no"]) == (
        "applied",
        5_000,
        "principal",
        card,
    )
    assert body["transaction_id"]
    assert await buckets(w, s.clerk, card) == (6_000, 0)
    [adj] = [t for t in await history(w, s.clerk, card) if t["kind"] == "adjustment"]
    assert (adj["transaction_id"], adj["principal"], adj["note"]) == (
        body["transaction_id"],
        5_000,
        "goodwill",
    )

    again = await post(
        w, ADJUST, w.admin, {"card_no": card, "amount": 5_000, "reason": "goodwill"}, idem=idem
    )
    assert again.status_code == 201 and again.json() == body, again.text
    r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": 6_000, "reason": "goodwill"}, idem=idem)
    assert_problem(r, 409, "idempotency_key_reused")
    assert await buckets(w, s.clerk, card) == (6_000, 0)

    r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": 800, "bucket": "bonus", "reason": "promo"})
    assert r.status_code == 201, r.text
    assert await buckets(w, s.clerk, card) == (6_000, 800)


async def test_large_adjustment_waits_for_another_hq_admin(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    amount = w.settings.wallet_adjustment_approval_threshold + 50_000
    r = await post(
        w, ADJUST, w.admin, {"card_no": card, "amount": amount, "reason": "migration from old system"}
    )
    assert r.status_code == 202, r.text
    pending = r.json()
    assert pending["status"] == "pending_approval"
    assert await buckets(w, s.clerk, card) == (1_000, 0)

    approve = f"{ADJUST}/{pending['id']}/approve"
    assert_problem(await w.call("POST", approve, w.admin), 403, "forbidden")
    assert_problem(await w.call("POST", approve, await w.staff("region_manager", s.region)), 403, "forbidden")
    assert await buckets(w, s.clerk, card) == (1_000, 0)

    second = await w.staff("hq_admin", "HQ")
    r = await w.call("POST", approve, second)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["approved_by"]) == ("applied", await username(w, second))
    assert await buckets(w, s.clerk, card) == (1_000 + amount, 0)
    assert_problem(await w.call("POST", approve, second), 409, "conflict")
    assert await buckets(w, s.clerk, card) == (1_000 + amount, 0)
    listed = await w.call("GET", ADJUST, w.admin, params={"status": "applied"})
    assert pending["id"] in {a["id"] for a in listed.json()["items"]}
    assert_problem(await w.call("POST", f"{ADJUST}/{uuid.uuid4()}/approve", second), 404, "not_found")


async def test_only_hq_adjusts(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000)
    for role, unit in (("region_manager", s.region), ("store_manager", s.store)):
        token = await w.staff(role, unit)
        assert_problem(
            await post(w, ADJUST, token, {"card_no": card, "amount": 100, "reason": "x"}), 403, "forbidden"
        )
    assert_problem(
        await post(w, ADJUST, s.clerk, {"card_no": card, "amount": 100, "reason": "x"}), 403, "forbidden"
    )
    assert await buckets(w, s.clerk, card) == (1_000, 0)


async def test_debit_beyond_the_bucket_is_refused(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await funded(w, s, 1_000, 200)
    before = await postings_count(w)
    r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": -1_001, "reason": "correction"})
    assert_problem(r, 402, "insufficient_balance")
    r = await post(
        w, ADJUST, w.admin, {"card_no": card, "amount": -201, "bucket": "bonus", "reason": "correction"}
    )
    assert_problem(r, 402, "insufficient_balance")
    assert await postings_count(w) == before
    r = await post(w, ADJUST, w.admin, {"card_no": card, "amount": -1_000, "reason": "correction"})
    assert r.status_code == 201, r.text
    assert await buckets(w, s.clerk, card) == (0, 200)


# --- fees ------------------------------------------------------------------------------------------
async def test_fees_default_from_the_card_type_in_cash_or_from_stored_value(wallet_world):
    w = wallet_world
    s = await shop(w)
    ctype = await card_type_grpc(w, annual_fee=1_200, joining_fee=300)
    member = await w.register(s.clerk)
    card = await issue(w, s.clerk, member["member_no"], ctype)
    assert (await w.top_up(s.clerk, card, 5_000)).status_code == 201

    r = await post(w, f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "annual", "payment": "cash"})
    assert r.status_code == 201, r.text
    assert (r.json()["amount"], r.json()["payment"], r.json()["kind"]) == (1_200, "cash", "fee")
    assert r.json()["balance"] == {"principal": 5_000, "bonus": 0, "total": 5_000}
    r = await post(
        w, f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "annual", "payment": "stored_value"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["balance"] == {"principal": 3_800, "bonus": 0, "total": 3_800}
    idem = key()
    r = await post(
        w, f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "joining"}, idem=idem
    )  # cash by default
    assert r.status_code == 201 and r.json()["amount"] == 300, r.text
    again = await post(w, f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "joining"}, idem=idem)
    assert again.status_code == 201 and again.json() == r.json(), again.text
    r = await post(w, f"/api/v1/cards/{card}/fees", s.clerk,
                   {"fee_type": "service", "amount": 250, "payment": "stored_value"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert await buckets(w, s.clerk, card) == (3_550, 0)
    fees = [
        (t["amount"], t["channel"], t["note"]) for t in await history(w, s.clerk, card) if t["kind"] == "fee"
    ]
    assert sorted(fees) == sorted(
        [(1_200, "cash", "annual"), (1_200, "stored_value", "annual"), (300, "cash", "joining"),
         (250, "stored_value", "service")]
    )  # fmt: skip


async def test_bad_fees_are_refused_and_write_nothing(wallet_world):
    w = wallet_world
    s = await shop(w)
    other = await shop(w)
    card = await funded(w, s, 1_000, 5_000)
    before = await postings_count(w)
    url = f"/api/v1/cards/{card}/fees"
    # the bonus never pays a fee: 1001 > principal 1000
    r = await post(w, url, s.clerk, {"fee_type": "service", "amount": 1_001, "payment": "stored_value"})
    assert_problem(r, 402, "insufficient_balance")
    assert_problem(
        await post(w, url, s.clerk, {"fee_type": "late_penalty"}), 422, "invalid_argument"
    )  # no default
    for body in ({"fee_type": "tip", "amount": 100}, {"fee_type": "service", "amount": 0},
                 {"fee_type": "service", "amount": 100, "payment": "card"}):  # fmt: skip
        assert_problem(await post(w, url, s.clerk, body), 422, "invalid_argument")
    r = await post(w, url, other.clerk, {"fee_type": "service", "amount": 100, "payment": "cash"})
    assert_problem(r, 404, "not_found")
    r = await w.call("POST", url, s.clerk, json={"fee_type": "service", "amount": 100})
    assert_problem(r, 400, "idempotency_key_required")
    assert await postings_count(w) == before
    assert await buckets(w, s.clerk, card) == (1_000, 5_000)


# --- settlement ------------------------------------------------------------------------------------
def by_store(r) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return {item["store_path"]: item for item in r.json()["items"]}


async def test_settlement_shows_value_taken_in_at_one_store_and_spent_at_another(wallet_world):
    w = wallet_world
    region = await w.unit("region", "HQ")
    a = await shop(w, region)
    b = await shop(w, region)
    card = await w.card(a.clerk)
    assert (await w.top_up(a.clerk, card, 10_000)).status_code == 201
    await pay(w, b.grpc_clerk, card, 3_000)

    seen = by_store(await w.call("GET", "/api/v1/wallet/settlement", w.admin))
    assert (seen[a.path]["taken_in"], seen[a.path]["spent"], seen[a.path]["net"]) == (10_000, 0, -10_000)
    assert (seen[b.path]["taken_in"], seen[b.path]["spent"], seen[b.path]["net"]) == (0, 3_000, 3_000)
    mine = by_store(await w.call("GET", "/api/v1/wallet/settlement", await w.staff("region_manager", region)))
    assert {a.path, b.path} <= set(mine)
    assert all(path.startswith(f"HQ/{region}/") for path in mine)
    other = await w.staff("region_manager", await w.unit("region", "HQ"))
    theirs = by_store(await w.call("GET", "/api/v1/wallet/settlement", other))
    assert a.path not in theirs and b.path not in theirs
    later = datetime.now(UTC) + timedelta(hours=1)
    future = by_store(
        await w.call("GET", "/api/v1/wallet/settlement", w.admin, params={"from": later.isoformat()})
    )
    assert a.path not in future and b.path not in future
    assert_problem(await w.call("GET", "/api/v1/wallet/settlement", a.clerk), 403, "forbidden")


async def test_settlement_is_also_an_xlsx(wallet_world):
    """Issue 5 §11: the settlement report per store, scoped, "XLSX too" (like the other reports:
    ``GET /api/v1/wallet/settlement.xlsx`` with the same filters)."""
    w = wallet_world
    region = await w.unit("region", "HQ")
    a = await shop(w, region)
    card = await w.card(a.clerk)
    assert (await w.top_up(a.clerk, card, 4_000)).status_code == 201
    r = await w.call("GET", "/api/v1/wallet/settlement.xlsx", await w.staff("region_manager", region))
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ), r.headers
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert any(a.path in row and 4_000 in row and -4_000 in row for row in rows), rows


# --- closing an account ------------------------------------------------------------------------------
async def test_closing_pays_out_the_principal_minus_the_fee_and_the_account_takes_no_more(wallet_world):
    w = wallet_world
    s = await shop(w)
    manager = await w.staff("store_manager", s.store)
    card = await funded(w, s, 5_000, 1_000)
    r = await post(w, f"/api/v1/cards/{card}/close", manager, {"fee": 300})
    assert r.status_code == 201, r.text
    assert (r.json()["paid_out"], r.json()["principal"], r.json()["bonus"]) == (4_700, -5_000, -1_000)
    assert await buckets(w, s.clerk, card) == (0, 0)
    assert_problem(await post(w, f"/api/v1/cards/{card}/close", manager, {"fee": 0}), 409, "conflict")
    # A closed account neither pays nor takes value in: money topped up now would be stuck.
    before = await postings_count(w)
    assert_problem(await w.top_up(s.clerk, card, 1_000), 409)
    assert await postings_count(w) == before
    assert await buckets(w, s.clerk, card) == (0, 0)
    assert (await fails(pay(w, s.grpc_clerk, card, 1))).reason == "insufficient_balance"


# --- events and scope -----------------------------------------------------------------------------------
async def test_money_movements_are_published_on_the_wallet_stream(wallet_world):
    w = wallet_world
    s = await shop(w)
    card = await w.card(s.clerk)
    async with tap(w) as events:
        top = (await w.top_up(s.clerk, card, 6_000)).json()
        paid = key()
        payment = await pay(w, s.grpc_clerk, card, 2_000, request_id=paid)
        back = await refund(w, s.grpc_clerk, paid, 500)
        r = await post(w, f"/api/v1/cards/{card}/fees", s.clerk, {"fee_type": "service", "amount": 100})
        assert r.status_code == 201, r.text
        adjustment = await w.wallet.RequestAdjustment(
            pb.RequestAdjustmentRequest(request_id=key(), card_no=card, amount=300, reason="sorry"),
            metadata=w.md(w.token_for("hq_admin", "HQ")),
            timeout=10,
        )
        assert adjustment.status == "applied"

        topup = await events.one(card, "wallet.topup.completed")
        assert topup.headers["ce-type"] == "chainclub.events.v1.TopUpCompleted"
        assert topup.headers["ce-source"] == "chainclub/wallet"
        m = topup.message
        assert (m.transaction_id, m.amount, m.bonus, m.channel) == (top["transaction_id"], 6_000, 0, "cash")
        assert m.acting_store_path == m.home_store_path == s.path
        captured = (await events.one(card, "wallet.payment.captured")).message
        assert (captured.transaction_id, captured.request_id) == (payment.transaction_id, paid)
        assert (captured.amount, captured.principal, captured.bonus) == (2_000, 2_000, 0)
        refunded = (await events.one(card, "wallet.payment.refunded")).message
        assert (refunded.transaction_id, refunded.amount, refunded.payment_request_id) == (
            back.transaction_id,
            500,
            paid,
        )
        fee = (await events.one(card, "wallet.fee.charged")).message
        assert (fee.amount, fee.fee_type, fee.payment) == (100, "service", "cash")
        adjusted = (await events.one(card, "wallet.adjustment.applied")).message
        assert (adjusted.adjustment_id, adjusted.amount, adjusted.bucket, adjusted.reason) == (
            adjustment.id, 300, "principal", "sorry")  # fmt: skip


async def test_transactions_stay_with_the_home_scope(wallet_world):
    w = wallet_world
    s = await shop(w)
    neighbour = await shop(w, s.region)
    away = await shop(w)
    card = await funded(w, s, 1_000)
    for token in (neighbour.clerk, away.clerk):
        r = await w.call("GET", f"/api/v1/cards/{card}/transactions", token)
        assert_problem(r, 404, "not_found")
    manager = await w.staff("region_manager", s.region)
    assert len(await history(w, manager, card)) == 1
    assert len(await history(w, w.admin, card)) == 1
    assert_problem(await w.call("GET", f"/api/v1/cards/{card}/transactions"), 401)
