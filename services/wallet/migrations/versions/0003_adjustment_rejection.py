"""adjustments can be rejected: who, why and when

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
    op.add_column("adjustments", sa.Column("rejected_by", sa.String(length=64), nullable=True))
    op.add_column("adjustments", sa.Column("rejection_reason", sa.Text(), nullable=True))
    op.add_column("adjustments", sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("adjustments", "rejected_at")
    op.drop_column("adjustments", "rejection_reason")
    op.drop_column("adjustments", "rejected_by")
