"""a card's version, from a sequence at every change (wallet keeps the newest state it heard)

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
    op.add_column("cards", sa.Column("version", sa.BigInteger(), nullable=False, server_default="1"))
    op.execute(sa.schema.CreateSequence(sa.Sequence("card_version_seq", start=2)))


def downgrade() -> None:
    op.execute(sa.schema.DropSequence(sa.Sequence("card_version_seq")))
    op.drop_column("cards", "version")
