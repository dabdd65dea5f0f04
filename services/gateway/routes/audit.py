from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument
from services.gateway import schemas
from services.gateway.deps import Paging, State, permitted
from services.gateway.models import audit_log

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit-log", response_model=schemas.AuditList)
async def list_audit(
    p: Annotated[Principal, Depends(permitted("audit.read"))],
    state: State,
    page: Paging,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Newest first; HQ sees every entry, a regional auditor only its region's."""
    query = select(audit_log).where(in_scope(audit_log.c.org_path, p.scope)).order_by(audit_log.c.id.desc())
    for column, value in (
        (audit_log.c.actor, actor),
        (audit_log.c.action, action),
        (audit_log.c.target_type, target_type),
        (audit_log.c.target_id, target_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if page.after is not None:
        if type(page.after) is not int or not 0 < page.after < 2**63:
            raise InvalidArgument("cursor is not one this API returned", field="cursor")
        query = query.where(audit_log.c.id < page.after)
    rows, next_cursor = await page.fetch(state, query, "id")
    return schemas.AuditList(items=[schemas.AuditEntry(**r._mapping) for r in rows], next_cursor=next_cursor)
