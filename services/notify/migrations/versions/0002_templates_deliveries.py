"""templates (seeded), deliveries, follow-ups, announcements

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_T = "{{ member_name }}"
ZH = {
    "welcome": ("欢迎加入会员", f"{_T}您好，欢迎成为我们的会员！卡号 {{{{ card_no }}}}。"),
    "payment": ("消费通知", f"{_T}您好，您的会员卡 {{{{ card_no }}}} 于 {{{{ time }}}} 消费 {{{{ amount_yuan }}}} 元。"),
    "top_up": (
        "充值通知",
        f"{_T}您好，您的会员卡 {{{{ card_no }}}} 于 {{{{ time }}}} 充值 {{{{ amount_yuan }}}} 元"
        "{% if bonus_yuan != '0.00' %}，赠送 {{ bonus_yuan }} 元{% endif %}。",
    ),
    "points_earned": ("积分到账", f"{_T}您好，您获得 {{{{ points }}}} 积分，当前积分 {{{{ balance }}}}。"),
    "tier_changed": ("会员等级变更", f"{_T}您好，您的会员等级已由 {{{{ from_tier }}}} 变更为 {{{{ to_tier }}}}。"),
    "coupon_issued": ("优惠券到账", f"{_T}您好，您获得优惠券「{{{{ coupon_name }}}}」，有效期至 {{{{ valid_until }}}}。"),
    "card_status": ("会员卡状态变更", f"{_T}您好，您的会员卡 {{{{ card_no }}}} 状态已变更为 {{{{ status }}}}。"),
    "risk_alert": (
        "异常交易提醒：{{ rule_name }}",
        "规则 {{ rule_name }}（{{ kind }}，{{ action }}）：卡号 {{ card_no }} 金额 {{ amount_yuan }} 元，"
        "门店 {{ store }}，{{ detail }}，时间 {{ time }}。",
    ),
}
EN = {
    "welcome": ("Welcome", f"Hello {_T}, welcome to the club! Your card is {{{{ card_no }}}}."),
    "payment": ("Payment notice", f"Hello {_T}, card {{{{ card_no }}}} paid {{{{ amount_yuan }}}} yuan at {{{{ time }}}}."),
    "top_up": ("Top-up notice", f"Hello {_T}, card {{{{ card_no }}}} was topped up by {{{{ amount_yuan }}}} yuan at {{{{ time }}}}."),
    "points_earned": ("Points earned", f"Hello {_T}, you earned {{{{ points }}}} points; balance {{{{ balance }}}}."),
    "tier_changed": ("Tier changed", f"Hello {_T}, your tier changed from {{{{ from_tier }}}} to {{{{ to_tier }}}}."),
    "coupon_issued": ("New coupon", f"Hello {_T}, you received the coupon {{{{ coupon_name }}}}, valid until {{{{ valid_until }}}}."),
    "card_status": ("Card status", f"Hello {_T}, card {{{{ card_no }}}} is now {{{{ status }}}}."),
    "risk_alert": (
        "Risk alert: {{ rule_name }}",
        "Rule {{ rule_name }} ({{ kind }}, {{ action }}): card {{ card_no }}, {{ amount_yuan }} yuan "
        "at {{ store }}: {{ detail }} ({{ time }}).",
    ),
}
MEMBER_CHANNELS = ("sms", "wechat", "email")
EXTRA = {"coupon_issued": ("announcement",), "tier_changed": ("announcement",)}  # in-system notices


def seed_rows() -> list[dict]:
    rows = []
    for locale, texts in (("zh-CN", ZH), ("en", EN)):
        for event, (subject, body) in texts.items():
            channels = ("email",) if event == "risk_alert" else MEMBER_CHANNELS + EXTRA.get(event, ())
            for channel in channels:
                rows.append({"event": event, "channel": channel, "locale": locale, "subject": subject, "body": body})
    return rows


def upgrade() -> None:
    now = sa.func.now()
    templates = op.create_table(
        "templates",
        sa.Column("event", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("locale", sa.String(10), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False, server_default="seed"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )
    op.bulk_insert(templates, seed_rows())
    op.create_table(
        "deliveries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("member_no", sa.String(40), nullable=False, server_default=""),
        sa.Column("recipient", sa.Text, nullable=False, server_default=""),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("marketing", sa.Boolean, nullable=False),
        sa.Column("variables", JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.UniqueConstraint("event_id", "channel", name="uq_deliveries_event_channel"),
    )
    op.create_index(
        "ix_deliveries_due", "deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("ix_deliveries_member", "deliveries", ["member_no", "created_at"])
    op.create_table(
        "follow_ups",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("member_no", sa.String(40), nullable=False),
        sa.Column("store_path", sa.String(400), nullable=False),
        sa.Column("checkout_id", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(4), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("window_start", sa.String(5), nullable=False),
        sa.Column("window_end", sa.String(5), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("completed_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("visit_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.UniqueConstraint("checkout_id", "stage", name="uq_follow_ups_checkout_stage"),
    )
    op.create_index("ix_follow_ups_store_due", "follow_ups", ["store_path", "due_on"])
    op.create_table(
        "announcements",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("delivery_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("member_no", sa.String(40), nullable=False, server_default=""),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )
    op.create_index("ix_announcements_member", "announcements", ["member_no", "created_at"])


def downgrade() -> None:
    op.drop_table("announcements")
    op.drop_table("follow_ups")
    op.drop_table("deliveries")
    op.drop_table("templates")
