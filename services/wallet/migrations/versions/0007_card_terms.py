"""wallet's copy of a card carries its type's limits and fees, so a top-up or a fee reads them
there instead of asking members (NULL: not heard of yet, asked of members once)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TERMS = ("max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee")


def upgrade() -> None:
    for name in TERMS:
        op.add_column("cards", sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for name in TERMS:
        op.drop_column("cards", name)
