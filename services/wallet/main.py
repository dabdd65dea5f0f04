"""Composition root of the wallet service: `chainclub serve wallet`."""

from __future__ import annotations

from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit.config import Settings
from kit.runtime import ServiceSpec, serve
from services.wallet.api import WalletApi
from services.wallet.models import tables

SERVICE_NAME = wallet_pb2.DESCRIPTOR.services_by_name["WalletService"].full_name


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="wallet",
        tables=tables,
        servicers=[(wallet_pb2_grpc.add_WalletServiceServicer_to_server, WalletApi, SERVICE_NAME)],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
