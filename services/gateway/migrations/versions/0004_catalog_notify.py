"""a change to the catalog notifies the gateways (their caches of prices forget it)

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("products", "product_region_prices")


def upgrade() -> None:
    op.execute(
        """CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN PERFORM pg_notify('chainclub_catalog', TG_TABLE_NAME); RETURN NULL; END $$"""
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS catalog_changed()")
