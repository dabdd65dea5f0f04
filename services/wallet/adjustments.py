"""HQ adjustments: a reason always; above the threshold a second HQ admin approves (the
requester never approves its own) or an HQ admin rejects it (the requester may withdraw its own)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from chainclub.events.v1 import wallet_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, NotFound
from services.wallet import access, domain
from services.wallet.context import WalletContext
from services.wallet.domain import ADJUSTMENT_LEDGER, Posting, member_ledger
from services.wallet.journal import open_account, post, ts
from services.wallet.models import adjustments


def adjustment_pb(r) -> pb.Adjustment:  # type: ignore[no-untyped-def]
    return pb.Adjustment(
        id=str(r.id), card_no=r.card_no, amount=r.amount, bucket=r.bucket, reason=r.reason, status=r.status,
        requested_by=r.requested_by, approved_by=r.approved_by or "",
        transaction_id=str(r.transaction_id) if r.transaction_id else "", created_at=ts(r.created_at),
        rejected_by=r.rejected_by or "", rejection_reason=r.rejection_reason or "",
    )  # fmt: skip


async def _apply(ctx: WalletContext, session, row, approver: str) -> None:  # type: ignore[no-untyped-def]
    account = await open_account(session, row.account_id, row.card_no, "", row.home_store_path)
    bucket_balance = account.principal if row.bucket == "principal" else account.bonus
    if bucket_balance + row.amount < 0:
        raise domain.InsufficientBalance(
            f"the {row.bucket} bucket holds {bucket_balance} fen; cannot take {-row.amount}"
        )
    now = ctx.now()
    txn = await post(
        session, kind="adjustment", account=account, card_no=row.card_no, amount=abs(row.amount), acting="HQ",
        request_id=row.request_id, actor=approver, now=now, note=row.reason[:200],
        entries=[Posting(member_ledger(account.id, row.bucket), row.amount), Posting(ADJUSTMENT_LEDGER, -row.amount)],
    )  # fmt: skip
    await session.execute(
        update(adjustments)
        .where(adjustments.c.id == row.id)
        .values(status="applied", approved_by=approver, transaction_id=uuid.UUID(txn.transaction_id))
    )
    await ctx.emit(
        session,
        "wallet.adjustment.applied",
        ev.AdjustmentApplied(
            adjustment_id=str(row.id), transaction_id=txn.transaction_id, card_no=row.card_no,
            account_id=str(account.id), member_no=account.member_no, amount=row.amount, bucket=row.bucket,
            reason=row.reason, requested_by=row.requested_by, approved_by=approver,
            home_store_path=account.home_store_path, at=ts(now),
        ),
        account.home_store_path,
    )  # fmt: skip


async def request_adjustment(
    ctx: WalletContext, p: Principal, req: pb.RequestAdjustmentRequest
) -> pb.Adjustment:
    access.require(p, access.HQ, "adjust balances")
    if not req.request_id:
        raise domain.WalletError(
            "an idempotency key (request_id) is required", reason="idempotency_key_required"
        )
    if req.amount == 0 or abs(req.amount) > domain.MAX_AMOUNT:
        raise InvalidArgument("amount must be a non-zero number of fen (negative = debit)", field="amount")
    bucket = req.bucket or "principal"
    if bucket not in ("principal", "bonus"):
        raise InvalidArgument("bucket must be principal or bonus", field="bucket")
    if not req.reason.strip():
        raise InvalidArgument("an adjustment needs a reason", field="reason")
    card = await ctx.members.card(p, req.card_no)
    async with ctx.db.transaction() as session:
        existing = (
            await session.execute(select(adjustments).where(adjustments.c.request_id == req.request_id))
        ).first()
        if existing is not None:
            same = (existing.card_no, existing.amount, existing.bucket, existing.reason) == (
                card.card_no,
                req.amount,
                bucket,
                req.reason.strip(),
            )
            if not same:
                raise domain.IdempotencyKeyReused("this idempotency key was used for a different adjustment")
            return adjustment_pb(existing)
        needs_approval = abs(req.amount) > ctx.settings.wallet_adjustment_approval_threshold
        row = (
            await session.execute(
                adjustments.insert()
                .values(
                    id=uuid.uuid4(), request_id=req.request_id, card_no=card.card_no,
                    account_id=uuid.UUID(card.account_id), amount=req.amount, bucket=bucket,
                    reason=req.reason.strip()[:1000], status="pending_approval", requested_by=p.sub,
                    home_store_path=card.member_home_store_path,
                )
                .returning(*adjustments.c)
            )
        ).one()  # fmt: skip
        if not needs_approval:
            await _apply(ctx, session, row, p.sub)
        row = (await session.execute(select(adjustments).where(adjustments.c.id == row.id))).one()
    return adjustment_pb(row)


async def approve(ctx: WalletContext, p: Principal, req: pb.ApproveAdjustmentRequest) -> pb.Adjustment:
    access.require(p, access.HQ, "approve adjustments")
    try:
        adj_id = uuid.UUID(req.id)
    except ValueError:
        raise NotFound(f"no adjustment {req.id!r}") from None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(adjustments).where(adjustments.c.id == adj_id).with_for_update())
        ).first()
        if row is None:
            raise NotFound(f"no adjustment {req.id!r}")
        if row.status != "pending_approval":
            raise domain.WalletError(f"this adjustment is {row.status}", reason="conflict")
        if row.requested_by == p.sub:
            raise Forbidden("the requester cannot approve its own adjustment: another HQ admin must")
        await _apply(ctx, session, row, p.sub)
        row = (await session.execute(select(adjustments).where(adjustments.c.id == adj_id))).one()
    return adjustment_pb(row)


async def reject(ctx: WalletContext, p: Principal, req: pb.RejectAdjustmentRequest) -> pb.Adjustment:
    """A pending adjustment refused with a reason: nothing moves. Rejecting a rejected one
    returns it as it is; an applied one cannot be rejected (correct it the other way)."""
    access.require(p, access.HQ, "reject adjustments")
    reason = req.reason.strip()
    if not reason:
        raise InvalidArgument("a rejection needs a reason", field="reason")
    try:
        adj_id = uuid.UUID(req.adjustment_id)
    except ValueError:
        raise NotFound(f"no adjustment {req.adjustment_id!r}") from None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(adjustments).where(adjustments.c.id == adj_id).with_for_update())
        ).first()
        if row is None or not p.may_access(row.home_store_path):
            raise NotFound(f"no adjustment {req.adjustment_id!r}")
        if row.status == "rejected":
            return adjustment_pb(row)
        if row.status != "pending_approval":
            raise domain.WalletError(f"this adjustment is {row.status}", reason="conflict")
        row = (
            await session.execute(
                update(adjustments)
                .where(adjustments.c.id == adj_id)
                .values(
                    status="rejected",
                    rejected_by=p.sub,
                    rejection_reason=reason[:1000],
                    rejected_at=ctx.now(),
                )
                .returning(*adjustments.c)
            )
        ).one()
    return adjustment_pb(row)


async def list_adjustments(
    ctx: WalletContext, p: Principal, req: pb.ListAdjustmentsRequest
) -> pb.ListAdjustmentsResponse:
    access.require(p, access.HQ | {"auditor"}, "read adjustments")
    query = select(adjustments).order_by(adjustments.c.created_at.desc()).limit(500)
    if req.status:
        query = query.where(adjustments.c.status == req.status)
    async with ctx.db.sessions() as session:
        rows = (await session.execute(query)).all()
    return pb.ListAdjustmentsResponse(
        adjustments=[adjustment_pb(r) for r in rows if p.may_access(r.home_store_path)]
    )
