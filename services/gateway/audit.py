"""The audit log: every state change, with who, what, when and from where — written in the
same transaction as the change."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument
from services.gateway.deps import Page, client_ip, request_id
from services.gateway.models import audit_log


async def record(
    session: AsyncSession,
    request: Request,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: str,
    org_path: str,
    detail: dict[str, Any] | None = None,
    *,
    actor_name: str | None = None,
    actor_role: str | None = None,
) -> None:
    await session.execute(
        audit_log.insert().values(
            actor=actor.sub if actor else (actor_name or "anonymous"),
            actor_role=actor.role if actor else (actor_role or "anonymous"),
            action=action,
            target_type=target_type,
            target_id=target_id,
            org_path=org_path,
            detail=detail or {},
            ip=client_ip(request),
            request_id=request_id(request),
        )
    )


# One row on its own, written out once: ``record_alone`` runs after nearly every change another
# service makes (each top-up among them), so it is one autocommit statement, not built per call.
_INSERT_ALONE = text(
    """
    INSERT INTO audit_log (actor, actor_role, action, target_type, target_id, org_path, detail, ip, request_id)
    VALUES (:actor, :actor_role, :action, :target_type, :target_id, :org_path, CAST(:detail AS jsonb), :ip,
        :request_id)
    """
)


async def record_alone(
    state,
    request: Request,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: str,
    org_path: str,
    detail: dict[str, Any] | None = None,
) -> None:  # type: ignore[no-untyped-def]
    """Audit a change another service made (its own transaction committed already): one
    statement that commits by itself, no BEGIN and COMMIT around it."""
    params = {
        "actor": actor.sub, "actor_role": actor.role, "action": action, "target_type": target_type,
        "target_id": target_id, "org_path": org_path, "detail": json.dumps(detail or {}),
        "ip": client_ip(request), "request_id": request_id(request),
    }  # fmt: skip
    async with state.db.autocommit() as conn:
        await conn.execute(_INSERT_ALONE, params)


# --- reading the log ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """What to look for; ``None`` is "any". ``action`` ending in ``.`` or ``*`` matches a prefix
    (``notify.`` = every notify action); ``until`` is exclusive."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(p: Principal, f: Filters) -> Select:
    """Newest first; HQ sees every entry, a regional auditor only its region's."""
    query = select(audit_log).where(in_scope(audit_log.c.org_path, p.scope)).order_by(audit_log.c.id.desc())
    for column, value in (
        (audit_log.c.actor, f.actor),
        (audit_log.c.target_type, f.target_type),
        (audit_log.c.target_id, f.target_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.action is not None:
        if f.action.endswith(("*", ".")):
            prefix = f.action.rstrip("*").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(audit_log.c.action.like(prefix + "%", escape="\\"))
        else:
            query = query.where(audit_log.c.action == f.action)
    if f.since is not None:
        query = query.where(audit_log.c.at >= f.since)
    if f.until is not None:
        query = query.where(audit_log.c.at < f.until)
    return query


async def entries(state, p: Principal, f: Filters, page: Page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One page of the entries in the caller's scope matching ``f``, newest first."""
    query = _query(p, f)
    if page.after is not None:
        if type(page.after) is not int or not 0 < page.after < 2**63:
            raise InvalidArgument("cursor is not one this API returned", field="cursor")
        query = query.where(audit_log.c.id < page.after)
    rows, next_cursor = await page.fetch(state, query, "id")
    return {"items": [dict(r._mapping) for r in rows], "next_cursor": next_cursor}


EXPORT_COLUMNS = ("id", "at", "actor", "actor_role", "action", "target_type", "target_id", "org_path",
                  "ip", "request_id", "detail")  # fmt: skip
EXPORT_BATCH = 1000


async def export_csv(state, request: Request, p: Principal, f: Filters) -> StreamingResponse:  # type: ignore[no-untyped-def]
    """Every matching entry as CSV (UTF-8 with a BOM, for spreadsheets), streamed in batches;
    the export itself is audited (with its filters) before the first row is sent."""
    detail = {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(f).items() if v is not None
    }
    await record_alone(state, request, p, "audit.export", "audit_log", "csv", p.scope, detail)

    async def rows() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        yield "\ufeff" + out.getvalue()
        after: int | None = None
        while True:
            query = _query(p, f)
            if after is not None:
                query = query.where(audit_log.c.id < after)
            async with state.db.sessions() as session:
                batch = (await session.execute(query.limit(EXPORT_BATCH))).all()
            if not batch:
                return
            out = io.StringIO()
            writer = csv.writer(out)
            for r in batch:
                m = r._mapping
                writer.writerow([
                    m["at"].isoformat() if k == "at" else
                    json.dumps(m["detail"], ensure_ascii=False, sort_keys=True) if k == "detail" else
                    ("" if m[k] is None else m[k])
                    for k in EXPORT_COLUMNS
                ])  # fmt: skip
            yield out.getvalue()
            if len(batch) < EXPORT_BATCH:
                return
            after = batch[-1].id

    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )  # fmt: skip
