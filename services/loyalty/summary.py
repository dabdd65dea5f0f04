"""Loyalty's part of the daily business summary (营业汇报): purchases, their discounts and
points, and purchase refunds of one local day, per purchase store, in one grouped query."""

from __future__ import annotations

from sqlalchemy import text

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.summary import IN_SCOPE, summary_query, summary_response
from services.loyalty.context import LoyaltyContext

FIGURES = (
    "sales_count", "sales_amount", "discount_amount", "refund_count", "refund_amount",
    "points_earned", "points_redeemed",
)  # fmt: skip

# sales_amount is what was paid (total_due: after discounts and points used as payment);
# points_redeemed are the points used as payment at checkout. A refund counts on the day it
# was made, at the purchase's store.
_SQL = text(
    f"""
    SELECT store_path,
           sum(sales_count) AS sales_count, sum(sales_amount) AS sales_amount,
           sum(discount_amount) AS discount_amount, sum(refund_count) AS refund_count,
           sum(refund_amount) AS refund_amount, sum(points_earned) AS points_earned,
           sum(points_redeemed) AS points_redeemed
    FROM (
        SELECT store_path, 1 AS sales_count, total_due AS sales_amount, discount_total AS discount_amount,
               0 AS refund_count, 0 AS refund_amount, points_earned, points_used AS points_redeemed
        FROM purchases
        WHERE created_at >= :start AND created_at < :end AND {IN_SCOPE.format(column="store_path")}
        UNION ALL
        SELECT store_path, 0, 0, 0, 1, amount, 0, 0
        FROM purchase_refunds
        WHERE created_at >= :start AND created_at < :end AND {IN_SCOPE.format(column="store_path")}
    ) AS day
    GROUP BY store_path
    """
)


async def daily_summary(
    ctx: LoyaltyContext, p: Principal, req: common_pb2.DailySummaryRequest
) -> common_pb2.DailySummaryResponse:
    q = summary_query(p, req, ctx.settings.chain_timezone, ctx.now())
    async with ctx.db.sessions() as session:
        rows = (await session.execute(_SQL, q.params)).all()
    return summary_response(q.day, ((r.store_path, {f: getattr(r, f) for f in FIGURES}) for r in rows))
