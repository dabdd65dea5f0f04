"""Tables of the notify database. Members' contact details are never stored here."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from kit.db import new_metadata
from kit.schema import messaging_tables

metadata = new_metadata()
tables = messaging_tables(metadata)

templates = Table(
    "templates",
    metadata,
    Column("event", String(40), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("locale", String(10), primary_key=True),
    Column("subject", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("updated_by", String(100), nullable=False, server_default="seed"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One delivery per event x channel (the unique constraint makes a redelivered event a no-op).
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("member_no", String(40), nullable=False, server_default=""),
    Column("recipient", Text, nullable=False, server_default=""),  # staff addresses only
    Column("org_path", String(400), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("marketing", Boolean, nullable=False),
    Column("variables", JSONB, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("event_id", "channel", name="uq_deliveries_event_channel"),
    Index("ix_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    Index("ix_deliveries_member", "member_no", "created_at"),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("member_no", String(40), nullable=False),
    Column("store_path", String(400), nullable=False),
    Column("checkout_id", String(100)),  # the first purchase's; NULL for a batch's follow-ups
    Column("stage", String(4), nullable=False),  # 3d, 3w, 3m; "ask" for a batch's follow-ups
    Column("due_on", Date, nullable=False),
    Column("window_start", String(5), nullable=False),
    Column("window_end", String(5), nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("outcome", Text, nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("completed_by", String(100), nullable=False, server_default=""),
    Column("completed_at", DateTime(timezone=True)),
    Column("visit_id", String(64), nullable=False, server_default=""),
    Column("purpose", Text, nullable=False, server_default=""),  # what a batch's follow-up is about
    Column("batch_key", String(255)),  # CreateFollowUps' key; NULL for a first purchase's
    Column("created_by", String(100), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("checkout_id", "stage", name="uq_follow_ups_checkout_stage"),
    UniqueConstraint("batch_key", "member_no", name="uq_follow_ups_batch_member"),
    Index("ix_follow_ups_store_due", "store_path", "due_on"),
)

announcements = Table(
    "announcements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("delivery_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("member_no", String(40), nullable=False, server_default=""),
    Column("org_path", String(400), nullable=False),
    Column("event", String(40), nullable=False),
    Column("subject", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_announcements_member", "member_no", "created_at"),
)

# One row per run of a daily schedule, inserted in the run's own transaction: the unique
# (job, run_date) is what keeps two replicas from running one day twice.
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("job", String(40), primary_key=True),
    Column("run_date", Date, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("deliveries", Integer, nullable=False, server_default="0"),
)
