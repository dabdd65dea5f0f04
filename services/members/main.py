"""Composition root of the members service: `chainclub serve members`."""

from __future__ import annotations

from chainclub.members.v1 import members_pb2, members_pb2_grpc
from kit.config import Settings
from kit.runtime import ServiceSpec, serve
from services.members.api import MembersApi
from services.members.models import tables

SERVICE_NAME = members_pb2.DESCRIPTOR.services_by_name["MembersService"].full_name


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="members",
        tables=tables,
        servicers=[(members_pb2_grpc.add_MembersServiceServicer_to_server, MembersApi, SERVICE_NAME)],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
