"""The sales report (docs/api.md "Analytics and reports") from the gateway's own checkouts table:
completed checkouts minus their refunds, grouped by store path, by region (the path's
second segment, ``HQ/<region>``) or by day in chain time, within the caller's scope; and the spreadsheet (XLSX) of a report, streamed and audited, for the
REST routes and the console alike.

A refund counts against the group of the checkout it refunds (the sale's store and day), so
a report for a closed period does not change shape when a refund arrives later; what it
subtracts is the money given back (the refund's tenders)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from sqlalchemy import text
from starlette.background import BackgroundTask

from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit
from services.gateway.org import unit_path
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


async def sales_for(
    state: GatewayState, p: Principal, group_by: str, first: date | None, last: date | None, store: str | None
) -> dict[str, Any]:
    """The sales report of the caller's scope, or of ``store`` (an org unit code inside it);
    the period defaults to the last 30 days up to today (chain time)."""
    scope = await unit_path(state, p, store, field="store") if store else p.scope
    return await sales(state, scope, group_by, period(first, last, today(state, datetime.now(UTC))))


# --- spreadsheets --------------------------------------------------------------------------------
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


def spooled(book: Workbook) -> tempfile.SpooledTemporaryFile:
    """``book`` saved to a spooled file (in memory up to 8 MiB), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        book.save(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    while data := spool.read(CHUNK):
        yield data


def xlsx_response(spool: tempfile.SpooledTemporaryFile, filename: str) -> StreamingResponse:
    """A spooled workbook streamed as an attachment (the spool closed after)."""
    return StreamingResponse(
        _chunks(spool),
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        background=BackgroundTask(spool.close),
    )


def sales_workbook(report: dict[str, Any]) -> tempfile.SpooledTemporaryFile:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("sales")
    sheet.append(
        [f"sales by {report['group_by']}", report["scope"], report["from"], report["to"], report["timezone"]]
    )
    sheet.append(list(COLUMNS))
    for item in report["items"]:
        sheet.append([item[c] for c in COLUMNS])
    sheet.append(["total", *(report["totals"][c] for c in COLUMNS[1:])])
    return spooled(book)


async def sales_xlsx(
    state: GatewayState,
    request: Request,
    p: Principal,
    group_by: str,
    first: date | None,
    last: date | None,
    store: str | None,
) -> StreamingResponse:
    """The sales report as a streamed XLSX, the export audited."""
    report = await sales_for(state, p, group_by, first, last, store)
    spool = await asyncio.to_thread(sales_workbook, report)
    await audit.record_alone(
        state, request, p, "report.sales.export", "report", "sales.xlsx", report["scope"],
        {"group_by": group_by, "from": report["from"], "to": report["to"], "rows": len(report["items"])},
    )  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return xlsx_response(spool, f"sales-{group_by}-{stamp}.xlsx")
