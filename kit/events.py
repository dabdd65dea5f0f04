"""Event envelopes: protobuf payloads with CloudEvents headers (NATS binding)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.message import Message

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"


def stream_of(subject: str) -> str:
    """``wallet.payment.captured`` lives in the ``WALLET`` stream."""
    return subject.split(".", 1)[0].upper()


def cloudevent_headers(
    *, event_id: str, subject: str, type_: str, source: str, time: datetime, traceparent: str | None
) -> dict[str, str]:
    headers = {
        "Nats-Msg-Id": event_id,
        "ce-specversion": SPEC_VERSION,
        "ce-id": event_id,
        "ce-type": type_,
        "ce-source": source,
        "ce-time": time.astimezone(UTC).isoformat(),
        "ce-subject": subject,
        "content-type": CONTENT_TYPE,
    }
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


@dataclass(frozen=True)
class Event:
    """An event as a consumer receives it."""

    id: str
    subject: str
    type: str
    source: str
    time: datetime
    data: bytes
    traceparent: str | None = None

    def parse(self, cls: type[Message]) -> Message:
        if cls.DESCRIPTOR.full_name != self.type:
            raise ValueError(f"event {self.id} is a {self.type}, not a {cls.DESCRIPTOR.full_name}")
        msg = cls()
        msg.ParseFromString(self.data)
        return msg

    @classmethod
    def from_headers(cls, subject: str, headers: dict[str, str] | None, data: bytes) -> Event:
        h = headers or {}
        event_id = h.get("ce-id") or h.get("Nats-Msg-Id")
        if not event_id:
            raise ValueError("event without an id (ce-id / Nats-Msg-Id)")
        uuid.UUID(event_id)
        if "ce-type" not in h:
            raise ValueError("event without ce-type")
        time = datetime.fromisoformat(h["ce-time"]) if "ce-time" in h else datetime.now(UTC)
        return cls(
            id=event_id,
            subject=subject,
            type=h["ce-type"],
            source=h.get("ce-source", ""),
            time=time,
            data=data,
            traceparent=h.get("traceparent"),
        )
