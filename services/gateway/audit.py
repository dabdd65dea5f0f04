"""The audit log: every state change, with who, what, when and from where — written in the
same transaction as the change."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from services.gateway.deps import client_ip, request_id
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
    """Audit a change another service made (its own transaction committed already)."""
    async with state.db.transaction() as session:
        await record(session, request, actor, action, target_type, target_id, org_path, detail)
