"""The wallet's part of the daily business summary (营业汇报): top-ups, payments and payment
refunds of one local day, per acting store (where the money moved), in one grouped query."""

from __future__ import annotations

from sqlalchemy import text

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.summary import IN_SCOPE, summary_query, summary_response
from services.wallet.context import WalletContext

FIGURES = (
    "top_up_count", "top_up_amount", "top_up_bonus", "payment_count", "payment_amount", "refund_amount",
)  # fmt: skip

# top_up_amount is what was paid in (principal), top_up_bonus the bonus money given with it;
# a refund is reported on the day it was made, at the store of the payment it refunds.
_SQL = text(
    f"""
    SELECT acting_store_path AS store_path,
           count(*) FILTER (WHERE kind = 'topup') AS top_up_count,
           coalesce(sum(amount) FILTER (WHERE kind = 'topup'), 0) AS top_up_amount,
           coalesce(sum(bonus_delta) FILTER (WHERE kind = 'topup'), 0) AS top_up_bonus,
           count(*) FILTER (WHERE kind = 'payment') AS payment_count,
           coalesce(sum(amount) FILTER (WHERE kind = 'payment'), 0) AS payment_amount,
           coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refund_amount
    FROM transactions
    WHERE kind IN ('topup', 'payment', 'refund')
      AND created_at >= :start AND created_at < :end
      AND {IN_SCOPE.format(column="acting_store_path")}
    GROUP BY acting_store_path
    """
)


async def daily_summary(
    ctx: WalletContext, p: Principal, req: common_pb2.DailySummaryRequest
) -> common_pb2.DailySummaryResponse:
    q = summary_query(p, req, ctx.settings.chain_timezone, ctx.now())
    async with ctx.db.sessions() as session:
        rows = (await session.execute(_SQL, q.params)).all()
    return summary_response(q.day, ((r.store_path, {f: getattr(r, f) for f in FIGURES}) for r in rows))
