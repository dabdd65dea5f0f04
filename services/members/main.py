"""Composition root of the members service: `chainclub serve members`."""

from __future__ import annotations

import asyncio
import logging

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit.auth import Principal
from kit.config import Settings
from kit.runtime import Runtime, ServiceSpec, serve
from services.members.api import MembersApi, context_for
from services.members.cards import expire_due
from services.members.imports import recover_interrupted
from services.members.models import tables

SERVICE_NAME = members_pb2.DESCRIPTOR.services_by_name["MembersService"].full_name
log = logging.getLogger("members")
SYSTEM = Principal(sub="system:card-expiry", role="service", scope="HQ")


async def card_expiry(rt: Runtime, every_seconds: float = 3600.0) -> None:
    """Expire cards past their validity; safe with replicas (rows are claimed SKIP LOCKED)."""
    ctx = context_for(rt)
    while True:
        try:
            while await expire_due(ctx, SYSTEM):
                pass
        except Exception:
            log.exception("card expiry run failed; next run as scheduled")
        await asyncio.sleep(every_seconds)


async def import_recovery(rt: Runtime) -> None:
    """Once at start: imports a gone process left queued or running are marked failed."""
    try:
        if count := await recover_interrupted(context_for(rt)):
            log.warning("marked %d interrupted import job(s) failed", count)
    except Exception:
        log.exception("checking for interrupted imports failed; they stay as they are until the next start")


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="members",
        tables=tables,
        servicers=[(members_pb2_grpc.add_MembersServiceServicer_to_server, MembersApi, SERVICE_NAME)],
        background=[card_expiry, import_recovery],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
