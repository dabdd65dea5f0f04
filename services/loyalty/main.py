"""Composition root of the loyalty service: `chainclub serve loyalty`. The only module that
builds a ``LoyaltyContext``: ``Service.start`` calls ``context`` once and hands the one
context to the servicer, the consumers and the jobs."""

from __future__ import annotations

from chainclub.loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc
from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.runtime import ConsumerDef, Runtime, ServiceSpec, serve
from services.loyalty.api import LoyaltyApi
from services.loyalty.consumers import members_routes, wallet_routes
from services.loyalty.context import LoyaltyContext
from services.loyalty.jobs import run_jobs
from services.loyalty.models import tables
from services.loyalty.segments import segments_job

SERVICE_NAME = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name


def context(rt: Runtime) -> LoyaltyContext:
    return LoyaltyContext(
        rt.db, rt.tables.outbox, rt.settings, name=rt.name, schema_revision=rt.schema_revision
    )


def spec() -> ServiceSpec[LoyaltyContext]:
    return ServiceSpec(
        name="loyalty",
        tables=tables,
        context=context,
        servicers=[(loyalty_pb2_grpc.add_LoyaltyServiceServicer_to_server, LoyaltyApi, SERVICE_NAME)],
        consumers=[
            ConsumerDef(
                ConsumerSpec(
                    durable="loyalty-wallet",
                    stream="WALLET",
                    subjects=("wallet.topup.completed", "wallet.payment.captured"),
                ),
                wallet_routes,
            ),
            ConsumerDef(
                ConsumerSpec(
                    durable="loyalty-members", stream="MEMBERS", subjects=("members.member.registered",)
                ),
                members_routes,
            ),
        ],
        background=[segments_job, run_jobs],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
