from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from kit.auth import Principal
from services.gateway import catalog, schemas
from services.gateway.deps import OptionalPrincipal, Paging, State, permitted

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.post("/products", status_code=201, response_model=schemas.Product)
async def create_product(
    body: schemas.ProductCreate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("products.write"))],
    state: State,
):
    return await catalog.create_product(state, request, p, body)


@router.get("/products", response_model=schemas.ProductList)
async def list_products(
    p: Annotated[Principal, Depends(permitted("products.read_all_prices"))], state: State, page: Paging
):
    return await catalog.list_products(state, p, page)


@router.get("/products/{sku}", response_model=schemas.Product | schemas.CatalogItem)
async def get_product(sku: str, state: State, p: OptionalPrincipal):
    return await catalog.get_product(state, p, sku)


@router.patch("/products/{sku}", response_model=schemas.Product)
async def patch_product(
    sku: str,
    body: schemas.ProductUpdate,
    request: Request,
    p: Annotated[Principal, Depends(permitted("products.write"))],
    state: State,
):
    return await catalog.patch_product(state, request, p, sku, body)


@router.get("/catalog", response_model=schemas.Catalog)
async def get_catalog(
    state: State,
    p: OptionalPrincipal,
    page: Paging,
    category: str | None = Query(default=None, max_length=100),
    q: str | None = Query(
        default=None, max_length=100, description="a word of the name, or the start of the SKU"
    ),
):
    return await catalog.catalog(state, p, page, category, q=q or None)
