"""Composition root of the wallet service: `chainclub serve wallet`."""

from __future__ import annotations

from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.runtime import ConsumerDef, Runtime, ServiceSpec, serve
from services.wallet.api import WalletApi, context_for
from services.wallet.batch import mark_interrupted
from services.wallet.cards import SUBJECTS, members_routes
from services.wallet.models import tables

SERVICE_NAME = wallet_pb2.DESCRIPTOR.services_by_name["WalletService"].full_name


async def interrupted_batches(rt: Runtime) -> None:
    await mark_interrupted(context_for(rt))


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="wallet",
        tables=tables,
        servicers=[(wallet_pb2_grpc.add_WalletServiceServicer_to_server, WalletApi, SERVICE_NAME)],
        consumers=[
            # wallet's copy of the cards (members pushes blocks; the events bring the rest)
            ConsumerDef(
                ConsumerSpec(durable="wallet-members", stream="MEMBERS", subjects=SUBJECTS), members_routes
            )
        ],
        background=[interrupted_batches],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
