"""a checkout that holds nothing keeps the quote it was priced at (loyalty confirms from it)

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
    op.add_column("checkouts", sa.Column("quoted", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("checkouts", "quoted")
