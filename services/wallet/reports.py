"""Inter-store settlement, stored value outstanding (the liability) and the reconciliation check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from sqlalchemy import func, select, text

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.db import Database
from kit.errors import InvalidArgument
from kit.summary import IN_SCOPE
from services.wallet import access
from services.wallet.context import WalletContext
from services.wallet.models import accounts, postings, transactions


async def settlement(ctx: WalletContext, p: Principal, req: pb.SettlementRequest) -> pb.SettlementResponse:
    """Per store: stored value taken in (top-ups and cash it received for it), spent there
    (payments net of refunds), and the net the chain owes the store (> 0) or is owed (< 0)."""
    access.require(p, access.RISK_READERS, "read settlement")
    start = getattr(req, "from").ToDatetime(tzinfo=UTC) if req.HasField("from") else None
    end = req.to.ToDatetime(tzinfo=UTC) if req.HasField("to") else None
    if start and end and end <= start:
        raise InvalidArgument("to must be after from", field="to")
    query = (
        select(postings.c.ledger, transactions.c.kind, func.sum(postings.c.amount))
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.ledger.startswith("store:"))
        .group_by(postings.c.ledger, transactions.c.kind)
    )
    if start:
        query = query.where(postings.c.created_at >= start)
    if end:
        query = query.where(postings.c.created_at < end)
    taken: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    async with ctx.db.sessions() as session:
        for ledger, kind, amount in (await session.execute(query)).all():
            _, rest = ledger.split(":", 1)
            path, _, channel = rest.rpartition(":clearing:")
            if not p.may_access(path):
                continue
            if channel == "sales":
                spent[path] += int(amount)
            elif kind in ("topup", "fee"):
                taken[path] += -int(amount)
            else:  # cash paid out when an account closes
                taken[path] += -int(amount)
    stores = sorted(set(taken) | set(spent))
    return pb.SettlementResponse(
        stores=[
            pb.StoreSettlement(store_path=s, taken_in=taken[s], spent=spent[s], net=spent[s] - taken[s])
            for s in stores
        ]
    )


# Top-ups by acting store and by the chain's local day; principal is what was paid in, bonus
# what the bonus rules added on top.
_TOP_UPS = text(
    f"""
    SELECT acting_store_path AS store, CAST(created_at AT TIME ZONE :tz AS date) AS day,
           count(*) AS count, sum(principal_delta) AS principal, sum(bonus_delta) AS bonus
    FROM transactions
    WHERE kind = 'topup' AND created_at >= :start AND created_at < :end
      AND {IN_SCOPE.format(column="acting_store_path")}
    GROUP BY 1, 2
    """
)


async def top_up_report(
    ctx: WalletContext, p: Principal, req: pb.TopUpReportRequest
) -> pb.TopUpReportResponse:
    """Top-ups of [from, to) made in the caller's scope, per store and per local day."""
    access.require(p, access.RISK_READERS, "read the top-up report")
    if not (req.HasField("from") and req.HasField("to")):
        raise InvalidArgument("give from and to", field="from")
    start, end = getattr(req, "from").ToDatetime(tzinfo=UTC), req.to.ToDatetime(tzinfo=UTC)
    if end <= start:
        raise InvalidArgument("to must be after from", field="to")
    if end - start > timedelta(days=366):
        raise InvalidArgument("a top-up report covers at most 366 days", field="from")
    params = {"tz": ctx.settings.chain_timezone, "start": start, "end": end, "scope": p.scope}
    async with ctx.db.sessions() as session:
        rows = (await session.execute(_TOP_UPS, params)).all()
    stores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        for into in (stores[r.store], days[r.day.isoformat()]):
            into[0] += int(r.count)
            into[1] += int(r.principal)
            into[2] += int(r.bonus)

    def figures(by: dict[str, list[int]]) -> list[pb.TopUpFigures]:
        return [
            pb.TopUpFigures(key=k, count=c, principal=pr, bonus=b) for k, (c, pr, b) in sorted(by.items())
        ]

    return pb.TopUpReportResponse(stores=figures(stores), days=figures(days))


# The cached buckets are the balances (``reconcile`` checks them against the postings); the
# home store is where the member belongs, wherever the money was paid in.
_LIABILITY = text(
    f"""
    SELECT coalesce(sum(principal), 0) AS principal, coalesce(sum(bonus), 0) AS bonus,
           count(*) FILTER (WHERE principal + bonus > 0) AS accounts
    FROM accounts
    WHERE {IN_SCOPE.format(column="home_store_path")}
    """
)


async def liability(ctx: WalletContext, p: Principal, req: pb.GetLiabilityRequest) -> pb.Liability:
    """Stored value outstanding: the balances of the accounts whose home store lies within
    ``org_path`` (default the caller's scope), which must lie within the caller's scope."""
    access.require(p, access.RISK_READERS, "read the stored-value liability")
    path = req.org_path or p.scope
    if not p.may_access(path):
        raise InvalidArgument("org_path lies outside your scope", field="org_path")
    async with ctx.db.sessions() as session:
        row = (await session.execute(_LIABILITY, {"scope": path})).one()
    principal, bonus = int(row.principal), int(row.bonus)
    return pb.Liability(
        org_path=path, principal=principal, bonus=bonus, total=principal + bonus, accounts=int(row.accounts)
    )


@dataclass
class Reconciliation:
    checked_transactions: int = 0
    checked_accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


async def reconcile(db: Database) -> Reconciliation:
    """Every transaction sums to zero; every cached balance equals its postings; no bucket
    is negative; every transaction's bucket deltas match its postings."""
    report = Reconciliation()
    async with db.sessions() as session:
        report.checked_transactions = (
            await session.execute(select(func.count()).select_from(transactions))
        ).scalar_one()
        report.checked_accounts = (
            await session.execute(select(func.count()).select_from(accounts))
        ).scalar_one()
        unbalanced = await session.execute(
            text(
                "SELECT transaction_id, sum(amount) FROM postings GROUP BY transaction_id HAVING sum(amount) <> 0"
            )
        )
        for txn_id, total in unbalanced.all():
            report.problems.append(f"transaction {txn_id} postings sum to {total}, not 0")
        cached = await session.execute(
            text(
                r"""
                SELECT a.id, a.principal, a.bonus,
                       coalesce((SELECT sum(amount) FROM postings WHERE ledger = 'member:' || a.id || '\:principal'), 0),
                       coalesce((SELECT sum(amount) FROM postings WHERE ledger = 'member:' || a.id || '\:bonus'), 0)
                FROM accounts a
                """
            )
        )
        for account_id, principal, bonus, posted_p, posted_b in cached.all():
            if principal != posted_p:
                report.problems.append(f"account {account_id} principal {principal} != postings {posted_p}")
            if bonus != posted_b:
                report.problems.append(f"account {account_id} bonus {bonus} != postings {posted_b}")
            if principal < 0 or bonus < 0:
                report.problems.append(f"account {account_id} has a negative bucket ({principal}, {bonus})")
        mismatched = await session.execute(
            text(
                r"""
                SELECT t.id FROM transactions t
                WHERE t.principal_delta <> coalesce((SELECT sum(amount) FROM postings p
                        WHERE p.transaction_id = t.id AND p.ledger = 'member:' || t.account_id || '\:principal'), 0)
                   OR t.bonus_delta <> coalesce((SELECT sum(amount) FROM postings p
                        WHERE p.transaction_id = t.id AND p.ledger = 'member:' || t.account_id || '\:bonus'), 0)
                """
            )
        )
        for (txn_id,) in mismatched.all():
            report.problems.append(f"transaction {txn_id} bucket deltas differ from its postings")
    return report
