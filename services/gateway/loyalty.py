"""Loyalty reads the REST routes (routes/loyalty.py, identify and the member profile) and
the pages share: a member's points, their history and coupons. The member is first looked up
through the members service (its scope decides: 404 outside it); loyalty owns the figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from chainclub.members.v1 import members_pb2 as mpb
from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway.protojson import plain
from services.gateway.state import GatewayState

READ_TIMEOUT = 3  # seconds; the counter does not wait longer for figures it can do without


# --- answers (the JSON of the routes, field for field) -------------------------------------------
class ExpiringPoints(BaseModel):
    points: int
    expires_on: str


class Points(BaseModel):
    member_no: str
    balance: int
    reserved: int
    expiring: list[ExpiringPoints]
    tier: str | None


class PointsEntry(BaseModel):
    id: str
    kind: str = Field(description="earn, redeem, reserve, release, expire, clawback, adjust, bonus")
    points: int = Field(description="signed")
    reference: str
    rules: list[str]
    at: str | None


class PointsHistory(BaseModel):
    items: list[PointsEntry]
    next_cursor: str | None


class MemberCoupon(BaseModel):
    code: str
    template_id: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    status: str = Field(description="available, reserved, redeemed, expired")
    valid_from: str | None
    valid_until: str | None


class MemberCoupons(BaseModel):
    items: list[MemberCoupon]
    next_cursor: None


class CouponBrief(BaseModel):
    """A coupon the member can use now, as the counter shows it."""

    code: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    valid_until: str | None


# --- gRPC reads ----------------------------------------------------------------------------------
async def member_in_scope(state: GatewayState, p: Principal, member_no: str) -> None:
    """The member must be in the caller's scope (else 404, as the members service says)."""
    await state.clients.call(state.clients.members.GetMember, mpb.GetMemberRequest(member_no=member_no), p)


async def points_balance(
    state: GatewayState, p: Principal, member_no: str, timeout: float = 15.0
) -> pb.PointsBalance | None:
    """Loyalty's points account of the member; None when it has none yet (the member never
    earned). Raises what loyalty answers otherwise."""
    try:
        return await state.clients.call(
            state.clients.loyalty.GetPoints, pb.GetPointsRequest(member_no=member_no), p, timeout=timeout
        )
    except ChainclubError as exc:
        if exc.reason != "not_found":
            raise
        return None


async def coupons_of(
    state: GatewayState, p: Principal, member_no: str, status: str | None = None, timeout: float = 15.0
) -> list[pb.MemberCoupon]:
    """The member's coupons (of one status); an available coupon past its end is "expired"."""
    req = pb.ListMemberCouponsRequest(member_no=member_no, status=status or "")
    reply = await state.clients.call(state.clients.loyalty.ListMemberCoupons, req, p, timeout=timeout)
    return list(reply.coupons)


def usable(c: pb.MemberCoupon, now: datetime) -> bool:
    """Available, already valid and not expired."""
    if c.status != "available":
        return False
    if c.HasField("valid_from") and c.valid_from.ToDatetime(tzinfo=UTC) > now:
        return False
    return not (c.HasField("valid_until") and c.valid_until.ToDatetime(tzinfo=UTC) <= now)


def coupon_brief(c: pb.MemberCoupon) -> dict[str, Any]:
    """-> ``CouponBrief``."""
    until = c.valid_until.ToDatetime(tzinfo=UTC).isoformat() if c.HasField("valid_until") else None
    return {
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "amount_off": c.amount_off,
        "percent_off_bps": c.percent_off_bps,
        "min_spend": c.min_spend,
        "valid_until": until,
    }


async def counter_points(state: GatewayState, p: Principal, member_no: str) -> tuple[int | None, str | None]:
    """(points, tier) as identify and the profile show them: the balance (0 without an
    account) and loyalty's tier (None without an account: members' tier stands); (None, None)
    when loyalty does not answer, so the counter keeps working without it."""
    try:
        b = await points_balance(state, p, member_no, timeout=READ_TIMEOUT)
    except ChainclubError:
        return None, None
    if b is None:
        return 0, None
    return b.balance, b.tier or None


async def usable_coupons(state: GatewayState, p: Principal, member_no: str) -> list[dict[str, Any]]:
    """The coupons the member can use now (``CouponBrief``); [] when loyalty does not answer."""
    try:
        found = await coupons_of(state, p, member_no, "available", timeout=READ_TIMEOUT)
    except ChainclubError:
        return []
    now = datetime.now(UTC)
    return [coupon_brief(c) for c in found if usable(c, now)]


# --- use cases -----------------------------------------------------------------------------------
async def points(state: GatewayState, p: Principal, member_no: str) -> dict[str, Any]:
    """The member's points. -> ``Points`` (all zero before the member's first points)."""
    await member_in_scope(state, p, member_no)
    b = await points_balance(state, p, member_no) or pb.PointsBalance(member_no=member_no)
    return {
        "member_no": member_no,
        "balance": b.balance,
        "reserved": b.reserved,
        "expiring": [{"points": e.points, "expires_on": e.expires_on} for e in b.expiring],
        "tier": b.tier or None,
    }


async def points_history(
    state: GatewayState, p: Principal, member_no: str, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The member's points entries, one page. -> ``PointsHistory``."""
    await member_in_scope(state, p, member_no)
    req = pb.ListPointsHistoryRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.loyalty.ListPointsHistory, req, p)
    return {"items": [plain(e) for e in reply.entries], "next_cursor": reply.page.next_cursor or None}


async def member_coupons(
    state: GatewayState, p: Principal, member_no: str, status: str | None = None
) -> dict[str, Any]:
    """The member's coupons (every status, or one). -> ``MemberCoupons``."""
    await member_in_scope(state, p, member_no)
    return {"items": [plain(c) for c in await coupons_of(state, p, member_no, status)], "next_cursor": None}
