"""schedule runs; templates for birthday and anniversary greetings and expiry reminders

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_T = "{{ member_name }}"
ZH = {
    "birthday": ("生日快乐", f"{_T}您好，祝您生日快乐！感谢您一直以来的支持。"),
    "anniversary": ("入会周年", f"{_T}您好，今天是您加入会员的第 {{{{ years }}}} 周年，感谢您的陪伴！"),
    "points_expiring": (
        "积分即将过期",
        f"{_T}您好，您有 {{{{ points }}}} 积分将于 {{{{ expires_on }}}} 过期，当前积分 {{{{ balance }}}}，请及时使用。",
    ),
    "coupon_expiring": (
        "优惠券即将过期",
        f"{_T}您好，您的优惠券「{{{{ coupon_name }}}}」（{{{{ code }}}}）将于 {{{{ valid_until }}}} 过期，请及时使用。",
    ),
}
EN = {
    "birthday": ("Happy birthday", f"Hello {_T}, happy birthday! Thank you for being with us."),
    "anniversary": (
        "Member anniversary",
        f"Hello {_T}, today is your {{{{ years }}}}-year membership anniversary. Thank you!",
    ),
    "points_expiring": (
        "Points expiring",
        f"Hello {_T}, {{{{ points }}}} of your points expire on {{{{ expires_on }}}} (balance {{{{ balance }}}}).",
    ),
    "coupon_expiring": (
        "Coupon expiring",
        f"Hello {_T}, your coupon {{{{ coupon_name }}}} ({{{{ code }}}}) expires on {{{{ valid_until }}}}.",
    ),
}
MEMBER_CHANNELS = ("sms", "wechat", "email")
EXTRA = {"coupon_expiring": ("announcement",), "points_expiring": ("announcement",)}


def seed_rows() -> list[dict]:
    return [
        {"event": event, "channel": channel, "locale": locale, "subject": subject, "body": body}
        for locale, texts in (("zh-CN", ZH), ("en", EN))
        for event, (subject, body) in texts.items()
        for channel in MEMBER_CHANNELS + EXTRA.get(event, ())
    ]


def upgrade() -> None:
    op.create_table(
        "schedule_runs",
        sa.Column("job", sa.String(40), primary_key=True),
        sa.Column("run_date", sa.Date, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("deliveries", sa.Integer, nullable=False, server_default="0"),
    )
    templates = sa.table(
        "templates",
        sa.column("event", sa.String),
        sa.column("channel", sa.String),
        sa.column("locale", sa.String),
        sa.column("subject", sa.Text),
        sa.column("body", sa.Text),
    )
    op.bulk_insert(templates, seed_rows())


def downgrade() -> None:
    op.execute(
        "DELETE FROM templates WHERE event IN ('birthday', 'anniversary', 'points_expiring', 'coupon_expiring')"
    )
    op.drop_table("schedule_runs")
