"""Helpers of the wallet integration tests: random org units and cards (tests share one
database), balances and histories through the gateway, direct gRPC calls with their
reasons, the wallet database, global HQ settings restored after a test, a NATS tap."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import nats
from nats.js.api import DeliverPolicy
from sqlalchemy import text

from chainclub.events.v1 import wallet_pb2 as ev
from chainclub.members.v1 import members_pb2, members_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.errors import ChainclubError, from_rpc_error
from kit.testing import eventually
from tests.wallet.conftest import WalletWorld

PROBLEM = "application/problem+json"


def key() -> str:
    """A fresh idempotency key / request id."""
    return uuid.uuid4().hex


def rand_code(prefix: str = "T") -> str:
    """A fresh code valid for org units, card types and rule names ([A-Z0-9_-]{2,32})."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def assert_problem(
    r: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with that status (and code, and a field error)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    for name in ("type", "title", "status", "detail", "code"):
        assert name in body, f"problem lacks {name!r}: {body}"
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, f"expected an error on {field!r}, got {fields}: {body}"
    return body


async def new_card_type(w: WalletWorld, **fields: Any) -> str:
    """A card type defined by HQ through the gateway (POST /api/v1/card-types)."""
    code = rand_code("CT")
    body = {"code": code, "name": f"type {code}", "kind": "personal", **fields}
    r = await w.call("POST", "/api/v1/card-types", w.admin, json=body)
    assert r.status_code == 201, r.text
    return code


@dataclass
class Shop:
    """A region with one store, a clerk of that store (gateway token) and its direct-gRPC twin."""

    region: str
    store: str
    clerk: str
    grpc_clerk: str

    @property
    def path(self) -> str:
        return f"HQ/{self.region}/{self.store}"


async def shop(w: WalletWorld, region: str | None = None) -> Shop:
    region = region or await w.unit("region", "HQ")
    store = await w.unit("store", region)
    clerk = await w.staff("clerk", store)
    return Shop(region, store, clerk, w.token_for("clerk", f"HQ/{region}/{store}"))


async def balance(w: WalletWorld, token: str, card_no: str) -> dict[str, Any]:
    r = await w.call("GET", f"/api/v1/cards/{card_no}/balance", token)
    assert r.status_code == 200, r.text
    return r.json()


async def buckets(w: WalletWorld, token: str, card_no: str) -> tuple[int, int]:
    b = await balance(w, token, card_no)
    assert b["total"] == b["principal"] + b["bonus"], b
    return b["principal"], b["bonus"]


async def history(w: WalletWorld, token: str, card_no: str) -> list[dict[str, Any]]:
    r = await w.call("GET", f"/api/v1/cards/{card_no}/transactions", token, params={"limit": 500})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def username(w: WalletWorld, token: str) -> str:
    r = await w.call("GET", "/api/v1/me", token)
    assert r.status_code == 200, r.text
    return r.json()["username"]


async def post(
    w: WalletWorld, path: str, token: str, body: Any = None, idem: str | None = None
) -> httpx.Response:
    """A POST with a fresh Idempotency-Key unless one is given."""
    return await w.call("POST", path, token, json=body, headers={"Idempotency-Key": idem or key()})


async def issue(w: WalletWorld, token: str, member_no: str, card_type: str) -> str:
    """A card of ``card_type`` for the member (POST /members/{no}/cards); its number."""
    r = await w.call("POST", f"/api/v1/members/{member_no}/cards", token, json={"card_type": card_type})
    assert r.status_code == 201, r.text
    return r.json()["card_no"]


async def card_type_grpc(w: WalletWorld, **fields: Any) -> str:
    """A card type defined by HQ straight on the members service (setup for tests that are not
    about the gateway's card-type route)."""
    code = rand_code("CT")
    async with grpc.aio.insecure_channel(w.settings.members_addr) as channel:
        await members_pb2_grpc.MembersServiceStub(channel).UpsertCardType(
            members_pb2.CardType(
                code=code, name=f"type {code}", kind="personal", active=True, max_holders=1, **fields
            ),
            metadata=w.md(w.token_for("hq_admin", "HQ")),
            timeout=10,
        )
    return code


# --- gRPC --------------------------------------------------------------------------------------------
async def fails(call: Awaitable[Any]) -> ChainclubError:
    """The error a gRPC call fails with (the reason rebuilt from the status details)."""
    try:
        reply = await call
    except grpc.aio.AioRpcError as exc:
        err = from_rpc_error(exc)
        err.code = exc.code()  # type: ignore[attr-defined]
        return err
    raise AssertionError(f"the call succeeded: {reply}")


async def pay(
    w: WalletWorld, token: str, card_no: str, amount: int, request_id: str | None = None
) -> pb.Transaction:
    return await w.wallet.CapturePayment(
        pb.CapturePaymentRequest(request_id=request_id or key(), card_no=card_no, amount=amount),
        metadata=w.md(token),
        timeout=15,
    )


async def refund(w: WalletWorld, token: str, payment_id: str, amount: int = 0, request_id: str | None = None):  # type: ignore[no-untyped-def]
    return await w.wallet.RefundPayment(
        pb.RefundPaymentRequest(request_id=request_id or key(), payment_request_id=payment_id, amount=amount),
        metadata=w.md(token),
        timeout=15,
    )


async def top_up_grpc(
    w: WalletWorld, token: str, card_no: str, amount: int, channel: str = "cash"
) -> pb.Transaction:
    return await w.wallet.TopUp(
        pb.TopUpRequest(request_id=key(), card_no=card_no, amount=amount, channel=channel),
        metadata=w.md(token),
        timeout=15,
    )


async def funded(w: WalletWorld, s: Shop, principal: int, bonus: int = 0) -> str:
    """A new member's card at ``s`` holding exactly ``principal`` and ``bonus`` (the bonus by a
    small HQ adjustment over gRPC, so no chain-wide bonus rule is left behind)."""
    card = await w.card(s.clerk)
    if principal:
        r = await w.top_up(s.clerk, card, principal)
        assert r.status_code == 201, r.text
    if bonus:
        adj = await w.wallet.RequestAdjustment(
            pb.RequestAdjustmentRequest(
                request_id=key(), card_no=card, amount=bonus, bucket="bonus", reason="setup"
            ),
            metadata=w.md(w.token_for("hq_admin", "HQ")),
            timeout=15,
        )
        assert adj.status == "applied", adj
    assert await buckets(w, s.clerk, card) == (principal, bonus)
    return card


# --- the wallet database -----------------------------------------------------------------------------
async def scalar(w: WalletWorld, sql: str, **params: Any) -> Any:
    async with w.wallet_service.runtime.db.sessions() as session:  # type: ignore[union-attr]
        return (await session.execute(text(sql), params)).scalar()


async def execute(w: WalletWorld, sql: str, **params: Any) -> Any:
    """Run one statement in a committed transaction; its first value when it returns rows."""
    async with w.wallet_service.runtime.db.transaction() as session:  # type: ignore[union-attr]
        result = await session.execute(text(sql), params)
        return result.scalar() if result.returns_rows else None


async def postings_count(w: WalletWorld) -> int:
    return int(await scalar(w, "SELECT count(*) FROM postings"))


async def account_id(w: WalletWorld, token: str, card_no: str) -> str:
    b = await w.wallet.GetBalance(pb.GetBalanceRequest(card_no=card_no), metadata=w.md(token), timeout=10)
    return b.account_id


async def cached(w: WalletWorld, account: str) -> tuple[int, int] | None:
    async with w.wallet_service.runtime.db.sessions() as session:  # type: ignore[union-attr]
        row = (
            await session.execute(
                text("SELECT principal, bonus FROM accounts WHERE id = :id"), {"id": account}
            )
        ).first()
    return (int(row.principal), int(row.bonus)) if row else None


# --- HQ-wide settings, undone after a test ---------------------------------------------------------------
@contextlib.asynccontextmanager
async def risk_rules(w: WalletWorld) -> AsyncIterator[Any]:
    """``create(**body)`` posts a risk rule as HQ; every rule asked for is deactivated afterwards,
    by its name, in the wallet database: risk rules are chain-wide, the API has no way to retire
    one, and a rule left active would fire on every later test (also when the POST answered
    with an error after all)."""
    names: list[str] = []

    async def create(**body: Any) -> dict[str, Any]:
        body.setdefault("name", rand_code("RISK"))
        names.append(body["name"])
        r = await w.call("POST", "/api/v1/risk/rules", w.admin, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    try:
        yield create
    finally:
        if names:
            await execute(
                w, "UPDATE risk_rules SET active = false WHERE name = ANY(CAST(:n AS text[]))", n=names
            )


@contextlib.asynccontextmanager
async def top_up_policy(
    w: WalletWorld, stores: list[str], operators: list[str] | None = None
) -> AsyncIterator[dict]:
    """HQ's top-up policy (chain-wide) for the block; lifted afterwards whatever happened."""
    try:
        r = await w.call(
            "PUT",
            "/api/v1/wallet/top-up-policy",
            w.admin,
            json={"stores": stores, "operators": operators or []},
        )
        assert r.status_code == 200, r.text
        yield r.json()
    finally:
        r = await w.call("PUT", "/api/v1/wallet/top-up-policy", w.admin, json={"stores": [], "operators": []})
        # a policy left behind would refuse every later top-up: make sure, even if the PUT failed
        await execute(w, "UPDATE topup_policy SET store_paths = '{}', operators = '{}'")
        assert r.status_code == 200, r.text


# --- events -------------------------------------------------------------------------------------------
@dataclass
class Seen:
    subject: str
    headers: dict[str, str]
    message: Any


@dataclass
class Tap:
    """Every message on ``wallet.>`` published after the tap opened, decoded by ce-type."""

    seen: list[Seen] = field(default_factory=list)

    async def on_message(self, msg) -> None:  # type: ignore[no-untyped-def]
        headers = dict(msg.headers or {})
        cls = getattr(ev, headers.get("ce-type", "").rsplit(".", 1)[-1], None)
        self.seen.append(Seen(msg.subject, headers, cls.FromString(msg.data) if cls else None))

    def of(self, card_no: str, subject: str) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.subject == subject
            and s.message is not None
            and getattr(s.message, "card_no", None) == card_no
        ]

    async def one(self, card_no: str, subject: str, timeout: float = 15) -> Seen:
        await eventually(lambda: self.of(card_no, subject), timeout=timeout, what=f"{subject} for {card_no}")
        found = self.of(card_no, subject)
        assert len(found) == 1, f"{subject} for {card_no} published {len(found)} times"
        return found[0]


@contextlib.asynccontextmanager
async def tap(w: WalletWorld) -> AsyncIterator[Tap]:
    nc = await nats.connect(w.settings.nats_url, connect_timeout=5)
    js = nc.jetstream(timeout=5)

    async def stream_ready() -> bool:
        try:
            await js.stream_info("WALLET")
            return True
        except nats.js.errors.NotFoundError:
            return False

    await eventually(stream_ready, what="the WALLET stream")
    t = Tap()
    sub = await js.subscribe(
        "wallet.>", stream="WALLET", cb=t.on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    try:
        yield t
    finally:
        await sub.unsubscribe()
        await nc.close()
