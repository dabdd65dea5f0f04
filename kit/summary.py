"""The daily business summary (营业汇报) RPC as members, wallet and loyalty each answer it
(``DailySummary`` in protos/chainclub/common/v1/common.proto): who may ask, which local day
and subtree a request means, and the reply. Each service runs one grouped query of its own
tables over the interval ``day_bounds`` gives; this module only keeps the three alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chainclub.common.v1 import common_pb2
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, OutOfScope

# Managers and auditors read reports of their scope; services (the notify scheduler) too.
READERS = frozenset({"hq_admin", "region_manager", "store_manager", "auditor", "service"})
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATH = re.compile(r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,15}$")

# SQL for "the path column lies in :scope's subtree" (kit.auth.may_access); starts_with, not
# LIKE, because "_" in an org code is a LIKE wildcard.
IN_SCOPE = "({column} = :scope OR starts_with({column}, :scope || '/'))"


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The local day ``[00:00, 24:00)`` in ``tz`` as UTC datetimes; a day with a DST change
    is 23 or 25 hours long."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def parse_day(text: str, today: date) -> date:
    """``YYYY-MM-DD``; empty means ``today`` (the chain's local date)."""
    if not text:
        return today
    try:
        if not _DAY.match(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"date must be YYYY-MM-DD, got {text[:40]!r}", field="date") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidArgument(f"date must lie between {FIRST_DAY} and {LAST_DAY}", field="date")
    return day


@dataclass(frozen=True)
class SummaryQuery:
    day: date
    scope: str  # the org path whose subtree is reported
    start: datetime
    end: datetime

    @property
    def params(self) -> dict[str, object]:
        return {"scope": self.scope, "start": self.start, "end": self.end}


def summary_query(p: Principal, req: common_pb2.DailySummaryRequest, tz: str, now: datetime) -> SummaryQuery:
    """Check the caller and resolve the request; bad input raises before any query runs."""
    if p.role not in READERS:
        raise Forbidden(f"role {p.role} may not read the daily summary")
    day = parse_day(req.date, now.astimezone(ZoneInfo(tz)).date())
    scope = req.org_path or p.scope
    if not _PATH.match(scope):
        raise InvalidArgument("org_path must be an org path like HQ/EAST/SH001", field="org_path")
    if not p.may_access(scope):
        raise OutOfScope(f"no org unit {scope!r} in your scope")
    start, end = day_bounds(day, tz)
    return SummaryQuery(day, scope, start, end)


def summary_response(
    day: date, stores: Iterable[tuple[str, Mapping[str, int]]]
) -> common_pb2.DailySummaryResponse:
    return common_pb2.DailySummaryResponse(
        date=day.isoformat(),
        stores=[
            common_pb2.StoreFigures(store_path=path, figures={k: int(v) for k, v in figures.items()})
            for path, figures in sorted(stores, key=lambda s: s[0])
        ],
    )
