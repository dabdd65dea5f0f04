"""risk rules watch an org subtree; alerts keep their transactions and the acknowledgement note

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("risk_rules", sa.Column("scope", sa.Text(), nullable=False, server_default="HQ"))
    op.add_column(
        "alerts",
        sa.Column("transaction_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    )
    op.add_column("alerts", sa.Column("acknowledgement_note", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_alerts_rule", "alerts", ["rule_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_rule", table_name="alerts")
    op.drop_column("alerts", "acknowledgement_note")
    op.drop_column("alerts", "transaction_ids")
    op.drop_column("risk_rules", "scope")
