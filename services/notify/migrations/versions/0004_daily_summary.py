"""templates of the daily business summary (营业汇报) to managers

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ZH = (
    "营业汇报 {{ date }} {{ scope }}",
    "{{ scope }} {{ date }} 营业汇报\n"
    "合计：销售 {{ sales_count }} 笔 {{ sales_yuan }} 元，退款 {{ refund_yuan }} 元；"
    "充值 {{ top_up_count }} 笔 {{ top_up_yuan }} 元；储值消费 {{ payment_yuan }} 元；"
    "新会员 {{ new_members }} 人；积分发放 {{ points_earned }}，使用 {{ points_redeemed }}。\n\n"
    "列：机构 | 销售笔数 | 销售额 | 退款 | 充值笔数 | 充值额 | 储值消费 | 新会员 | 积分发放 | 积分使用\n\n"
    "按区域：\n{{ regions }}\n\n按门店：\n{{ stores }}\n",
)
EN = (
    "Daily summary {{ date }} {{ scope }}",
    "Daily business summary of {{ scope }} for {{ date }}\n"
    "Total: {{ sales_count }} sales, {{ sales_yuan }} yuan, refunds {{ refund_yuan }} yuan; "
    "{{ top_up_count }} top-ups, {{ top_up_yuan }} yuan; stored value spent {{ payment_yuan }} yuan; "
    "{{ new_members }} new members; points earned {{ points_earned }}, redeemed {{ points_redeemed }}.\n\n"
    "Columns: org | sales | sales yuan | refunds | top-ups | top-up yuan | stored value spent | new members "
    "| points earned | points redeemed\n\n"
    "By region:\n{{ regions }}\n\nBy store:\n{{ stores }}\n",
)


def upgrade() -> None:
    templates = sa.table(
        "templates",
        sa.column("event", sa.String),
        sa.column("channel", sa.String),
        sa.column("locale", sa.String),
        sa.column("subject", sa.Text),
        sa.column("body", sa.Text),
    )
    op.bulk_insert(
        templates,
        [
            {"event": "daily_summary", "channel": "email", "locale": locale, "subject": subject, "body": body}
            for locale, (subject, body) in (("zh-CN", ZH), ("en", EN))
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM templates WHERE event = 'daily_summary'")
