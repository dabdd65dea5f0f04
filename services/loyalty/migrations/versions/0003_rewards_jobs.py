"""rewards, redemptions, campaign grants, expiring-announced flag on lots

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "points_lots",
        sa.Column("expiring_announced", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points_cost", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("points_cost > 0", name=op.f("ck_rewards_points_cost_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_rewards_stock_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.String(length=300), nullable=False),
        sa.Column("member_no", sa.String(length=16), nullable=False),
        sa.Column("reward_id", sa.UUID(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("store_path", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("request_id", name=op.f("uq_redemptions_request_id")),
    )
    op.create_index("ix_redemptions_member", "redemptions", ["member_no", "created_at"], unique=False)
    op.create_table(
        "campaign_grants",
        sa.Column("campaign", sa.String(length=20), nullable=False),
        sa.Column("member_no", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("campaign", "member_no", "period", name=op.f("pk_campaign_grants")),
    )


def downgrade() -> None:
    op.drop_table("campaign_grants")
    op.drop_index("ix_redemptions_member", table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_table("rewards")
    op.drop_column("points_lots", "expiring_announced")
