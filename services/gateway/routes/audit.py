from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from kit.auth import Principal
from services.gateway import audit, schemas
from services.gateway.deps import Paging, State, permitted

router = APIRouter(prefix="/api/v1", tags=["audit"])

Text = Annotated[str | None, Query(max_length=200)]
Action = Annotated[
    str | None, Query(max_length=64, description="exact, or a prefix ending in '.' or '*' (notify.)")
]


@router.get("/audit-log", response_model=schemas.AuditList)
async def list_audit(
    p: Annotated[Principal, Depends(permitted("audit.read"))],
    state: State,
    page: Paging,
    actor: Text = None,
    action: Action = None,
    target_type: Text = None,
    target_id: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Newest first; HQ sees every entry, a regional auditor only its region's."""
    f = audit.Filters(actor, action, target_type, target_id, since, until)
    return await audit.entries(state, p, f, page)


@router.get("/audit-log/export.csv", response_class=StreamingResponse)
async def export_audit(
    request: Request,
    p: Annotated[Principal, Depends(permitted("audit.read"))],
    state: State,
    actor: Text = None,
    action: Action = None,
    target_type: Text = None,
    target_id: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> StreamingResponse:
    """Every matching entry as CSV, streamed, newest first; the export is itself audited
    (``audit.export``, with its filters)."""
    f = audit.Filters(actor, action, target_type, target_id, since, until)
    return await audit.export_csv(state, request, p, f)
