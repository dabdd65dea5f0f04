"""Tables of the members database. PII columns hold AES-GCM ciphertext (``<kid>:<b64>``);
the phone is found through its keyed blind index ``phone_bidx``."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from kit.db import new_metadata
from kit.schema import messaging_tables

metadata = new_metadata()
tables = messaging_tables(metadata)

member_no_seq = Sequence("member_no_seq", start=100000001, metadata=metadata)  # 9 digits + check digit
card_no_seq = Sequence("card_no_seq", start=1, metadata=metadata)
# A card's version: every change takes the next value, never reused (not even after a rollback),
# so a state wallet was told by a transaction that then failed never shares a later one's version.
card_version_seq = Sequence("card_version_seq", start=2, metadata=metadata)


def _ts(name: str) -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


card_types = Table(
    "card_types",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("joining_fee", BigInteger, nullable=False, server_default="0"),
    Column("annual_fee", BigInteger, nullable=False, server_default="0"),
    Column("replacement_fee", BigInteger, nullable=False, server_default="0"),
    Column("validity_months", Integer, nullable=False, server_default="0"),
    Column("max_holders", Integer, nullable=False, server_default="1"),
    Column("discount_bps", Integer, nullable=False, server_default="0"),
    Column("home_scope", Text, nullable=False, server_default=""),
    Column("is_default", Boolean, nullable=False, server_default="false"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("max_balance", BigInteger, nullable=False, server_default="0"),
    Column("max_single_top_up", BigInteger, nullable=False, server_default="0"),
    _ts("created_at"),
    _ts("updated_at"),
    CheckConstraint("kind IN ('personal', 'family', 'group', 'co_branded')", name="kind"),
)

field_definitions = Table(
    "field_definitions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("type", String(16), nullable=False),
    Column("required", Boolean, nullable=False, server_default="false"),
    Column("choices", JSONB, nullable=False, server_default="[]"),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("updated_at"),
)

members = Table(
    "members",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("member_no", String(16), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("gender", String(8), nullable=False, server_default=""),
    Column("birthday", Date),
    Column("birthday_month", SmallInteger),
    Column("phone_enc", Text),
    Column("phone_bidx", String(64), unique=True),
    Column("phone_last4", String(4), nullable=False, server_default=""),
    Column("email_enc", Text),
    Column("id_number_enc", Text),
    Column("address_enc", Text),
    Column("income_band", String(32), nullable=False, server_default=""),
    Column("occupation", String(64), nullable=False, server_default=""),
    Column("preferences", JSONB, nullable=False, server_default="{}"),
    Column("home_store_path", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("referrer_member_no", String(16)),
    Column("joined_on", Date, nullable=False),
    Column("consents", JSONB, nullable=False, server_default="{}"),
    Column("tags", ARRAY(String(64)), nullable=False, server_default="{}"),
    Column("custom_fields", JSONB, nullable=False, server_default="{}"),
    Column("tier", String(32), nullable=False, server_default="standard"),
    Column("status", String(16), nullable=False, server_default="active"),
    _ts("created_at"),
    _ts("updated_at"),
    Index(
        "ix_members_home_store_path",
        "home_store_path",
        postgresql_ops={"home_store_path": "text_pattern_ops"},
    ),
    Index("ix_members_tags", "tags", postgresql_using="gin"),
    Index("ix_members_birthday_month", "birthday_month"),
)

cards = Table(
    "cards",
    metadata,
    Column("card_no", String(20), primary_key=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("members.id"), nullable=False),
    Column("card_type", String(32), ForeignKey("card_types.code"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("home_store_path", Text, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("replaced_by", String(20)),
    Column("replaces", String(20)),
    # From card_version_seq at every change: wallet keeps the newest state it was told.
    Column("version", BigInteger, nullable=False, server_default="1"),
    _ts("status_changed_at"),
    _ts("created_at"),
    Index("ix_cards_member_id", "member_id"),
    Index("ix_cards_account_id", "account_id"),
)

card_holders = Table(
    "card_holders",
    metadata,
    Column("card_no", String(20), ForeignKey("cards.card_no"), nullable=False),
    Column("member_id", UUID(as_uuid=True), ForeignKey("members.id"), nullable=False),
    _ts("added_at"),
    PrimaryKeyConstraint("card_no", "member_id"),
    Index("ix_card_holders_member_id", "member_id"),
)

card_events = Table(
    "card_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("card_no", String(20), nullable=False, index=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("acting_store_path", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    _ts("at"),
)

visits = Table(
    "visits",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("members.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("outcome", String(200), nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    Column("staff", String(64), nullable=False),
    Column("store_path", Text, nullable=False),
    _ts("at"),
    Index("ix_visits_member_id_at", "member_id", "at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("members.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("created_by", String(64), nullable=False),
    Column("store_path", Text, nullable=False),
    Column("handled_by", String(64)),
    _ts("created_at"),
    Column("handled_at", DateTime(timezone=True)),
    Index("ix_feedback_member_id_created_at", "member_id", "created_at"),
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("format", String(8), nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("created", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("message", Text, nullable=False, server_default=""),
    _ts("created_at"),
    Column("finished_at", DateTime(timezone=True)),
)

import_errors = Table(
    "import_errors",
    metadata,
    Column("job_id", UUID(as_uuid=True), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("field", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("code", String(40), nullable=False, server_default=""),  # "" on rows stored before codes
    Index("ix_import_errors_job_row", "job_id", "row"),
)
