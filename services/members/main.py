"""Composition root of the members service: `chainclub serve members`. The only module that
builds a ``MembersContext``: ``Service.start`` calls ``context`` once and hands the one
context to the servicer and the jobs."""

from __future__ import annotations

import asyncio
import logging

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit.auth import Principal
from kit.config import Settings
from kit.runtime import Runtime, ServiceSpec, serve
from services.members.api import MembersApi
from services.members.cards import expire_due
from services.members.context import MembersContext, WalletClient
from services.members.imports import recover_interrupted
from services.members.models import tables
from services.members.pii import Keyring

SERVICE_NAME = members_pb2.DESCRIPTOR.services_by_name["MembersService"].full_name
log = logging.getLogger("members")
SYSTEM = Principal(sub="system:card-expiry", role="service", scope="HQ")


def context(rt: Runtime) -> MembersContext:
    s = rt.settings
    keyring = Keyring.from_config(s.pii_keys, s.pii_active_key, s.pii_index_key, s.profile)
    return MembersContext(
        rt.db,
        rt.tables.outbox,
        keyring,
        s,
        WalletClient(s.wallet_addr, rt.keys),
        name=rt.name,
        schema_revision=rt.schema_revision,
    )


async def card_expiry(ctx: MembersContext, every_seconds: float = 3600.0) -> None:
    """Expire cards past their validity; safe with replicas (rows are claimed SKIP LOCKED)."""
    while True:
        try:
            while await expire_due(ctx, SYSTEM):
                pass
        except Exception:
            log.exception("card expiry run failed; next run as scheduled")
        await asyncio.sleep(every_seconds)


async def import_recovery(ctx: MembersContext) -> None:
    """Once at start: imports a gone process left queued or running are marked failed."""
    try:
        if count := await recover_interrupted(ctx):
            log.warning("marked %d interrupted import job(s) failed", count)
    except Exception:
        log.exception("checking for interrupted imports failed; they stay as they are until the next start")


def spec() -> ServiceSpec[MembersContext]:
    return ServiceSpec(
        name="members",
        tables=tables,
        context=context,
        servicers=[(members_pb2_grpc.add_MembersServiceServicer_to_server, MembersApi, SERVICE_NAME)],
        background=[card_expiry, import_recovery],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
