"""Helpers of the members integration tests: random ids (tests share one database), problem
checks, and a direct gRPC client of the members service (what wallet calls for top-ups and for a
card it has not heard of)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx

from chainclub.members.v1 import members_pb2 as pb
from chainclub.members.v1 import members_pb2_grpc
from tests.members.conftest import World, random_phone

PROBLEM = "application/problem+json"

__all__ = ["World", "random_phone"]


def rand_code(prefix: str = "T") -> str:
    """A fresh code valid for org units and card types ([A-Z0-9_-]{2,32})."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def rand_name(prefix: str = "会员") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def national(e164: str) -> str:
    """+8613912345678 -> 13912345678"""
    return e164.removeprefix("+86")


def assert_problem(
    r: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with that status (and code, and a field error)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in body, f"problem lacks {key!r}: {body}"
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, f"expected an error on {field!r}, got {fields}: {body}"
    return body


@dataclass
class Org:
    """Two regions with a store each: HQ/R1/S1 and HQ/R2/S2."""

    r1: str
    s1: str
    r2: str
    s2: str

    @property
    def s1_path(self) -> str:
        return f"HQ/{self.r1}/{self.s1}"

    @property
    def s2_path(self) -> str:
        return f"HQ/{self.r2}/{self.s2}"


async def two_regions(world: World) -> Org:
    r1 = await world.unit("region", "HQ")
    r2 = await world.unit("region", "HQ")
    return Org(r1, await world.unit("store", r1), r2, await world.unit("store", r2))


async def search(world: World, token: str, **params: Any) -> list[dict]:
    r = await world.call("GET", "/api/v1/members", token, params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def card_action(world: World, token: str, card_no: str, action: str) -> httpx.Response:
    return await world.call("POST", f"/api/v1/cards/{card_no}/{action}", token)


async def set_card_status(world: World, card_no: str, *actions: str) -> None:
    """Drive a card through actions as HQ (each must succeed)."""
    for action in actions:
        r = await card_action(world, world.admin, card_no, action)
        assert r.status_code in (200, 201), f"{action} {card_no}: {r.status_code} {r.text}"


async def new_card_type(world: World, **fields: Any) -> str:
    code = rand_code("CT")
    body = {"code": code, "name": f"type {code}", "kind": "personal", **fields}
    r = await world.call("POST", "/api/v1/card-types", world.admin, json=body)
    assert r.status_code == 201, r.text
    return code


@contextlib.asynccontextmanager
async def members_grpc(world: World, scope: str = "HQ", role: str = "service") -> AsyncIterator[Any]:
    """A members gRPC client whose calls carry a service token (``await client.GetCard(...)``)."""
    async with grpc.aio.insecure_channel(world.settings.members_addr) as channel:
        yield GrpcClient(members_pb2_grpc.MembersServiceStub(channel), world.service_token(scope, role))


@dataclass
class GrpcClient:
    stub: members_pb2_grpc.MembersServiceStub
    token: str

    async def get_card(self, card_no: str) -> pb.Card:
        return await self.stub.GetCard(
            pb.GetCardRequest(card_no=card_no),
            metadata=(("authorization", f"Bearer {self.token}"),),
            timeout=10,
        )
