"""The members service's part of the daily business summary (营业汇报): members registered
in one local day, per home store, in one grouped query."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.summary import IN_SCOPE, summary_query, summary_response
from services.members.context import MembersContext

FIGURES = ("new_members",)

# Registered = the row was created that day (at a counter, online or by an import); members
# anonymized since still count: they did join that day.
_SQL = text(
    f"""
    SELECT home_store_path AS store_path, count(*) AS new_members
    FROM members
    WHERE created_at >= :start AND created_at < :end
      AND {IN_SCOPE.format(column="home_store_path")}
    GROUP BY home_store_path
    """
)


async def daily_summary(
    ctx: MembersContext, p: Principal, req: common_pb2.DailySummaryRequest
) -> common_pb2.DailySummaryResponse:
    q = summary_query(p, req, ctx.settings.chain_timezone, datetime.now(UTC))
    async with ctx.db.sessions() as session:
        rows = (await session.execute(_SQL, q.params)).all()
    return summary_response(q.day, ((r.store_path, {"new_members": r.new_members}) for r in rows))
