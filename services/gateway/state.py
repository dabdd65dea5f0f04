"""What the gateway process holds for its whole life (one DB pool, one set of channels)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from kit.auth import KeySet
from kit.config import Settings
from kit.db import Database
from services.gateway.catalog_cache import CatalogCache
from services.gateway.clients import ServiceClients


@dataclass
class GatewayState:
    settings: Settings
    db: Database
    keys: KeySet
    clients: ServiceClients
    hasher: PasswordHasher
    catalog: CatalogCache | None = None  # None: checkout reads the catalog every time
