"""Composition root of the notify service: `chainclub serve notify`. The only module that
builds a ``NotifyContext``: ``Service.start`` calls ``context`` once and hands the one
context (one members channel, one set of channels) to the servicer, consumers and jobs."""

from __future__ import annotations

from chainclub.notify.v1 import notify_pb2, notify_pb2_grpc
from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.runtime import ConsumerDef, Runtime, ServiceSpec, serve
from services.notify.api import NotifyApi
from services.notify.channels import channels_from
from services.notify.consumers import loyalty_routes, members_routes, wallet_routes
from services.notify.context import MembersClient, NotifyContext, ReportsClient
from services.notify.models import tables
from services.notify.schedules import run_schedules
from services.notify.sender import run_sender

SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


def context(rt: Runtime) -> NotifyContext:
    members = MembersClient(rt.settings.members_addr, rt.keys)
    return NotifyContext(
        rt.db,
        rt.settings,
        members,
        channels_from(rt.settings, rt.db),
        ReportsClient(rt.settings, members),
        name=rt.name,
        schema_revision=rt.schema_revision,
    )


def spec() -> ServiceSpec[NotifyContext]:
    return ServiceSpec(
        name="notify",
        tables=tables,
        context=context,
        servicers=[(notify_pb2_grpc.add_NotifyServiceServicer_to_server, NotifyApi, SERVICE_NAME)],
        consumers=[
            ConsumerDef(
                ConsumerSpec(
                    durable="notify-members",
                    stream="MEMBERS",
                    subjects=("members.member.registered", "members.card.status_changed"),
                ),
                members_routes,
            ),
            ConsumerDef(
                ConsumerSpec(
                    durable="notify-wallet",
                    stream="WALLET",
                    subjects=("wallet.payment.captured", "wallet.topup.completed", "wallet.alert.raised"),
                ),
                wallet_routes,
            ),
            ConsumerDef(
                ConsumerSpec(
                    durable="notify-loyalty",
                    stream="LOYALTY",
                    subjects=(
                        "loyalty.purchase.recorded",
                        "loyalty.tier.changed",
                        "loyalty.coupon.issued",
                        "loyalty.points.earned",
                        "loyalty.points.expiring",
                        "loyalty.coupon.expiring",
                    ),
                ),
                loyalty_routes,
            ),
        ],
        background=[run_sender, run_schedules],
    )


async def main(settings: Settings) -> None:
    await serve(spec(), settings)
