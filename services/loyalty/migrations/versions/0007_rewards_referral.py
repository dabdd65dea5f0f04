"""the tiers' birthday points and the referral reward rule

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tiers", sa.Column("birthday_points", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_check_constraint(op.f("ck_tiers_birthday_points_non_negative"), "tiers", "birthday_points >= 0")
    op.create_table(
        "referral_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("referrer_points", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("referrer_coupon_template_id", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("referee_coupon_template_id", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name=op.f("ck_referral_rule_one_referral_rule")),
        sa.CheckConstraint(
            "referrer_points >= 0", name=op.f("ck_referral_rule_referrer_points_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rule")),
    )


def downgrade() -> None:
    op.drop_table("referral_rule")
    op.drop_constraint(op.f("ck_tiers_birthday_points_non_negative"), "tiers", type_="check")
    op.drop_column("tiers", "birthday_points")
