"""Tables of the gateway database."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from kit.db import new_metadata

metadata = new_metadata()


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


org_units = Table(
    "org_units",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("parent", String(32), ForeignKey("org_units.code")),
    Column("path", Text, nullable=False, unique=True),
    Column("active", Boolean, nullable=False, server_default="true"),
    _created(),
    CheckConstraint("kind IN ('hq', 'region', 'store')", name="kind"),
)

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("org_unit", String(32), ForeignKey("org_units.code"), nullable=False),
    Column("price_level", String(8)),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_by", String(64)),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

terminals = Table(
    "terminals",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("secret_hash", Text, nullable=False),
    Column("name", String(200), nullable=False),
    Column("store", String(32), ForeignKey("org_units.code"), nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_by", String(64)),
    _created(),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("kind", String(10), nullable=False),  # user | terminal
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    _created(),
    Index("ix_refresh_tokens_subject", "subject"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(100), nullable=False),  # "user:<name>" or "ip:<addr>"
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_login_failures_key_at", "key", "at"),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("category", String(100), nullable=False, server_default=""),
    Column("retail_price", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("retail_price >= 0", name="retail_price_non_negative"),
)

product_price_levels = Table(
    "product_price_levels",
    metadata,
    Column("sku", String(64), ForeignKey("products.sku", ondelete="CASCADE"), nullable=False),
    Column("level", String(8), nullable=False),
    Column("price", BigInteger, nullable=False),
    PrimaryKeyConstraint("sku", "level"),
    CheckConstraint("price >= 0", name="price_non_negative"),
)

product_region_prices = Table(
    "product_region_prices",
    metadata,
    Column("sku", String(64), ForeignKey("products.sku", ondelete="CASCADE"), nullable=False),
    Column("org_path", Text, nullable=False),
    Column("price", BigInteger, nullable=False),
    PrimaryKeyConstraint("sku", "org_path"),
    CheckConstraint("price >= 0", name="price_non_negative"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(200), nullable=False),
    Column("org_path", Text, nullable=False),
    Column("detail", JSONB, nullable=False, server_default="{}"),
    Column("ip", String(64)),
    Column("request_id", String(64)),
    Index("ix_audit_log_org_path_at", "org_path", "at"),
)

# The checkout saga log (docs/design.md §6 gateway): one row per checkout, its state persisted
# before each step so a retry or a restart resumes instead of charging twice.
CHECKOUT_STATUSES = ("started", "reserved", "paid", "completed", "released", "refunded", "failed")

checkouts = Table(
    "checkouts",
    metadata,
    Column("checkout_id", UUID(as_uuid=True), primary_key=True),  # uuid5(caller + Idempotency-Key)
    Column("body_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("store_path", Text, nullable=False),
    Column("card_no", String(32), nullable=False, server_default=""),
    Column("member_no", String(32), nullable=False, server_default=""),
    Column("request", JSONB, nullable=False),  # priced lines, coupon, points, payments, card
    Column("quote", JSONB),  # the reserved quote
    # A checkout that holds nothing (no coupon, no points): loyalty's QuotedCheckout, written
    # with the start; loyalty records the purchase from it, and a retry or the resumer too.
    Column("quoted", LargeBinary),
    Column("total_due", BigInteger),
    Column("stored_value", BigInteger, nullable=False, server_default="0"),
    Column("payment", JSONB),  # the wallet transaction of the stored-value part
    Column("receipt", JSONB),  # the 201 body, replayed as is
    Column("error", JSONB),  # {"status", "code", "detail"} of a checkout that ended in an error
    Column("lease_until", DateTime(timezone=True)),  # who runs the saga now (a request or the resumer)
    Column("attempts", Integer, nullable=False, server_default="0"),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN " + str(CHECKOUT_STATUSES), name="status"),
    Index("ix_checkouts_status_updated", "status", "updated_at"),
    Index("ix_checkouts_store_path_created", "store_path", "created_at"),
)

checkout_refunds = Table(
    "checkout_refunds",
    metadata,
    Column("refund_id", UUID(as_uuid=True), primary_key=True),  # uuid5(caller + Idempotency-Key)
    Column("checkout_id", UUID(as_uuid=True), ForeignKey("checkouts.checkout_id"), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("lines", JSONB, nullable=False),  # [{"sku","qty"}] refunded; [] = everything left
    Column("stored_value", BigInteger, nullable=False, server_default="0"),
    Column("result", JSONB),  # the 201 body once done
    _created(),
    Index("ix_checkout_refunds_checkout", "checkout_id"),
)


ISSUE_JOB_STATUSES = ("running", "completed", "failed")

issue_jobs = Table(
    "issue_jobs",
    metadata,
    Column("job_id", UUID(as_uuid=True), primary_key=True),  # uuid5(the scoped Idempotency-Key)
    Column("request_key", String(300), nullable=False),  # the scoped key; batch n issues under "<key>:<n>"
    Column("template_id", String(64), nullable=False),
    Column("segment", String(32), nullable=False),
    Column("scope", Text, nullable=False),  # the org path the segment was taken in
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("actor_scope", Text, nullable=False),
    Column("member_nos", JSONB, nullable=False),  # fixed at the start: a resumed job issues the same batches
    Column("total", Integer, nullable=False),
    Column("batches_done", Integer, nullable=False, server_default="0"),
    Column("issued", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN " + str(ISSUE_JOB_STATUSES), name="status"),
    Index("ix_issue_jobs_scope_created", "scope", "created_at"),
)
