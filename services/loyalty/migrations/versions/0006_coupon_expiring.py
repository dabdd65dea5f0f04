"""coupons remember that their expiry was announced

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "coupons", sa.Column("expiring_announced", sa.Boolean(), nullable=False, server_default="false")
    )
    op.create_index(
        "ix_coupons_expiring",
        "coupons",
        ["valid_until"],
        postgresql_where=sa.text("status = 'available' AND NOT expiring_announced"),
    )


def downgrade() -> None:
    op.drop_index("ix_coupons_expiring", table_name="coupons")
    op.drop_column("coupons", "expiring_announced")
