"""a version of what pricing reads (tiers, promotions, earn rules), moved by every change

Each loyalty process keeps that configuration in memory and reads only this number on a
checkout; a statement-level trigger moves it with any change (a use case, a migration or a
hand-written statement), in the changing transaction.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("tiers", "promotions", "earn_rules")


def upgrade() -> None:
    op.execute(
        "CREATE TABLE pricing_config_version ("
        " id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),"
        " version bigint NOT NULL DEFAULT 1)"
    )
    op.execute("INSERT INTO pricing_config_version (id, version) VALUES (1, 1)")
    op.execute(
        """CREATE FUNCTION pricing_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN UPDATE pricing_config_version SET version = version + 1 WHERE id = 1; RETURN NULL; END $$"""
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_pricing_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pricing_config_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_pricing_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS pricing_config_changed()")
    op.execute("DROP TABLE IF EXISTS pricing_config_version")
