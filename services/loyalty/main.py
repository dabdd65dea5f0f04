"""Composition root of the loyalty service: `chainclub serve loyalty`."""

from __future__ import annotations

from chainclub.loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc
from kit.config import Settings
from kit.runtime import ServiceSpec, serve
from services.loyalty.api import LoyaltyApi
from services.loyalty.models import tables

SERVICE_NAME = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="loyalty",
        tables=tables,
        servicers=[(loyalty_pb2_grpc.add_LoyaltyServiceServicer_to_server, LoyaltyApi, SERVICE_NAME)],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
