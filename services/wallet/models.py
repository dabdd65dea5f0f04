"""Tables of the wallet database: accounts with cached buckets, the append-only journal,
idempotency records, rules, alerts, adjustments and batch jobs."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from kit.db import new_metadata
from kit.idempotency import idempotency_table
from kit.schema import messaging_tables

metadata = new_metadata()
tables = messaging_tables(metadata)


def _ts(name: str) -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


accounts = Table(
    "accounts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("card_no", String(20), nullable=False),  # the card last seen using it
    Column("member_no", String(16), nullable=False),
    Column("home_store_path", Text, nullable=False),
    Column("principal", BigInteger, nullable=False, server_default="0"),
    Column("bonus", BigInteger, nullable=False, server_default="0"),
    Column("status", String(10), nullable=False, server_default="open"),
    _ts("created_at"),
    _ts("updated_at"),
    CheckConstraint("principal >= 0", name="principal_non_negative"),
    CheckConstraint("bonus >= 0", name="bonus_non_negative"),
)

# What a payment, a top-up or a fee needs of a card, copied from members (pushed for blocks and
# type changes before they commit there, and from its events): they read it in their claim
# statement, not from members. ``version`` is members' and only grows: an older state never
# overwrites a newer one. The type's terms (limits, fees) are NULL until heard of.
cards = Table(
    "cards",
    metadata,
    Column("card_no", String(20), primary_key=True),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("member_no", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("home_store_path", Text, nullable=False),
    Column("card_type", String(32), nullable=False),
    Column("card_type_home_scope", Text, nullable=False, server_default=""),
    Column("version", BigInteger, nullable=False),
    Column("max_balance", BigInteger),
    Column("max_single_top_up", BigInteger),
    Column("joining_fee", BigInteger),
    Column("annual_fee", BigInteger),
    Column("replacement_fee", BigInteger),
    _ts("updated_at"),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("account_id", UUID(as_uuid=True), ForeignKey("accounts.id"), nullable=False),
    Column("card_no", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("principal_delta", BigInteger, nullable=False),
    Column("bonus_delta", BigInteger, nullable=False),
    Column("bonus_points", BigInteger, nullable=False, server_default="0"),
    Column("channel", String(16), nullable=False, server_default=""),
    Column("acting_store_path", Text, nullable=False),
    Column("home_store_path", Text, nullable=False),
    Column("request_id", String(300), nullable=False),
    Column("related_id", UUID(as_uuid=True)),
    Column("note", Text, nullable=False, server_default=""),
    Column("actor", String(64), nullable=False, server_default=""),
    _ts("created_at"),
    Column("bonus_rule_id", UUID(as_uuid=True)),  # the top-up bonus rule it applied
    Index("ix_transactions_account_created", "account_id", "created_at"),
    Index("ix_transactions_kind_created", "kind", "created_at"),
    Index("ix_transactions_related", "related_id"),
    Index("ix_transactions_bonus_rule", "bonus_rule_id", postgresql_where=text("bonus_rule_id IS NOT NULL")),
)

postings = Table(
    "postings",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("transaction_id", UUID(as_uuid=True), ForeignKey("transactions.id"), nullable=False),
    Column("ledger", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    _ts("created_at"),
    Index("ix_postings_transaction", "transaction_id"),
    Index("ix_postings_ledger_created", "ledger", "created_at"),
)

idempotency = idempotency_table(metadata, kind_length=16)  # results: serialized Transactions

bonus_rules = Table(
    "bonus_rules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("min_amount", BigInteger, nullable=False),
    Column("bonus_amount", BigInteger, nullable=False, server_default="0"),
    Column("bonus_points", BigInteger, nullable=False, server_default="0"),
    Column("scope", Text, nullable=False, server_default="HQ"),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_by", String(64), nullable=False),
    _ts("created_at"),
)

topup_policy = Table(
    "topup_policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("store_paths", ARRAY(Text), nullable=False, server_default="{}"),
    Column("operators", ARRAY(Text), nullable=False, server_default="{}"),
    Column("updated_by", String(64), nullable=False, server_default=""),
    _ts("updated_at"),
)

risk_rules = Table(
    "risk_rules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("threshold", BigInteger, nullable=False),
    Column("window_seconds", Integer, nullable=False, server_default="0"),
    Column("action", String(8), nullable=False),
    Column("applies_to", String(8), nullable=False, server_default="any"),
    Column("start_minute", Integer, nullable=False, server_default="0"),
    Column("end_minute", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("scope", Text, nullable=False, server_default="HQ"),  # watches transactions made in this subtree
    Column("created_by", String(64), nullable=False),
    _ts("created_at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("rule_id", UUID(as_uuid=True), nullable=False),
    Column("rule_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("action", String(8), nullable=False),
    Column("card_no", String(20), nullable=False),
    Column("account_id", UUID(as_uuid=True)),
    Column("amount", BigInteger, nullable=False),
    Column("transaction_kind", String(16), nullable=False),
    Column("acting_store_path", Text, nullable=False),
    Column("home_store_path", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledgement_note", Text, nullable=False, server_default=""),
    # the transaction that raised it (absent when refused) after the window's ones it counted
    Column("transaction_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    _ts("created_at"),
    Index("ix_alerts_status_created", "status", "created_at"),
    Index("ix_alerts_rule", "rule_id"),
)

adjustments = Table(
    "adjustments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", String(300), nullable=False, unique=True),
    Column("card_no", String(20), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("bucket", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("approved_by", String(64)),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("home_store_path", Text, nullable=False),
    _ts("created_at"),
    Column("rejected_by", String(64)),
    Column("rejection_reason", Text),
    Column("rejected_at", DateTime(timezone=True)),
)

batch_jobs = Table(
    "batch_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", String(300), nullable=False, unique=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("acting_store_path", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    _ts("created_at"),
)

batch_rows = Table(
    "batch_rows",
    metadata,
    Column("job_id", UUID(as_uuid=True), ForeignKey("batch_jobs.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("card_no", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("error_code", String(64)),
    Column("message", Text),
    PrimaryKeyConstraint("job_id", "row"),
)
