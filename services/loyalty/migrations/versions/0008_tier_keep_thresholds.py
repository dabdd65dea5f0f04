"""tiers' keep thresholds (保级): what the periodic review asks to stay on a tier

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tiers", sa.Column("keep_spend_12m", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("tiers", sa.Column("keep_points_12m", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("tiers", "keep_points_12m")
    op.drop_column("tiers", "keep_spend_12m")
