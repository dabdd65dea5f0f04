"""The console's start page (HQ, region and store managers, auditors): your scope's org units
and staff, and the forms to add a region or store and a staff account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import catalog, identity, org, schemas, wallet
from services.gateway.deps import Page
from services.gateway.domain import USER_ROLES, may_create_role
from services.gateway.permissions import MANAGERS
from services.gateway.web import vocabulary
from services.gateway.web.core import PageContext, PageRoute, field_errors, gate
from services.gateway.web.i18n import parse_yuan

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]


async def _home(ctx: PageContext, status: int = 200, **forms: object) -> Response:
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    products = (
        (await catalog.list_products(ctx.state, ctx.p, Page(200, None))).items
        if ctx.allowed("products.read_all_prices")
        else []
    )
    rules = await wallet.bonus_rules(ctx.state, ctx.p) if ctx.allowed("wallet.bonus_rules.read") else []
    staff = (
        (await identity.list_users(ctx.state, ctx.p, Page(500, None), None)).items
        if ctx.allowed("users.read")
        else []
    )
    roles = [r for r in USER_ROLES if may_create_role(ctx.p.role, r)]
    values = {
        "unit": {}, "user": {}, "product": {}, "rule": {}, "unit_errors": {}, "user_errors": {},
        "product_errors": {}, "rule_errors": {}, "created": None, **forms,
    }  # fmt: skip
    return ctx.render("console/home.html", status=status, units=units, staff=staff, roles=roles,
                      products=products, rules=rules, **values)  # fmt: skip


@router.get("/console")
async def home(ctx: Ctx) -> Response:
    return await _home(ctx)


async def _fields(ctx: PageContext) -> dict[str, str]:
    """The posted form as stripped text (the CSRF token left out)."""
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}


def _refused(exc: Exception, field: str) -> dict[str, str]:
    """A refusal the form can show, as messages per field: a taken code or name belongs next to
    ``field``, a refused role next to the role. Anything else is raised (an error page)."""
    if isinstance(exc, ChainclubError):
        if exc.reason not in ("invalid_argument", "conflict", "forbidden"):
            raise exc
        if exc.reason == "conflict":
            return {field: exc.detail, "_": ""}
        if exc.reason == "forbidden":
            return {"role": exc.detail, "_": ""}
    return field_errors(exc)


@router.post("/console/org-units")
async def create_unit(ctx: Ctx) -> Response:
    form = await _fields(ctx)
    try:
        unit = await org.create(ctx.state, ctx.request, ctx.p, schemas.OrgUnitCreate.model_validate(form))
    except (ValidationError, ChainclubError) as exc:
        return await _home(ctx, 422, unit=form, unit_errors=_refused(exc, "code"))
    what = vocabulary.label(ctx.locale, unit.kind)
    return await _home(ctx, 201, created=ctx._("Created %(what)s %(code)s.", what=what, code=unit.code))


@router.post("/console/users")
async def create_user(ctx: Ctx) -> Response:
    form = await _fields(ctx)
    form["password"] = str((await ctx.form()).get("password") or "")  # as typed, spaces and all
    if not form.get("price_level"):
        form.pop("price_level", None)
    try:
        user = await identity.create_user(
            ctx.state, ctx.request, ctx.p, schemas.UserCreate.model_validate(form)
        )
    except (ValidationError, ChainclubError) as exc:
        form.pop("password", None)
        return await _home(ctx, 422, user=form, user_errors=_refused(exc, "username"))
    return await _home(ctx, 201, created=ctx._("Created user %(name)s.", name=user.username))


def _levels(text: str) -> dict[str, int]:
    """Price levels typed as ``A=60, B=70.50`` (yuan) -> {"A": 6000, "B": 7050}."""
    levels: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        level, _, price = part.partition("=")
        levels[level.strip().upper()] = parse_yuan(price)
    return levels


@router.post("/console/products")
async def create_product(ctx: Ctx) -> Response:
    form = {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}
    errors: dict[str, str] = {}
    body: dict[str, object] = {
        "sku": form.get("sku", ""),
        "name": form.get("name", ""),
        "category": form.get("category", ""),
    }
    try:
        body["retail_price"] = parse_yuan(form.get("retail_price", ""))
    except (ValueError, ArithmeticError):
        errors["retail_price"] = ctx._("Enter an amount in yuan, e.g. 12.50.")
    try:
        body["price_levels"] = _levels(form.get("price_levels", ""))
    except (ValueError, ArithmeticError):
        errors["price_levels"] = ctx._("Write levels as A=60, B=70.50 (yuan).")
    if not errors:
        try:
            made = await catalog.create_product(
                ctx.state, ctx.request, ctx.p, schemas.ProductCreate.model_validate(body)
            )
        except (ValidationError, ChainclubError) as exc:
            errors = _refused(exc, "sku")
        else:
            return await _home(ctx, 201, created=ctx._("Created product %(sku)s.", sku=made.sku))
    return await _home(ctx, 422, product=form, product_errors={_field(k): v for k, v in errors.items()})


@router.post("/console/bonus-rules")
async def create_bonus_rule(ctx: Ctx) -> Response:
    form = await _fields(ctx)
    errors: dict[str, str] = {}
    body: dict[str, object] = {"name": form.get("name", ""), "scope": form.get("scope") or None}
    for field in ("min_amount", "bonus_amount"):
        try:
            body[field] = parse_yuan(form.get(field) or "0")
        except (ValueError, ArithmeticError):
            errors[field] = ctx._("Enter an amount in yuan, e.g. 12.50.")
    points = form.get("bonus_points") or "0"
    if points.isdigit():
        body["bonus_points"] = int(points)
    else:
        errors["bonus_points"] = ctx._("Points are a whole number.")
    if not errors:
        try:
            rule = await wallet.create_bonus_rule(
                ctx.state, ctx.request, ctx.p, wallet.BonusRuleBody.model_validate(body)
            )
        except (ValidationError, ChainclubError) as exc:
            errors = _refused(exc, "name")
        else:
            return await _home(ctx, 201, created=ctx._("Created top-up rule %(name)s.", name=rule["name"]))
    return await _home(ctx, 422, rule=form, rule_errors=errors)


def _field(key: str) -> str:
    """``price_levels.A`` -> ``price_levels``: the form has one field for all levels."""
    return key.split(".")[0]
