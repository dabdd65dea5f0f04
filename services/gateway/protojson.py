"""Protobuf messages as the JSON the REST API answers: int64 stays a number (money is
integer fen, not the string protobuf's JSON mapping would make it), timestamps are RFC 3339,
an unset message field is null."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


def plain(message) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A protobuf message as JSON-ready values: int64 stays a number (money is integer fen,
    not the string protobuf's JSON mapping would make it), timestamps are RFC 3339."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            out[field.name] = {k: _value(v) for k, v in value.items()}
        elif _repeated(field):
            out[field.name] = [_value(v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value(value)
    return out


def _repeated(field) -> bool:  # type: ignore[no-untyped-def]
    # protobuf 7 dropped FieldDescriptor.label in favour of is_repeated
    if hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


def _value(value):  # type: ignore[no-untyped-def]
    if isinstance(value, Timestamp):
        return value.ToDatetime(tzinfo=UTC).isoformat() if (value.seconds or value.nanos) else None
    if isinstance(value, Message):
        return plain(value)
    return value


def timestamp(value: datetime | None) -> Timestamp | None:
    """A datetime as a protobuf Timestamp (None stays unset)."""
    if value is None:
        return None
    t = Timestamp()
    t.FromDatetime(value)
    return t
