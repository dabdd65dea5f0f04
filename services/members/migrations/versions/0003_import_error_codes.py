"""a stable code per import row error (readers show it in their own language)

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
    op.add_column("import_errors", sa.Column("code", sa.String(length=40), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("import_errors", "code")
