"""Tables of the wallet database."""

from kit.db import new_metadata
from kit.schema import messaging_tables

metadata = new_metadata()
tables = messaging_tables(metadata)
