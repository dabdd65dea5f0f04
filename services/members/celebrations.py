"""Members whose birthday or join anniversary falls on a date, for the notify scheduler's
greetings: service callers only, within their scope, and nothing but member numbers, home
stores and anniversary years (names and contact details are read at send time)."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import and_, extract, or_, select

from chainclub.members.v1 import members_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument
from services.members import access
from services.members.context import MembersContext
from services.members.models import members

KINDS = {"birthday": members.c.birthday, "anniversary": members.c.joined_on}
MAX_PAGE = 1000


def days_celebrated_on(day: date) -> list[tuple[int, int]]:
    """(month, day) pairs celebrated on ``day``: 29 February is celebrated on 28 February in
    a common year, so nobody born or joined on a leap day goes without a greeting."""
    days = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        days.append((2, 29))
    return days


async def list_member_dates(
    ctx: MembersContext, p: Principal, req: pb.ListMemberDatesRequest
) -> pb.ListMemberDatesResponse:
    access.require(p, frozenset({"service"}), "list members by birthday or anniversary")
    if (column := KINDS.get(req.kind)) is None:
        raise InvalidArgument(f"kind must be one of {', '.join(KINDS)}", field="kind")
    try:
        day = date.fromisoformat(req.date)
    except ValueError:
        raise InvalidArgument("date must be YYYY-MM-DD", field="date") from None
    limit = req.page.limit or 500
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be 1..{MAX_PAGE}", field="limit")
    matches = or_(
        *(
            and_(extract("month", column) == m, extract("day", column) == d)
            for m, d in days_celebrated_on(day)
        )
    )
    query = select(members.c.member_no, members.c.home_store_path, column.label("on")).where(
        matches, members.c.status == "active", in_scope(members.c.home_store_path, p.scope)
    )
    if req.kind == "anniversary":
        query = query.where(column < date(day.year, 1, 1))  # a first anniversary at the earliest
    if req.page.cursor:
        query = query.where(members.c.member_no > req.page.cursor)
    async with ctx.db.sessions() as session:
        rows = (await session.execute(query.order_by(members.c.member_no).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return pb.ListMemberDatesResponse(
        members=[
            pb.MemberDate(
                member_no=r.member_no,
                home_store_path=r.home_store_path,
                years=day.year - r.on.year if req.kind == "anniversary" else 0,
            )
            for r in rows
        ],
        page={"next_cursor": rows[-1].member_no if more else ""},
    )
