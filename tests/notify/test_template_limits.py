"""Templates cannot freeze notify: costly templates are refused by the sandbox (in a preview,
when saved, when sent), rendering runs off the event loop with a time limit, and only template
editors preview. Real gRPC against the notify world; the gateway's answers over real HTTP."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from chainclub.notify.v1 import notify_pb2 as pb
from services.notify import sender
from services.notify.models import deliveries
from services.notify.models import templates as templates_table
from tests.notify.conftest import chain_time

DAYTIME = chain_time(11)

COSTLY = {
    "power": "{{ 9**(9**9) }}",
    "repetition": "{{ 'x' * 100000000 }}",
    "nested ranges": "{% for i in range(10**5) %}{% for j in range(10**5) %}.{% endfor %}{% endfor %}",
    "nested loops": "{% for i in range(9999) %}{% for j in range(9999) %}{% for k in range(9999) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "huge range": "{% for i in range(10**6) %}{% for j in range(10**6) %}.{% endfor %}{% endfor %}",
}


async def _answers_meanwhile(w, call):  # type: ignore[no-untyped-def]
    """Runs ``call`` and, at the same time, a template read that must answer within its own
    two-second deadline (a frozen event loop would let it expire). Returns call's error."""
    md = w.md(w.token("auditor", "HQ"))
    read = w.api.GetTemplate(pb.GetTemplateRequest(event="welcome", channel="sms"), metadata=md, timeout=2)
    outcome, other = await asyncio.gather(call, read, return_exceptions=True)
    assert isinstance(other, pb.Template) and other.event == "welcome", other
    return outcome


@pytest.mark.parametrize("text", COSTLY.values(), ids=COSTLY.keys())
async def test_a_costly_preview_is_refused_at_once_and_notify_keeps_answering(notify_world, text) -> None:
    w = notify_world
    md = w.md(w.token("hq_admin", "HQ"))
    preview = w.api.PreviewTemplate(
        pb.PreviewTemplateRequest(event="payment", channel="sms", body=text), metadata=md, timeout=5
    )
    err = await _answers_meanwhile(w, preview)
    assert isinstance(err, grpc.aio.AioRpcError), err
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert err.details().startswith("template_too_costly:"), err.details()


async def test_a_costly_template_is_refused_when_saved(notify_world) -> None:
    w = notify_world
    md = w.md(w.token("hq_admin", "HQ"))
    before = await w.api.GetTemplate(pb.GetTemplateRequest(event="payment", channel="sms"), metadata=md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.PutTemplate(
            pb.PutTemplateRequest(event="payment", channel="sms", body="{{ amount_yuan * 100000000 }}"),
            metadata=md, timeout=5,
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "template_too_costly" in err.value.details()
    after = await w.api.GetTemplate(pb.GetTemplateRequest(event="payment", channel="sms"), metadata=md)
    assert after.body == before.body


async def test_a_normal_template_still_previews_with_sample_and_given_values(notify_world) -> None:
    w = notify_world
    md = w.md(w.token("hq_admin", "HQ"))
    text = (
        "{{ member_name }}: {% for c in card_no[-4:] %}{{ c }}{% endfor %} {{ amount_yuan }} 元 {{ 2**10 }}"
    )
    reply = await w.api.PreviewTemplate(
        pb.PreviewTemplateRequest(event="payment", channel="sms", subject="{{ store }}", body=text,
                                  variables={"member_name": "李四"}),
        metadata=md, timeout=5,
    )  # fmt: skip
    assert (reply.subject, reply.body) == ("HQ/EAST/SH001", "李四: 0001 128.00 元 1024")


@pytest.mark.parametrize("role", ["clerk", "store_manager", "auditor"])
async def test_only_template_editors_preview(notify_world, role) -> None:
    w = notify_world
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.PreviewTemplate(
            pb.PreviewTemplateRequest(event="payment", channel="sms", body="{{ amount_yuan }}"),
            metadata=w.md(w.token(role, "HQ")), timeout=5,
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_preview_past_the_time_limit_is_unavailable_and_notify_keeps_answering(
    notify_world, stalled_rendering
) -> None:
    w = notify_world
    preview = w.api.PreviewTemplate(
        pb.PreviewTemplateRequest(event="payment", channel="sms", body="{{ amount_yuan }}"),
        metadata=w.md(w.token("hq_admin", "HQ")), timeout=5,
    )  # fmt: skip
    err = await _answers_meanwhile(w, preview)
    assert isinstance(err, grpc.aio.AioRpcError) and err.code() == grpc.StatusCode.UNAVAILABLE, err
    assert "took longer than 0.3 s" in err.details()


@pytest.fixture
async def costly_stored_template(notify_world):  # type: ignore[no-untyped-def]
    """The tier_changed/wechat/en template replaced, in the database, by nested loops (as one
    saved before templates were checked), and restored afterwards."""
    key = {"event": "tier_changed", "channel": "wechat", "locale": "en"}
    where = [templates_table.c[k] == v for k, v in key.items()]
    async with notify_world.ctx.db.transaction() as s:
        saved = (await s.execute(select(templates_table.c.body).where(*where))).scalar_one()
        await s.execute(update(templates_table).where(*where).values(body=COSTLY["nested loops"]))
    yield key
    async with notify_world.ctx.db.transaction() as s:
        await s.execute(update(templates_table).where(*where).values(body=saved))


async def test_a_costly_stored_template_cannot_freeze_the_sender(
    notify_world, costly_stored_template
) -> None:
    w = notify_world
    delivery_id = uuid.uuid4()
    async with w.ctx.db.transaction() as s:
        await s.execute(
            insert(deliveries).values(
                id=delivery_id, event_id=uuid.uuid4(), recipient="wx-openid-limits", org_path="HQ",
                marketing=False, variables={"member_name": "A", "member_no": "M1", "from_tier": "silver",
                                            "to_tier": "gold"},
                next_attempt_at=DAYTIME, **costly_stored_template,
            )
        )  # fmt: skip
    await _answers_meanwhile(w, sender.send_due(w.ctx, DAYTIME))
    async with w.ctx.db.transaction() as s:
        row = (await s.execute(select(deliveries).where(deliveries.c.id == delivery_id))).one()
    assert (row.status, row.attempts) == ("pending", 1), row
    assert "template_too_costly: more than 10000 loop iterations" in row.last_error, row.last_error
