"""Events of the members service: written to the outbox with the change,
published to the MEMBERS stream as protobuf with CloudEvents headers, free of PII."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import nats
import pytest
from nats.js.api import DeliverPolicy
from sqlalchemy import func, select

from chainclub.events.v1 import members_pb2 as ev
from kit.testing import eventually
from tests.members.helpers import assert_problem, national, random_phone

pytestmark = pytest.mark.integration


@dataclass
class Seen:
    subject: str
    headers: dict[str, str]
    data: bytes
    message: object


@dataclass
class Tap:
    """Every message on ``members.>`` published after the tap was opened, decoded by ce-type."""

    seen: list[Seen] = field(default_factory=list)

    async def on_message(self, msg) -> None:  # type: ignore[no-untyped-def]
        headers = dict(msg.headers or {})
        name = headers.get("ce-type", "").rsplit(".", 1)[-1]
        cls = getattr(ev, name, None)
        message = cls.FromString(msg.data) if cls else None
        self.seen.append(Seen(msg.subject, headers, msg.data, message))

    def of(self, member_no: str, subject: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.message is not None
            and getattr(s.message, "member_no", None) == member_no
            and (subject is None or s.subject == subject)
        ]

    async def wait(self, member_no: str, *subjects: str) -> dict[str, Seen]:
        """The events of a member with these subjects (each exactly once), waiting for them."""

        def check():  # type: ignore[no-untyped-def]
            got = {s.subject for s in self.of(member_no)}
            return set(subjects) <= got

        await eventually(check, timeout=15, what=f"events {subjects} of {member_no}")
        out = {}
        for subject in subjects:
            matches = self.of(member_no, subject)
            assert len(matches) == 1, f"{subject} of {member_no} published {len(matches)} times"
            out[subject] = matches[0]
        return out


@pytest.fixture
async def tap(world) -> AsyncIterator[Tap]:
    nc = await nats.connect(world.settings.nats_url, connect_timeout=5)
    js = nc.jetstream(timeout=5)

    async def stream_ready() -> bool:
        try:
            await js.stream_info("MEMBERS")
            return True
        except nats.js.errors.NotFoundError:
            return False

    await eventually(stream_ready, what="the MEMBERS stream")
    t = Tap()
    sub = await js.subscribe(
        "members.>",
        stream="MEMBERS",
        cb=t.on_message,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    try:
        yield t
    finally:
        await sub.unsubscribe()
        await nc.close()


@pytest.fixture
async def store(world):
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    return f"HQ/{region}/{store}", store


async def outbox_count(world, org_path: str, subject: str | None = None) -> int:
    rt = world.service.runtime
    outbox = rt.tables.outbox
    query = select(func.count()).select_from(outbox).where(outbox.c.org_path == org_path)
    if subject:
        query = query.where(outbox.c.subject == subject)
    async with rt.db.sessions() as session:
        return int((await session.execute(query)).scalar_one())


def assert_cloudevent(seen: Seen, type_name: str) -> None:
    h = seen.headers
    assert h["ce-type"] == f"chainclub.events.v1.{type_name}"
    assert str(uuid.UUID(h["Nats-Msg-Id"])) == h["Nats-Msg-Id"]
    assert h.get("ce-id", h["Nats-Msg-Id"]) == h["Nats-Msg-Id"]
    assert h["ce-source"] == "chainclub/members"
    assert h["ce-specversion"] == "1.0"
    assert h["ce-time"]


async def test_registration_emits_registered_and_card_issued(world, tap, store):
    path, code = store
    clerk = await world.staff("clerk", code)
    m = await world.register(clerk, birthday="1988-08-08")
    got = await tap.wait(m["member_no"], "members.member.registered", "members.card.issued")

    registered = got["members.member.registered"]
    assert_cloudevent(registered, "MemberRegistered")
    assert registered.message.home_store_path == path
    assert registered.message.card_no == m["card"]["card_no"]
    assert registered.message.card_type == "STANDARD"
    assert registered.message.source == "store"
    assert registered.message.birthday == "1988-08-08"

    issued = got["members.card.issued"]
    assert_cloudevent(issued, "CardIssued")
    assert issued.message.card_no == m["card"]["card_no"]
    assert issued.message.home_store_path == path
    assert str(uuid.UUID(issued.message.account_id)) == issued.message.account_id
    assert registered.headers["Nats-Msg-Id"] != issued.headers["Nats-Msg-Id"]


async def test_status_change_from_another_store_carries_both_stores(world, tap, store):
    path, code = store
    m = await world.register(await world.staff("clerk", code))
    other_region = await world.unit("region", "HQ")
    other_store = await world.unit("store", other_region)
    elsewhere = await world.staff("clerk", other_store)
    card = m["card"]["card_no"]
    r = await world.call("POST", f"/api/v1/cards/{card}/report-loss", elsewhere, json={"reason": "钱包丢了"})
    assert r.status_code == 200, r.text
    changed = (await tap.wait(m["member_no"], "members.card.status_changed"))["members.card.status_changed"]
    assert_cloudevent(changed, "CardStatusChanged")
    msg = changed.message
    assert (msg.card_no, msg.from_status, msg.to_status) == (card, "active", "lost")
    assert msg.home_store_path == path
    assert msg.acting_store_path == f"HQ/{other_region}/{other_store}"
    assert msg.actor and msg.reason == "钱包丢了"


async def test_each_transition_is_one_event_with_from_and_to(world, tap, store):
    clerk = await world.staff("clerk", store[1])
    m = await world.register(clerk)
    card = m["card"]["card_no"]
    for action in ("freeze", "unfreeze", "report-loss", "cancel-loss"):
        r = await world.call("POST", f"/api/v1/cards/{card}/{action}", clerk)
        assert r.status_code == 200, r.text
    r = await world.call("POST", f"/api/v1/cards/{card}/cancel-loss", clerk)
    assert_problem(r, 409, "invalid_card_state")

    def transitions():  # type: ignore[no-untyped-def]
        seen = tap.of(m["member_no"], "members.card.status_changed")
        return [(s.message.from_status, s.message.to_status) for s in seen] if len(seen) >= 4 else None

    got = await eventually(transitions, what="four status changes")
    assert got == [("active", "frozen"), ("frozen", "active"), ("active", "lost"), ("lost", "active")]


async def test_replace_emits_replaced_with_the_same_account(world, tap, store):
    clerk = await world.staff("clerk", store[1])
    m = await world.register(clerk)
    old = m["card"]["card_no"]
    r = await world.call("POST", f"/api/v1/cards/{old}/freeze", clerk)
    assert r.status_code == 200, r.text
    r = await world.call("POST", f"/api/v1/cards/{old}/replace", clerk, json={"fee_payment": "stored_value"})
    assert r.status_code == 201, r.text
    new = r.json()["card_no"]
    got = await tap.wait(m["member_no"], "members.card.issued", "members.card.replaced")
    replaced = got["members.card.replaced"]
    assert_cloudevent(replaced, "CardReplaced")
    msg = replaced.message
    assert (msg.old_card_no, msg.new_card_no) == (old, new)
    assert msg.account_id == got["members.card.issued"].message.account_id
    assert msg.fee_payment == "stored_value"
    assert msg.home_store_path == store[0] and msg.acting_store_path == store[0]

    def to_replaced():  # type: ignore[no-untyped-def]
        return [
            s
            for s in tap.of(m["member_no"], "members.card.status_changed")
            if s.message.to_status == "replaced"
        ]

    last = (await eventually(to_replaced, what="the old card's change to replaced"))[0].message
    assert (last.card_no, last.from_status) == (old, "frozen")


async def test_no_pii_travels_in_any_event(world, tap, store):
    clerk = await world.staff("clerk", store[1])
    manager = await world.staff("store_manager", store[1])
    phone, new_phone = random_phone(), random_phone()
    pii = {
        "name": "隐私测试员",
        "email": f"pii{uuid.uuid4().hex[:8]}@example.com",
        "id_number": f"1101011990{uuid.uuid4().int % 10**8:08d}",
        "address": f"北京市朝阳区隐私路{uuid.uuid4().int % 1000}号",
    }
    m = await world.register(clerk, phone=phone, **pii)
    no = m["member_no"]
    r = await world.call("PATCH", f"/api/v1/members/{no}", clerk, json={"phone": new_phone})
    assert r.status_code == 200, r.text
    for action in ("report-loss", "replace"):
        r = await world.call("POST", f"/api/v1/cards/{m['card']['card_no']}/{action}", clerk)
        assert r.status_code in (200, 201), r.text
    r = await world.call("DELETE", f"/api/v1/members/{no}", manager)
    assert r.status_code == 200, r.text
    got = await tap.wait(
        no,
        "members.member.registered",
        "members.card.issued",
        "members.member.updated",
        "members.card.replaced",
        "members.member.anonymized",
    )
    assert list(got["members.member.updated"].message.changed_fields) == ["phone"]
    secrets = [phone, "+86" + phone, new_phone, "+86" + new_phone, phone[-8:], new_phone[-8:], *pii.values()]
    events = tap.of(no)
    assert len(events) >= 6
    for s in events:
        blob = s.data + repr(s.headers).encode()
        for secret in secrets:
            assert secret.encode() not in blob, f"{s.subject} carries {secret!r}"


BAD_REGISTRATIONS = [
    {"phone": "12345"},
    {"name": ""},
    {"birthday": "2020-02-31"},
    {"card_type": "NO_SUCH_TYPE"},
    {"custom_fields": {"no_such_field": 1}},
]


async def test_rejected_registration_writes_no_event(world, store):
    path, code = store
    clerk = await world.staff("clerk", code)
    taken = await world.register(world.admin, home_store=code)  # home HQ/.../code: counted below
    before = await outbox_count(world, path)
    assert before == 2  # registered + issued of ``taken``
    for fields in BAD_REGISTRATIONS:
        r = await world.call(
            "POST", "/api/v1/members", clerk, json={"name": "坏", "phone": random_phone(), **fields}
        )
        assert_problem(r, 422)
    r = await world.call(
        "POST", "/api/v1/members", clerk, json={"name": "重", "phone": national(taken["phone"])}
    )
    assert_problem(r, 409, "member_exists")
    assert await outbox_count(world, path) == before
    await world.register(clerk)
    assert await outbox_count(world, path) == before + 2


async def test_patch_without_a_real_change_writes_no_updated_event(world, store):
    path, code = store
    clerk = await world.staff("clerk", code)
    m = await world.register(clerk, name="不变", tags=["a"])
    url = f"/api/v1/members/{m['member_no']}"
    r = await world.call("PATCH", url, clerk, json={"name": "不变", "tags": ["a"], "phone": m["phone"]})
    assert r.status_code == 200, r.text
    assert await outbox_count(world, path, "members.member.updated") == 0
    r = await world.call("PATCH", url, clerk, json={"name": "变了"})
    assert r.status_code == 200, r.text
    assert await outbox_count(world, path, "members.member.updated") == 1
