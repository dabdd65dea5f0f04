"""The console's organisation page (HQ, region and store managers, auditors): the caller's org
tree (HQ → regions → sub-regions → stores, collapsible, each node with its staff and store
counts; add, rename, close and reopen units), staff filtered by role and unit, distributors
apart with their editable price level, products with wholesale levels and region price
overrides, and the top-up bonus rules (listed; changed on the rules page). Every form calls
the use case its REST route calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from kit.errors import ChainclubError
from services.gateway import bonus_rules, catalog, identity, org, schemas
from services.gateway.deps import Page
from services.gateway.domain import ROOT, USER_ROLES, may_create_role
from services.gateway.permissions import MANAGERS
from services.gateway.web import org_forms, vocabulary
from services.gateway.web.core import N_, PageContext, PageRoute, field_errors, gate
from services.gateway.web.i18n import parse_yuan

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]


async def _home(
    ctx: PageContext, status: int = 200, focus_code: str | None = None, **forms: object
) -> Response:
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    people = (
        (await identity.list_users(ctx.state, ctx.p, Page(500, None), None)).items
        if ctx.allowed("users.read")
        else []
    )
    products = (
        (await catalog.list_products(ctx.state, ctx.p, Page(200, None))).items
        if ctx.allowed("products.read_all_prices")
        else []
    )
    rules = await bonus_rules.bonus_rules(ctx.state, ctx.p) if ctx.allowed("wallet.bonus_rules.read") else []
    query = ctx.request.query_params
    focus = next((u for u in units if u.code == (focus_code or query.get("unit"))), None)
    role = query.get("role") if query.get("role") in USER_ROLES else ""
    roots = org_forms.org_tree(units, people)
    shown = [n for n in org_forms.flatten(roots) if focus and n.unit.code == focus.code] or roots
    in_focus = [s for s in people if focus is None or org_forms.within(s.scope, focus.path)]
    values: dict[str, object] = {
        "unit": {}, "user": {}, "product": {}, "unit_errors": {}, "user_errors": {},
        "product_errors": {}, "created": None, "edit_errors": {}, "level_errors": {},
        "edit": {}, **forms,
    }  # fmt: skip
    if not values["product"] and (sku := query.get("product")):
        values["product"] = _product_form(next((x for x in products if x.sku == sku), None))
    if isinstance(product := values["product"], dict):
        product.setdefault("rows", [{"unit": "", "price": ""}] * org_forms.EMPTY_ROWS)
    return ctx.render(
        "console/home.html", status=status, units=units, roots=shown, focus=focus, role=role,
        staff=[s for s in in_focus if s.role != "distributor" and (not role or s.role == role)],
        distributors=[s for s in in_focus if s.role == "distributor"],
        parents=org_forms.parent_choices(roots), roles=[r for r in USER_ROLES if may_create_role(ctx.p.role, r)],
        all_roles=[r for r in USER_ROLES if r != "distributor"], products=products, rules=rules,
        levels=sorted({lv for x in products for lv in x.price_levels}),
        price_units=[(u.code, f"{u.code} · {u.name}") for u in units if u.code != ROOT],
        may_edit=focus is not None and _may_edit(ctx, focus), **values,
    )  # fmt: skip


def _may_edit(ctx: PageContext, unit: schemas.OrgUnit) -> bool:
    """Rename or close a unit: org.write, and a manager never its own unit (a higher level does)."""
    return ctx.allowed("org.write") and (ctx.p.role == "hq_admin" or unit.path != ctx.p.scope)


def _product_form(found: schemas.Product | None) -> dict[str, object]:
    """A stored product as the form shows it to edit (its overrides as rows in yuan)."""
    if found is None:
        return {}
    return {
        "sku": found.sku, "name": found.name, "category": found.category, "editing": "1",
        "retail_price": org_forms.yuan(found.retail_price),
        "price_levels": org_forms.levels_text(found.price_levels),
        "had_levels": ",".join(found.price_levels), "had_regions": ",".join(found.region_prices),
        "rows": org_forms.rows_for(found),
    }  # fmt: skip


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


def _taken(exc: Exception) -> bool:
    return isinstance(exc, ChainclubError) and exc.reason == "conflict"


def _unit_refusal(ctx: PageContext, exc: Exception, form: dict[str, str]) -> dict[str, str]:
    """The unit forms' refusals in the reader's language, next to their fields."""
    said = {
        "code": ctx._("The code %(code)s is taken: choose another.", code=form.get("code", ""))
        if _taken(exc)
        else ctx._("Use 2 to 32 of A–Z, 0–9, _ or -, e.g. EAST."),
        "name": ctx._("Enter the unit's name (up to 200 characters)."),
        "parent": ctx._("Choose an open region of your scope as the parent."),
        "kind": ctx._("Choose region or store."),
    }
    return {k: said.get(k, v) for k, v in _refused(exc, "code").items()}


def _user_refusal(ctx: PageContext, exc: Exception, form: dict[str, str]) -> dict[str, str]:
    """The staff form's refusals in the reader's language, next to their fields."""
    said = {
        "username": ctx._("The user name %(name)s is taken.", name=form.get("username", ""))
        if _taken(exc)
        else ctx._("Use 3 to 64 letters, digits and _ . @ -."),
        "password": ctx._("Use at least 8 characters."),
        "role": ctx._("You may not create an account with this role."),
        "org_unit": ctx._("This role does not belong on this unit: store managers and clerks sit on a store, "
                          "region managers on a region, HQ admins on HQ, auditors on HQ or a region."),
        "price_level": ctx._("A distributor needs a price level such as A (an upper-case letter, then up to "
                             "7 letters or digits); other roles have none."),
    }  # fmt: skip
    return {k: said.get(k, v) for k, v in _refused(exc, "username").items()}


@router.post("/console/org-units")
async def create_unit(ctx: Ctx) -> Response:
    form = await _fields(ctx)
    try:
        unit = await org.create(ctx.state, ctx.request, ctx.p, schemas.OrgUnitCreate.model_validate(form))
    except (ValidationError, ChainclubError) as exc:
        return await _home(ctx, 422, unit=form, unit_errors=_unit_refusal(ctx, exc, form))
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
        return await _home(ctx, 422, user=form, user_errors=_user_refusal(ctx, exc, form))
    return await _home(ctx, 201, created=ctx._("Created user %(name)s.", name=user.username))


@router.post("/console/org-units/{code}")
async def change_unit(code: str, ctx: Ctx) -> Response:
    """Rename a unit, or close or reopen it (``op``): a closed unit takes no new units,
    staff or terminals; its records stay and it can be reopened."""
    form = await _fields(ctx)
    op = form.get("op", "rename")
    changes: dict[str, object] = (
        {"name": form.get("name", "")} if op == "rename" else {"active": op == "reopen"}
    )
    try:
        unit = await org.patch(
            ctx.state, ctx.request, ctx.p, code, schemas.OrgUnitUpdate.model_validate(changes)
        )
    except (ValidationError, ChainclubError) as exc:
        if isinstance(exc, ChainclubError) and exc.reason == "not_found":
            raise
        errors = _unit_refusal(ctx, exc, form)
        if errors.get("role"):
            errors = {"_": ctx._("Only a higher level may change the unit you sit on.")}
        return await _home(ctx, 422, focus_code=code, edit=form, edit_errors=errors)
    messages = {
        "rename": N_("Renamed %(code)s to %(name)s."),
        "close": N_("Closed %(code)s: it takes no new units, staff or terminals."),
        "reopen": N_("Reopened %(code)s."),
    }
    done = ctx._(messages.get(op, messages["rename"]), code=unit.code, name=unit.name)
    return await _home(ctx, focus_code=code, created=done)


@router.post("/console/distributors/{username}/level")
async def set_distributor_level(username: str, ctx: Ctx) -> Response:
    """A distributor's wholesale price level, from its next token on."""
    form = await _fields(ctx)
    level = form.get("price_level", "").upper()
    try:
        user = await identity.patch_user(
            ctx.state, ctx.request, ctx.p, username, schemas.UserUpdate(price_level=level)
        )
    except (ValidationError, ChainclubError) as exc:
        if isinstance(exc, ChainclubError) and exc.reason not in ("invalid_argument", "forbidden"):
            raise
        message = (
            ctx._("You may not manage this account.")
            if isinstance(exc, ChainclubError) and exc.reason == "forbidden"
            else ctx._("A level is an upper-case letter, then up to 7 letters or digits, e.g. A or VIP2.")
        )
        return await _home(ctx, 422, level_errors={username: message, "_value": level})
    return await _home(ctx, created=ctx._("%(name)s now buys at level %(level)s.", name=user.username,
                                          level=user.price_level or ""))  # fmt: skip


def _levels(text: str) -> dict[str, int]:
    """Price levels typed as ``A=60, B=70.50`` (yuan) -> {"A": 6000, "B": 7050}."""
    levels: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        level, _, price = part.partition("=")
        levels[level.strip().upper()] = parse_yuan(price)
    return levels


@router.post("/console/products")
async def save_product(ctx: Ctx) -> Response:
    """Add a product, or save one opened to edit (``editing``); ``op`` adds a blank region
    price row or drops one without saving anything (no script needed)."""
    form = {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf"}
    rows = org_forms.typed_rows(form)
    shown: dict[str, object] = {**form, "rows": rows}
    op = form.get("op", "")
    if op == "add_row":
        shown["rows"] = [*rows, {"unit": "", "price": ""}]
        return await _home(ctx, product=shown)
    if op.startswith("drop:") and op[5:].isdigit():
        shown["rows"] = [r for i, r in enumerate(rows) if i != int(op[5:])] or [{"unit": "", "price": ""}]
        return await _home(ctx, product=shown)
    errors: dict[str, str] = {}
    body: dict[str, object] = {"name": form.get("name", ""), "category": form.get("category", "")}
    try:
        body["retail_price"] = parse_yuan(form.get("retail_price", ""))
    except (ValueError, ArithmeticError):
        errors["retail_price"] = ctx._("Enter an amount in yuan, e.g. 12.50.")
    try:
        body["price_levels"] = _levels(form.get("price_levels", ""))
    except (ValueError, ArithmeticError):
        errors["price_levels"] = ctx._("Write levels as A=60, B=70.50 (yuan).")
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    read = org_forms.read_rows(rows, {u.code for u in units if u.code != ROOT})
    errors.update({k: ctx._(msg, **kw) for k, (msg, kw) in read.errors.items()})
    body["region_prices"] = read.prices
    if not errors:
        try:
            made = await _store_product(ctx, form, body)
        except (ValidationError, ChainclubError) as exc:
            errors = _product_refusal(ctx, exc, rows)
        else:
            done = N_("Saved product %(sku)s.") if form.get("editing") else N_("Created product %(sku)s.")
            return await _home(ctx, 201, created=ctx._(done, sku=made.sku))
    return await _home(ctx, 422, product=shown, product_errors=errors)


async def _store_product(ctx: PageContext, form: dict[str, str], body: dict[str, object]) -> schemas.Product:
    """Create the product, or patch the one being edited: levels and regions no longer typed
    are removed (a null price in the REST body)."""
    if not form.get("editing"):
        create = schemas.ProductCreate.model_validate({"sku": form.get("sku", ""), **body})
        return await catalog.create_product(ctx.state, ctx.request, ctx.p, create)
    levels: dict[str, int | None] = dict(body["price_levels"])  # type: ignore[call-overload]
    regions: dict[str, int | None] = dict(body["region_prices"])  # type: ignore[call-overload]
    for level in filter(None, form.get("had_levels", "").split(",")):
        levels.setdefault(level, None)
    for code in filter(None, form.get("had_regions", "").split(",")):
        regions.setdefault(code, None)
    patch = schemas.ProductUpdate.model_validate({**body, "price_levels": levels, "region_prices": regions})
    return await catalog.patch_product(ctx.state, ctx.request, ctx.p, form.get("sku", ""), patch)


def _product_refusal(ctx: PageContext, exc: Exception, rows: list[dict[str, str]]) -> dict[str, str]:
    """A service's refusal next to its field: a region price's own row, a level's one field."""
    errors = _refused(exc, "sku")
    out: dict[str, str] = {}
    for key, message in errors.items():
        if key.startswith("region_prices."):
            code = key.split(".", 1)[1]
            index = org_forms.row_of(rows, code) or 0
            if message.startswith("unknown"):
                out[f"region_unit_{index}"] = ctx._("There is no region or store %(code)s.", code=code)
            else:
                out[f"region_price_{index}"] = ctx._("Enter an amount in yuan, e.g. 12.50.")
        else:
            out[_field(key)] = message
    return out


def _field(key: str) -> str:
    """``price_levels.A`` -> ``price_levels``: the form has one field for all levels."""
    return key.split(".")[0]
