"""coupon issuing to a segment as a job with progress

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_jobs",
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("request_key", sa.String(length=300), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_scope", sa.Text(), nullable=False),
        sa.Column("member_nos", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("batches_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("issued", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name=op.f("ck_issue_jobs_status")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_issue_jobs")),
    )
    op.create_index("ix_issue_jobs_scope_created", "issue_jobs", ["scope", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_issue_jobs_scope_created", table_name="issue_jobs")
    op.drop_table("issue_jobs")
