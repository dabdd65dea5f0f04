"""The distributor portal: the catalog at the distributor's own price level (search, category,
paging) and its account. A distributor sees nothing else, and never another level's price."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.gateway import catalog
from services.gateway.deps import Page, _page
from services.gateway.web.core import PageContext, PageRoute, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate("distributor"))]
PAGE_SIZE = 20


@router.get("/portal")
async def portal(
    ctx: Ctx,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=100)] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    page: Page = await _page(PAGE_SIZE, cursor)
    found = await catalog.catalog(ctx.state, ctx.p, page, category or None, q=q.strip() or None)
    categories = await catalog.categories(ctx.state)
    template = (
        "portal/_results.html"
        if ctx.htmx and ctx.request.headers.get("hx-target") == "results"
        else "portal/catalog.html"
    )
    return ctx.render(template, found=found, categories=categories, q=q, category=category, cursor=cursor)


@router.get("/portal/account")
async def account(ctx: Ctx) -> Response:
    return ctx.render("portal/account.html")
