"""follow-ups created for a batch of members (a segment): purpose, batch key, creator

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
    op.alter_column("follow_ups", "checkout_id", existing_type=sa.String(length=100), nullable=True)
    op.add_column("follow_ups", sa.Column("purpose", sa.Text(), nullable=False, server_default=""))
    op.add_column("follow_ups", sa.Column("batch_key", sa.String(length=255), nullable=True))
    op.add_column(
        "follow_ups", sa.Column("created_by", sa.String(length=100), nullable=False, server_default="")
    )
    op.create_unique_constraint("uq_follow_ups_batch_member", "follow_ups", ["batch_key", "member_no"])


def downgrade() -> None:
    op.drop_constraint("uq_follow_ups_batch_member", "follow_ups", type_="unique")
    op.execute("DELETE FROM follow_ups WHERE checkout_id IS NULL")
    op.drop_column("follow_ups", "created_by")
    op.drop_column("follow_ups", "batch_key")
    op.drop_column("follow_ups", "purpose")
    op.alter_column("follow_ups", "checkout_id", existing_type=sa.String(length=100), nullable=False)
