"""Composition root of the loyalty service: `chainclub serve loyalty`."""

from __future__ import annotations

from chainclub.loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc
from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.runtime import ConsumerDef, ServiceSpec, serve
from services.loyalty.api import LoyaltyApi
from services.loyalty.consumers import members_routes, wallet_routes
from services.loyalty.jobs import run_jobs
from services.loyalty.models import tables
from services.loyalty.segments import segments_job

SERVICE_NAME = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="loyalty",
        tables=tables,
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
