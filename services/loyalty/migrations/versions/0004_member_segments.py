"""member segments (RFM, lifecycle)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_segments",
        sa.Column("member_no", sa.String(length=16), nullable=False),
        sa.Column("home_store_path", sa.Text(), nullable=False),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_purchase_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.BigInteger(), nullable=False),
        sa.Column("spend_90d", sa.BigInteger(), nullable=False),
        sa.Column("spend_prev_90d", sa.BigInteger(), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_no", name=op.f("pk_member_segments")),
    )
    op.create_index("ix_member_segments_home", "member_segments", ["home_store_path"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_member_segments_home", table_name="member_segments")
    op.drop_table("member_segments")
