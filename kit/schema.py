"""Tables every service database has (outbox, inbox, dead letters), defined once.

``messaging_tables(metadata)`` adds them to a service's metadata; migrations create them with
``create_messaging_tables_v1()`` so that an old migration never changes under our feet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import MetaData, Table

from kit.inbox import dead_letter_table, inbox_table
from kit.outbox import outbox_table


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    dead_letter: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    return MessagingTables(outbox_table(metadata), inbox_table(metadata), dead_letter_table(metadata))


def create_messaging_tables_v1() -> None:
    """Call from a service's first migration."""
    from alembic import op

    from kit.db import new_metadata

    tables = messaging_tables(new_metadata())
    bind = op.get_bind()
    for table in (tables.outbox, tables.inbox, tables.dead_letter):
        table.create(bind)


def drop_messaging_tables_v1() -> None:
    from alembic import op

    for name in ("dead_letter", "inbox", "outbox"):
        op.drop_table(name)
