"""Tables of the loyalty database: points accounts, lots and history, reservations and
purchases, tiers, earn rules, promotions, coupon templates and coupons, idempotency."""

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
    LargeBinary,
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


def _ts(name: str) -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


points_accounts = Table(
    "points_accounts",
    metadata,
    Column("member_no", String(16), primary_key=True),
    Column("home_store_path", Text, nullable=False, server_default=""),
    Column("balance", BigInteger, nullable=False, server_default="0"),  # = sum of lots' remaining
    Column("reserved", BigInteger, nullable=False, server_default="0"),  # held by pending checkouts
    Column("tier", String(32), nullable=False, server_default="standard"),
    Column("birthday", String(10), nullable=False, server_default=""),
    Column("referrer_member_no", String(16), nullable=False, server_default=""),
    _ts("created_at"),
    _ts("updated_at"),
    CheckConstraint("balance >= 0", name="balance_non_negative"),
    CheckConstraint("reserved >= 0 AND reserved <= balance", name="reserved_within_balance"),
)

points_lots = Table(
    "points_lots",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("member_no", String(16), ForeignKey("points_accounts.member_no"), nullable=False),
    Column("source", String(16), nullable=False),  # earn, bonus, restore, adjust
    Column("reference", Text, nullable=False, server_default=""),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("expiring_announced", Boolean, nullable=False, server_default="false"),
    _ts("created_at"),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_within_points"),
    Index("ix_points_lots_member_expiry", "member_no", "expires_on"),
)

points_entries = Table(
    "points_entries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("member_no", String(16), nullable=False),
    Column(
        "kind", String(16), nullable=False
    ),  # earn, redeem, reserve, release, expire, clawback, bonus, restore
    Column("points", BigInteger, nullable=False),  # signed
    Column("reference", Text, nullable=False, server_default=""),
    Column("rules", ARRAY(Text), nullable=False, server_default="{}"),
    _ts("created_at"),
    Index("ix_points_entries_member", "member_no", "id"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("checkout_id", String(100), primary_key=True),
    Column("status", String(12), nullable=False),  # pending, confirmed, cancelled, expired
    Column("member_no", String(16), nullable=False, server_default=""),
    Column("card_no", String(20), nullable=False, server_default=""),
    Column("store_path", Text, nullable=False),
    Column("request", LargeBinary, nullable=False),  # the QuoteRequest
    Column("quote", LargeBinary, nullable=False),  # the PriceQuote
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("coupon_code", String(40), nullable=False, server_default=""),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    Index("ix_reservations_pending", "expires_at", postgresql_where="status = 'pending'"),
)

purchases = Table(
    "purchases",
    metadata,
    Column("checkout_id", String(100), primary_key=True),
    Column("member_no", String(16), nullable=False, server_default=""),
    Column("card_no", String(20), nullable=False, server_default=""),
    Column("store_path", Text, nullable=False),
    Column("status", String(20), nullable=False),  # completed, partially_refunded, refunded
    Column("quote", LargeBinary, nullable=False),
    Column("tenders", JSONB, nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("discount_total", BigInteger, nullable=False),
    Column("points_used", BigInteger, nullable=False),
    Column("points_value", BigInteger, nullable=False),
    Column("total_due", BigInteger, nullable=False),
    Column("points_earned", BigInteger, nullable=False),
    Column("earn_rules", ARRAY(Text), nullable=False, server_default="{}"),
    Column("coupon_code", String(40), nullable=False, server_default=""),
    Column("tier", String(32), nullable=False, server_default=""),
    Column("refunded_amount", BigInteger, nullable=False, server_default="0"),
    Column("refunded_qty", JSONB, nullable=False, server_default="{}"),  # sku -> qty
    Column("points_restored", BigInteger, nullable=False, server_default="0"),
    Column("points_clawed_back", BigInteger, nullable=False, server_default="0"),
    _ts("created_at"),
    Index("ix_purchases_member_created", "member_no", "created_at"),
    Index("ix_purchases_store_created", "store_path", "created_at"),
)

# One row per refund of a purchase (a purchase's running totals are on the purchase itself):
# when and how much, so reports can tell the refunds of a day (the daily summary).
purchase_refunds = Table(
    "purchase_refunds",
    metadata,
    Column("request_id", String(300), primary_key=True),
    Column("checkout_id", String(100), ForeignKey("purchases.checkout_id"), nullable=False),
    Column("store_path", Text, nullable=False),  # the purchase's store
    Column("amount", BigInteger, nullable=False),  # fen given back
    Column("points_restored", BigInteger, nullable=False),
    Column("points_clawed_back", BigInteger, nullable=False),
    _ts("created_at"),
    Index("ix_purchase_refunds_created", "created_at"),
)

tiers = Table(
    "tiers",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("rank", Integer, nullable=False, unique=True),
    Column("min_spend_12m", BigInteger, nullable=False, server_default="0"),
    Column("min_points_12m", BigInteger, nullable=False, server_default="0"),
    Column("discount_bps", Integer, nullable=False, server_default="0"),
    Column("points_multiplier_bps", Integer, nullable=False, server_default="10000"),
    Column("birthday_gift_template_id", String(40), nullable=False, server_default=""),
    Column("birthday_points", BigInteger, nullable=False, server_default="0"),
    Column("keep_spend_12m", BigInteger, nullable=False, server_default="0"),  # 保级; 0 = min_spend_12m
    Column("keep_points_12m", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("birthday_points >= 0", name="birthday_points_non_negative"),
)

earn_rules = Table(
    "earn_rules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("scope", Text, nullable=False),
    Column("category", String(64), nullable=False, server_default=""),
    Column("points_per_yuan_bps", BigInteger, nullable=False),
    Column("member_day", Integer, nullable=False, server_default="0"),
    Column("member_day_multiplier_bps", Integer, nullable=False, server_default="10000"),
    Column("birthday_month_multiplier_bps", Integer, nullable=False, server_default="10000"),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at"),
)

promotions = Table(
    "promotions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("spend_threshold", BigInteger, nullable=False, server_default="0"),
    Column("save_amount", BigInteger, nullable=False, server_default="0"),
    Column("category", String(64), nullable=False, server_default=""),
    Column("discount_bps", Integer, nullable=False, server_default="0"),
    Column("day_of_month", Integer, nullable=False, server_default="0"),
    Column("members_only", Boolean, nullable=False, server_default="false"),
    Column("scope", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at"),
)

coupon_templates = Table(
    "coupon_templates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_off", BigInteger, nullable=False, server_default="0"),
    Column("percent_off_bps", Integer, nullable=False, server_default="0"),
    Column("min_spend", BigInteger, nullable=False, server_default="0"),
    Column("gift_sku", String(64), nullable=False, server_default=""),
    Column("valid_days", Integer, nullable=False, server_default="0"),
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("scope", Text, nullable=False),
    Column("per_member_limit", Integer, nullable=False, server_default="0"),  # 0 = no limit
    Column("total_quantity", Integer, nullable=False, server_default="0"),  # 0 = unlimited
    Column("issued", Integer, nullable=False, server_default="0"),
    Column("campaign", String(20), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at"),
    CheckConstraint("total_quantity = 0 OR issued <= total_quantity", name="issued_within_quantity"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("template_id", UUID(as_uuid=True), ForeignKey("coupon_templates.id"), nullable=False),
    Column("member_no", String(16), nullable=False),
    Column("status", String(12), nullable=False),  # available, reserved, redeemed, expired
    Column("checkout_id", String(100)),  # holding or redeeming checkout
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("request_id", String(300), nullable=False, server_default=""),
    Column("expiring_announced", Boolean, nullable=False, server_default="false"),
    _ts("issued_at"),
    _ts("updated_at"),
    Index("ix_coupons_member", "member_no", "status"),
    Index(
        "ix_coupons_expiring",
        "valid_until",
        postgresql_where="status = 'available' AND NOT expiring_announced",
    ),
    Index("ix_coupons_template_member", "template_id", "member_no"),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("points_cost", BigInteger, nullable=False),
    Column("stock", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at"),
    CheckConstraint("points_cost > 0", name="points_cost_positive"),
    CheckConstraint("stock >= 0", name="stock_non_negative"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", String(300), nullable=False, unique=True),
    Column("member_no", String(16), nullable=False),
    Column("reward_id", UUID(as_uuid=True), ForeignKey("rewards.id"), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("store_path", Text, nullable=False, server_default=""),
    _ts("created_at"),
    Index("ix_redemptions_member", "member_no", "created_at"),
)

# The referral reward rule (推荐有礼): one row, HQ's, applied when a member registers with a
# referrer. No row = inactive.
referral_rule = Table(
    "referral_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("referrer_points", BigInteger, nullable=False, server_default="0"),
    Column("referrer_coupon_template_id", String(40), nullable=False, server_default=""),
    Column("referee_coupon_template_id", String(40), nullable=False, server_default=""),
    _ts("updated_at"),
    CheckConstraint("id = 1", name="one_referral_rule"),
    CheckConstraint("referrer_points >= 0", name="referrer_points_non_negative"),
)

# One grant per (campaign, member, period): the referral reward (period "" — once ever, keyed
# on the referee), birthday coupons (period = the year). A second insert finds the row.
campaign_grants = Table(
    "campaign_grants",
    metadata,
    Column("campaign", String(20), primary_key=True),
    Column("member_no", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("reference", Text, nullable=False, server_default=""),
    _ts("created_at"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("request_id", String(300), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("result", LargeBinary),
    Column("error_reason", String(64)),
    Column("error_detail", Text),
    _ts("created_at"),
)

# Segments (services/loyalty/segments.py): one row per member with purchases, rewritten by
# each recompute. Raw recency/frequency/monetary and the lifecycle stage as of computed_at;
# RFM scores and quadrants are relative to a scope, so they are derived when asked.
member_segments = Table(
    "member_segments",
    metadata,
    Column("member_no", String(16), primary_key=True),
    Column("home_store_path", Text, nullable=False),
    Column("first_purchase_at", DateTime(timezone=True), nullable=False),
    Column("last_purchase_at", DateTime(timezone=True), nullable=False),
    Column("recency_days", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),  # purchases in the last 12 months
    Column("monetary", BigInteger, nullable=False),  # fen, net of refunds, last 12 months
    Column("spend_90d", BigInteger, nullable=False),
    Column("spend_prev_90d", BigInteger, nullable=False),  # 180..90 days ago
    Column("lifecycle", String(16), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Index("ix_member_segments_home", "home_store_path"),
)

# One row: moved by a trigger on every change to tiers, promotions and earn rules (migration
# 0009). A process keeps that configuration in memory and checks this number per checkout.
pricing_config_version = Table(
    "pricing_config_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
