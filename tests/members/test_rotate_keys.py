"""`chainclub members rotate-keys`: PII re-encrypted under the new active key, still readable."""

import base64
import json
import os

import pytest
from sqlalchemy import select

from services.members.cli import rotate
from services.members.models import members
from services.members.pii import Keyring, aad

pytestmark = pytest.mark.integration


async def test_rotation_re_encrypts_every_value_under_the_active_key(world):
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    clerk = await world.staff("clerk", store)
    member = await world.register(clerk, email="rotate@example.com", address="上海市黄浦区南京东路1号")
    db = world.service.runtime.db
    old = Keyring.from_config(None, None, None, "test")  # what the service runs with
    fresh = os.urandom(32)
    rotated = Keyring({**old.keys, "k2": fresh}, "k2", old.index_key)

    assert await rotate(db, rotated) >= 1

    async with db.sessions() as session:
        row = (await session.execute(select(members).where(members.c.member_no == member["member_no"]))).one()
    for field in ("phone", "email", "address"):
        stored = getattr(row, f"{field}_enc")
        assert stored.startswith("k2:"), field
    assert rotated.decrypt(row.phone_enc, aad(row.id, "phone")) == member["phone"]
    assert rotated.decrypt(row.email_enc, aad(row.id, "email")) == "rotate@example.com"
    # the blind index does not depend on the encryption key: lookup by phone still works
    assert row.phone_bidx == old.blind_index(member["phone"])
    # a second run has nothing left to do for this member
    assert await rotate(db, rotated) == 0
    # rotate back (both keys known, the service's own active) so the shared database stays readable
    assert await rotate(db, Keyring(rotated.keys, old.active, old.index_key)) >= 1
    async with db.sessions() as session:
        row = (await session.execute(select(members).where(members.c.member_no == member["member_no"]))).one()
    assert old.decrypt(row.phone_enc, aad(row.id, "phone")) == member["phone"]


def test_a_key_must_be_32_bytes():
    with pytest.raises(RuntimeError):
        keys = json.dumps({"k1": base64.b64encode(b"short").decode()})
        Keyring.from_config(keys, "k1", "aW5kZXg=", "test")
