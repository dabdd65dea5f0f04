"""Composition root of the wallet service: `chainclub serve wallet`."""

from __future__ import annotations

from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit.config import Settings
from kit.runtime import Runtime, ServiceSpec, serve
from services.wallet.api import WalletApi, context_for
from services.wallet.batch import mark_interrupted
from services.wallet.models import tables

SERVICE_NAME = wallet_pb2.DESCRIPTOR.services_by_name["WalletService"].full_name


async def interrupted_batches(rt: Runtime) -> None:
    await mark_interrupted(context_for(rt))


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="wallet",
        tables=tables,
        servicers=[(wallet_pb2_grpc.add_WalletServiceServicer_to_server, WalletApi, SERVICE_NAME)],
        background=[interrupted_batches],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
