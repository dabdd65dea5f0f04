"""Request and response models per operation (names as docs/api.md writes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth -------------------------------------------------------------------------------
class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class Me(BaseModel):
    username: str
    role: str
    org_unit: str
    scope: str
    price_level: str | None = None


# --- org ---------------------------------------------------------------------------------
class OrgUnitCreate(Strict):
    code: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["region", "store"]
    parent: str = Field(max_length=64)


class OrgUnitUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: StrictBool | None = None


class OrgUnit(BaseModel):
    code: str
    name: str
    kind: str
    parent: str | None
    path: str
    active: bool = True


class OrgUnitList(BaseModel):
    items: list[OrgUnit]
    next_cursor: str | None


# --- users and terminals --------------------------------------------------------------------
class UserCreate(Strict):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str
    org_unit: str = Field(max_length=64)
    price_level: str | None = Field(default=None, max_length=8)


class UserUpdate(Strict):
    active: StrictBool | None = None
    password: str | None = Field(default=None, max_length=256)
    price_level: str | None = Field(default=None, max_length=8)  # distributors only


class User(BaseModel):
    username: str
    role: str
    org_unit: str
    scope: str
    price_level: str | None = None
    active: bool = True


class UserList(BaseModel):
    items: list[User]
    next_cursor: str | None


class TerminalCreate(Strict):
    store: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)


class TerminalUpdate(Strict):
    active: StrictBool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)


class TerminalCreated(BaseModel):
    client_id: str
    client_secret: str
    store: str
    name: str


class Terminal(BaseModel):
    client_id: str
    store: str
    name: str
    active: bool


class TerminalList(BaseModel):
    items: list[Terminal]
    next_cursor: str | None


# --- catalog -------------------------------------------------------------------------------
Fen = StrictInt


class ProductCreate(Strict):
    sku: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(default="", max_length=100)
    retail_price: Fen = Field(ge=0, le=10**12)
    price_levels: dict[str, Fen] = Field(default_factory=dict)
    region_prices: dict[str, Fen] = Field(
        default_factory=dict, description="org unit code -> retail price on that unit's path"
    )


class ProductUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    retail_price: Fen | None = Field(default=None, ge=0, le=10**12)
    price_levels: dict[str, Fen | None] | None = None  # a null price removes that level
    region_prices: dict[str, Fen | None] | None = None
    active: StrictBool | None = None


class Product(BaseModel):
    sku: str
    name: str
    category: str
    retail_price: int
    price_levels: dict[str, int]
    region_prices: dict[str, int]
    active: bool


class ProductList(BaseModel):
    items: list[Product]
    next_cursor: str | None


class CatalogItem(BaseModel):
    sku: str
    name: str
    category: str
    price: int
    price_kind: str


class Catalog(BaseModel):
    items: list[CatalogItem]
    next_cursor: str | None = None


# --- audit -------------------------------------------------------------------------------
class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    target_type: str
    target_id: str
    org_path: str
    detail: dict[str, Any]
    ip: str | None
    request_id: str | None


class AuditList(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None
