"""Helpers shared by the member API test files."""

from __future__ import annotations

import uuid


async def define_field(world, type_: str, **extra) -> str:
    key = f"f_{uuid.uuid4().hex[:10]}"
    r = await world.call(
        "PUT", f"/api/v1/members/custom-fields/{key}", world.admin, json={"type": type_, **extra}
    )
    assert r.status_code == 200, r.text
    return key


def nos(items: list[dict]) -> set[str]:
    return {m["member_no"] for m in items}
