"""Composition root of the wallet service: `chainclub serve wallet`. The only module that
builds a ``WalletContext``: ``Service.start`` calls ``context`` once and hands the one
context (one members channel) to the servicer, the consumer and the jobs."""

from __future__ import annotations

from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.runtime import ConsumerDef, Runtime, ServiceSpec, serve
from services.wallet.api import WalletApi
from services.wallet.batch import mark_interrupted
from services.wallet.cards import SUBJECTS, members_routes
from services.wallet.context import MembersClient, WalletContext
from services.wallet.models import tables

SERVICE_NAME = wallet_pb2.DESCRIPTOR.services_by_name["WalletService"].full_name


def context(rt: Runtime) -> WalletContext:
    return WalletContext(
        rt.db,
        rt.tables.outbox,
        rt.settings,
        MembersClient(rt.settings.members_addr),
        name=rt.name,
        schema_revision=rt.schema_revision,
    )


def spec() -> ServiceSpec[WalletContext]:
    return ServiceSpec(
        name="wallet",
        tables=tables,
        context=context,
        servicers=[(wallet_pb2_grpc.add_WalletServiceServicer_to_server, WalletApi, SERVICE_NAME)],
        consumers=[
            # wallet's copy of the cards (members pushes blocks; the events bring the rest)
            ConsumerDef(
                ConsumerSpec(durable="wallet-members", stream="MEMBERS", subjects=SUBJECTS), members_routes
            )
        ],
        background=[mark_interrupted],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
