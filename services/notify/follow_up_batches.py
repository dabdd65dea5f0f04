"""Follow-up tasks for a batch of members (e.g. a segment the gateway resolved): one task per
member at the member's home store, due on a chosen day, with what to call about. A batch key
makes the call idempotent: the (batch key, member) pair is unique in the table, so a retry or
a second page of the same batch never creates a task twice."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.dialects.postgresql import insert

from chainclub.notify.v1 import notify_pb2 as pb
from kit.auth import Principal
from kit.errors import Forbidden, InvalidArgument, OutOfScope
from services.notify.context import NotifyContext
from services.notify.models import follow_ups

CREATORS = {"hq_admin", "region_manager", "store_manager"}
STAGE = "ask"  # a batch's follow-up (the first purchase's are 3d, 3w, 3m)
WINDOW = ("10:00", "20:00")  # no shopping hour to go by: the stores' usual opening hours
MAX_TARGETS = 5000
MAX_PURPOSE = 500
MAX_KEY = 200


def _checked(ctx: NotifyContext, p: Principal, req: pb.CreateFollowUpsRequest) -> tuple[str, str, date]:
    """The batch key, purpose and due date, or InvalidArgument naming the field; every target
    must lie in the caller's scope (else none is created)."""
    key, purpose = req.batch_key.strip(), req.purpose.strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidArgument(f"batch_key must be 1..{MAX_KEY} characters", field="batch_key")
    if not purpose or len(purpose) > MAX_PURPOSE:
        raise InvalidArgument(f"purpose must be 1..{MAX_PURPOSE} characters", field="purpose")
    try:
        due = date.fromisoformat(req.due_on)
    except ValueError:
        raise InvalidArgument("due_on must be a date YYYY-MM-DD", field="due_on") from None
    if due < ctx.now().astimezone(ctx.tz).date():
        raise InvalidArgument("due_on must not be in the past", field="due_on")
    if not req.targets:
        raise InvalidArgument("name at least one member", field="targets")
    if len(req.targets) > MAX_TARGETS:
        raise InvalidArgument(f"at most {MAX_TARGETS} members per call", field="targets")
    for t in req.targets:
        if not t.member_no or not t.home_store_path:
            raise InvalidArgument("every target needs member_no and home_store_path", field="targets")
        if not p.may_access(t.home_store_path):
            raise OutOfScope(f"no member {t.member_no} in your scope")
    return key, purpose, due


async def create_follow_ups(
    ctx: NotifyContext, p: Principal, req: pb.CreateFollowUpsRequest
) -> pb.CreateFollowUpsResponse:
    if p.role not in CREATORS:
        raise Forbidden(f"role {p.role!r} may not create follow-ups")
    key, purpose, due = _checked(ctx, p, req)
    targets = {t.member_no: t.home_store_path for t in req.targets}  # a member named twice: once
    rows = [
        {
            "id": uuid.uuid4(), "member_no": no, "store_path": path, "checkout_id": None, "stage": STAGE,
            "due_on": due, "window_start": WINDOW[0], "window_end": WINDOW[1], "purpose": purpose,
            "batch_key": key, "created_by": p.sub,
        }
        for no, path in sorted(targets.items())
    ]  # fmt: skip
    async with ctx.db.transaction() as session:
        created = (
            await session.execute(
                insert(follow_ups)
                .values(rows)
                .on_conflict_do_nothing(constraint="uq_follow_ups_batch_member")
                .returning(follow_ups.c.id)
            )
        ).all()
    return pb.CreateFollowUpsResponse(created=len(created), existing=len(targets) - len(created))
