"""a top-up names the bonus rule it applied (such a rule can be turned off, not deleted)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transactions", sa.Column("bonus_rule_id", UUID(as_uuid=True), nullable=True))
    op.create_index(
        "ix_transactions_bonus_rule",
        "transactions",
        ["bonus_rule_id"],
        postgresql_where=sa.text("bonus_rule_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_bonus_rule", table_name="transactions")
    op.drop_column("transactions", "bonus_rule_id")
