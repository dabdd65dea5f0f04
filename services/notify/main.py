"""Composition root of the notify service: `chainclub serve notify`."""

from __future__ import annotations

from chainclub.notify.v1 import notify_pb2, notify_pb2_grpc
from kit.config import Settings
from kit.runtime import ServiceSpec, serve
from services.notify.api import NotifyApi
from services.notify.models import tables

SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="notify",
        tables=tables,
        servicers=[(notify_pb2_grpc.add_NotifyServiceServicer_to_server, NotifyApi, SERVICE_NAME)],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
