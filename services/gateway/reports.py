"""The sales report (docs/api.md "Analytics and reports") from the gateway's own checkouts table:
completed checkouts minus their refunds, grouped by store path, by region (the path's
second segment, ``HQ/<region>``) or by day in chain time, within the caller's scope.

A refund counts against the group of the checkout it refunds (the sale's store and day), so
a report for a closed period does not change shape when a refund arrives later; what it
subtracts is the money given back (the refund's tenders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from kit.errors import InvalidArgument
from services.gateway.state import GatewayState

GROUPS = {
    "store": "c.store_path",
    "region": "CASE WHEN split_part(c.store_path, '/', 2) = '' THEN c.store_path"
    " ELSE 'HQ/' || split_part(c.store_path, '/', 2) END",
    "day": "to_char(c.created_at AT TIME ZONE :tz, 'YYYY-MM-DD')",
}
MAX_DAYS = 3_660
DEFAULT_DAYS = 30
COLUMNS = ("key", "checkouts", "subtotal", "discounts", "total_due", "refunded", "net")

_SQL = """
WITH refunds AS (
    SELECT r.checkout_id, sum((t.value ->> 'amount')::bigint) AS refunded
    FROM checkout_refunds r CROSS JOIN LATERAL jsonb_array_elements(r.result -> 'tenders') AS t(value)
    WHERE r.result IS NOT NULL
    GROUP BY r.checkout_id
)
SELECT {key} AS key,
       count(*) AS checkouts,
       coalesce(sum((c.quote ->> 'subtotal')::bigint), 0) AS subtotal,
       coalesce(sum(c.total_due), 0) AS total_due,
       coalesce(sum(f.refunded), 0) AS refunded
FROM checkouts c LEFT JOIN refunds f ON f.checkout_id = c.checkout_id
WHERE c.status = 'completed'
  AND (c.store_path = :scope OR starts_with(c.store_path, :scope || '/'))
  AND c.created_at >= :start AND c.created_at < :end
GROUP BY 1
ORDER BY 1
"""


@dataclass
class Period:
    first: date
    last: date  # inclusive

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        zone = ZoneInfo(tz)
        start = datetime.combine(self.first, time(), zone)
        return start, datetime.combine(self.last + timedelta(days=1), time(), zone)


def period(first: date | None, last: date | None, today: date) -> Period:
    last = last or today
    first = first or (last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise InvalidArgument("from must not be after to", field="from")
    if (last - first).days >= MAX_DAYS:
        raise InvalidArgument(f"at most {MAX_DAYS} days per report", field="from")
    return Period(first, last)


def today(state: GatewayState, now: datetime) -> date:
    return now.astimezone(ZoneInfo(state.settings.chain_timezone)).date()


async def sales(state: GatewayState, scope: str, group_by: str, p: Period) -> dict[str, Any]:
    if group_by not in GROUPS:
        raise InvalidArgument(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
    tz = state.settings.chain_timezone
    start, end = p.bounds(tz)
    params: dict[str, Any] = {"scope": scope, "start": start, "end": end}
    if group_by == "day":
        params["tz"] = tz
    async with state.db.transaction() as session:
        rows = (await session.execute(text(_SQL.format(key=GROUPS[group_by])), params)).all()
    items = [
        {
            "key": r.key,
            "checkouts": r.checkouts,
            "subtotal": int(r.subtotal),
            "discounts": int(r.subtotal) - int(r.total_due),
            "total_due": int(r.total_due),
            "refunded": int(r.refunded),
            "net": int(r.total_due) - int(r.refunded),
        }
        for r in rows
    ]
    totals = {k: sum(i[k] for i in items) for k in COLUMNS[1:]}
    return {
        "group_by": group_by, "scope": scope, "from": p.first.isoformat(), "to": p.last.isoformat(),
        "timezone": tz, "items": items, "totals": totals,
    }  # fmt: skip
