"""Use cases of products and the catalog: each caller sees the one price it is entitled to.
The routes check the caller's role before calling them (deps.permitted); they check scope."""

from __future__ import annotations

from collections import defaultdict

from fastapi import Request
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.errors import Conflict, InvalidArgument, NotFound
from services.gateway import audit, org, schemas
from services.gateway.deps import Page
from services.gateway.domain import PRICE_LEVEL, ROOT, SKU, entitled_price
from services.gateway.models import org_units, product_price_levels, product_region_prices, products
from services.gateway.permissions import allowed
from services.gateway.state import GatewayState


def _check_levels(levels: dict[str, object]) -> None:
    for level, price in levels.items():
        if not PRICE_LEVEL.match(level):
            raise InvalidArgument(
                f"price level {level!r} must be an upper-case letter then up to 7 letters/digits",
                field=f"price_levels.{level}",
            )
        if price is not None and not (0 <= price <= 10**12):  # type: ignore[operator]
            raise InvalidArgument("a price is fen between 0 and 10^12", field=f"price_levels.{level}")


async def _region_paths(session: AsyncSession, prices: dict[str, object]) -> dict[str, str]:
    """Org unit code -> path for region price overrides (unknown codes are refused)."""
    paths: dict[str, str] = {}
    for code, price in prices.items():
        row = await org.find(session, code)
        if row is None or row.code == ROOT:
            raise InvalidArgument(f"unknown region or store {code!r}", field=f"region_prices.{code}")
        if price is not None and not (0 <= price <= 10**12):  # type: ignore[operator]
            raise InvalidArgument("a price is fen between 0 and 10^12", field=f"region_prices.{code}")
        paths[code] = row.path
    return paths


async def _full(session: AsyncSession, skus: list[str]) -> dict[str, schemas.Product]:
    rows = (await session.execute(select(products).where(products.c.sku.in_(skus)))).all()
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    for r in (
        await session.execute(select(product_price_levels).where(product_price_levels.c.sku.in_(skus)))
    ).all():
        levels[r.sku][r.level] = r.price
    regions: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(product_region_prices.c.sku, product_region_prices.c.price, org_units.c.code)
        .join(org_units, org_units.c.path == product_region_prices.c.org_path)
        .where(product_region_prices.c.sku.in_(skus))
    )
    for r in (await session.execute(query)).all():
        regions[r.sku][r.code] = r.price
    return {
        r.sku: schemas.Product(
            sku=r.sku,
            name=r.name,
            category=r.category,
            retail_price=r.retail_price,
            price_levels=levels[r.sku],
            region_prices=regions[r.sku],
            active=r.active,
        )
        for r in rows
    }


async def _set_prices(
    session: AsyncSession, sku: str, levels: dict, region_paths: dict[str, str], regions: dict
) -> None:
    for level, price in levels.items():
        if price is None:
            await session.execute(
                delete(product_price_levels).where(
                    product_price_levels.c.sku == sku, product_price_levels.c.level == level
                )
            )
        else:
            stmt = insert(product_price_levels).values(sku=sku, level=level, price=price)
            await session.execute(
                stmt.on_conflict_do_update(index_elements=["sku", "level"], set_={"price": price})
            )
    for code, price in regions.items():
        path = region_paths[code]
        if price is None:
            await session.execute(
                delete(product_region_prices).where(
                    product_region_prices.c.sku == sku, product_region_prices.c.org_path == path
                )
            )
        else:
            stmt = insert(product_region_prices).values(sku=sku, org_path=path, price=price)
            await session.execute(
                stmt.on_conflict_do_update(index_elements=["sku", "org_path"], set_={"price": price})
            )


def _changed(state: GatewayState) -> None:
    """This process's checkouts price the change at once (the other gateways hear of it by the
    trigger's NOTIFY a moment later: services/gateway/catalog_cache.py)."""
    if state.catalog is not None:
        state.catalog.forget()


async def create_product(
    state: GatewayState, request: Request, p: Principal, body: schemas.ProductCreate
) -> schemas.Product:
    if not SKU.match(body.sku):
        raise InvalidArgument("sku must be 1-64 of letters, digits and _ . -", field="sku")
    _check_levels(body.price_levels)
    async with state.db.transaction() as session:
        region_paths = await _region_paths(session, body.region_prices)
        created = await session.execute(
            insert(products)
            .values(sku=body.sku, name=body.name, category=body.category, retail_price=body.retail_price)
            .on_conflict_do_nothing()
            .returning(products.c.sku)
        )
        if created.first() is None:
            raise Conflict(f"product {body.sku!r} exists")
        await _set_prices(session, body.sku, body.price_levels, region_paths, body.region_prices)
        await audit.record(
            session, request, p, "product.create", "product", body.sku, ROOT, body.model_dump()
        )
        made = (await _full(session, [body.sku]))[body.sku]
    _changed(state)
    return made


async def patch_product(
    state: GatewayState, request: Request, p: Principal, sku: str, body: schemas.ProductUpdate
) -> schemas.Product:
    changes = body.model_dump(exclude_none=True, exclude={"price_levels", "region_prices"})
    if not changes and body.price_levels is None and body.region_prices is None:
        raise InvalidArgument("nothing to change", field="body")
    _check_levels(body.price_levels or {})
    async with state.db.transaction() as session:
        exists = (
            await session.execute(select(products.c.sku).where(products.c.sku == sku).with_for_update())
        ).first()
        if exists is None:
            raise NotFound(f"no product {sku!r}")
        region_paths = await _region_paths(session, body.region_prices or {})
        if changes:
            await session.execute(
                update(products).where(products.c.sku == sku).values(**changes, updated_at=func.now())
            )
        await _set_prices(session, sku, body.price_levels or {}, region_paths, body.region_prices or {})
        await audit.record(
            session, request, p, "product.update", "product", sku, ROOT, body.model_dump(exclude_none=True)
        )
        changed = (await _full(session, [sku]))[sku]
    _changed(state)
    return changed


async def list_products(state: GatewayState, p: Principal, page: Page) -> schemas.ProductList:
    query = select(products.c.sku).order_by(products.c.sku)
    if page.after is not None:
        query = query.where(products.c.sku > str(page.after))
    async with state.db.sessions() as session:
        skus = list((await session.execute(query.limit(page.limit + 1))).scalars())
        more = len(skus) > page.limit
        skus = skus[: page.limit]
        full = await _full(session, skus)
    return schemas.ProductList(
        items=[full[s] for s in skus], next_cursor=Page.cursor_for(skus[-1]) if more else None
    )


async def get_product(
    state: GatewayState, p: Principal | None, sku: str
) -> schemas.Product | schemas.CatalogItem:
    """HQ and auditors see every price; everyone else sees the catalog view of the product."""
    if p is not None and allowed(p, "products.read_all_prices"):
        async with state.db.sessions() as session:
            full = await _full(session, [sku])
        if sku not in full:
            raise NotFound(f"no product {sku!r}")
        return full[sku]
    items = await _catalog_items(state, p, Page(1, None), sku=sku)
    if not items:
        raise NotFound(f"no product {sku!r}")
    return items[0]


async def _catalog_items(
    state: GatewayState,
    p: Principal | None,
    page: Page,
    *,
    sku: str | None = None,
    category: str | None = None,
    q: str | None = None,
) -> list[schemas.CatalogItem]:
    query = select(products).where(products.c.active.is_(True)).order_by(products.c.sku).limit(page.limit + 1)
    if sku is not None:
        query = query.where(products.c.sku == sku)
    if category:
        query = query.where(products.c.category == category)
    if q:  # a word of the name or the start of the SKU, as typed (LIKE wildcards are literal)
        pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            products.c.name.ilike(f"%{pattern}%", escape="\\")
            | products.c.sku.ilike(f"{pattern}%", escape="\\")
        )
    if page.after is not None:
        query = query.where(products.c.sku > str(page.after))
    level = p.price_level if p is not None and p.role == "distributor" else None
    async with state.db.sessions() as session:
        rows = (await session.execute(query)).all()
        skus = [r.sku for r in rows]
        levels: dict[str, dict[str, int]] = defaultdict(dict)
        if level:  # only the caller's own level is ever read
            lq = select(product_price_levels).where(
                product_price_levels.c.sku.in_(skus), product_price_levels.c.level == level
            )
            for r in (await session.execute(lq)).all():
                levels[r.sku][r.level] = r.price
        regions: dict[str, dict[str, int]] = defaultdict(dict)
        if p is not None and not level:
            rq = select(product_region_prices).where(product_region_prices.c.sku.in_(skus))
            for r in (await session.execute(rq)).all():
                regions[r.sku][r.org_path] = r.price
    items = []
    for r in rows:
        price = entitled_price(
            role=p.role if p else None,
            scope=p.scope if p else None,
            price_level=level,
            retail=r.retail_price,
            levels=levels[r.sku],
            region_prices=regions[r.sku],
        )
        items.append(
            schemas.CatalogItem(
                sku=r.sku, name=r.name, category=r.category, price=price.price, price_kind=price.kind
            )
        )
    return items


async def catalog(
    state: GatewayState, p: Principal | None, page: Page, category: str | None, *, q: str | None = None
) -> schemas.Catalog:
    items = await _catalog_items(state, p, page, category=category, q=q)
    more = len(items) > page.limit
    items = items[: page.limit]
    return schemas.Catalog(items=items, next_cursor=Page.cursor_for(items[-1].sku) if more else None)


async def categories(state: GatewayState) -> list[str]:
    """The categories of the active products (the catalog's filter)."""
    async with state.db.sessions() as session:
        query = (
            select(products.c.category)
            .where(products.c.active.is_(True))
            .distinct()
            .order_by(products.c.category)
        )
        return [r.category for r in (await session.execute(query)).all()]
