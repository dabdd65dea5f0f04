"""A service process builds its context once and hands that one object to its servicer, its
consumers' route builders and its jobs — so what a process keeps (a cache, a client channel)
exists once. The members service as composed in its main, its factories wrapped to record
what they are given."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from kit.bus import ConsumerSpec
from kit.config import Settings
from kit.inbox import Route
from kit.runtime import ConsumerDef, Runtime, Service
from kit.testing import Infra
from services.members.api import MembersApi
from services.members.main import spec as members_spec
from tests.kit.helpers import drop_database
from tests.kit.test_grpc_runtime import service_settings

pytestmark = pytest.mark.integration


async def test_servicer_consumers_and_jobs_share_the_one_context_of_the_process(infra: Infra) -> None:
    base = members_spec()
    built: list[Any] = []
    given: dict[str, Any] = {}
    job_ran = asyncio.Event()

    def context(rt: Runtime) -> Any:
        built.append(base.context(rt))
        return built[-1]

    def servicer(ctx: Any) -> MembersApi:
        given["servicer"] = ctx
        return MembersApi(ctx)

    def routes(ctx: Any) -> dict[str, Route]:
        given["consumer"] = ctx
        return {}

    async def job(ctx: Any) -> None:
        given["job"] = ctx
        job_ran.set()

    add, _, name = base.servicers[0]
    spec = dataclasses.replace(
        base,
        context=context,
        servicers=[(add, servicer, name)],
        consumers=[
            ConsumerDef(
                ConsumerSpec(
                    durable="composition-test", stream="MEMBERS", subjects=("members.member.nobody",)
                ),
                routes,
            )
        ],
        background=[job],
    )
    settings = service_settings(infra)
    service = Service(spec, settings)
    try:
        await service.start("127.0.0.1:0")
        await asyncio.wait_for(job_ran.wait(), timeout=10)
        assert len(built) == 1
        assert service.context is built[0]
        assert given == {"servicer": built[0], "consumer": built[0], "job": built[0]}
    finally:
        await service.stop()
        await drop_database(settings.database_url_for("members"))


def test_a_service_not_started_has_no_context() -> None:
    service = Service(members_spec(), Settings(profile="test"))
    with pytest.raises(RuntimeError, match="not started"):
        _ = service.context
