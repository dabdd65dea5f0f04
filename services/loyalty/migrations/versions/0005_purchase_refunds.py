"""purchase refunds (one row per refund, for the daily summary)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_refunds",
        sa.Column("request_id", sa.String(length=300), nullable=False),
        sa.Column("checkout_id", sa.String(length=100), nullable=False),
        sa.Column("store_path", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("points_restored", sa.BigInteger(), nullable=False),
        sa.Column("points_clawed_back", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["purchases.checkout_id"], name=op.f("fk_purchase_refunds_checkout_id_purchases")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_purchase_refunds")),
    )
    op.create_index("ix_purchase_refunds_created", "purchase_refunds", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purchase_refunds_created", table_name="purchase_refunds")
    op.drop_table("purchase_refunds")
