"""The console's rules screen (营销规则, ``/console/rules``): a tab per kind of rule, each its
list and a form to add one: membership tiers (HQ; saving a tier's code again edits it), earn
rules, coupon templates (and issuing one to members), promotions, and the stored-value risk
rules (HQ writes, managers and auditors read). A form's refused value comes back next to its
field (422) and nothing is created; where it helps, the form previews the rule's effect.
HQ takes rules back from their rows: deletes a tier no member is on (the refusal shown as a
message), deactivates or activates an earn rule or a promotion.

Typed values are in the reader's units (yuan, percent, "x1.5", minutes, HH:MM) and become the
REST bodies (fen, basis points, seconds) validated by the same request models; the pages call
the use cases the REST routes call (services/gateway/loyalty.py and wallet.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from kit.errors import ChainclubError
from services.gateway import loyalty, org, wallet
from services.gateway.deps import Page, scoped_key
from services.gateway.permissions import MANAGERS
from services.gateway.web.core import PageContext, PageForbidden, PageRoute, field_errors, gate, new_key
from services.gateway.web.i18n import parse_yuan

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

TABS = ("tiers", "earn", "coupons", "promotions", "risk")
READ = {"tiers": "loyalty.rules.read", "earn": "loyalty.rules.read", "coupons": "loyalty.rules.read",
        "promotions": "loyalty.rules.read", "risk": "risk.rules.read"}  # fmt: skip
SCOPED = ("earn", "coupons", "promotions")  # forms with an org unit to choose
AMOUNT_RISKS = ("single_amount", "sum_in_window")  # a threshold in yuan; the others count
WINDOW_RISKS = ("count_in_window", "sum_in_window", "chain_velocity")
SAMPLE = 10_000  # fen: the purchase the earn and discount previews are worked out for
# Who may change an earn rule or promotion once made: the loyalty service lets HQ admins only
# (within their scope), though REST's loyalty.rules.write admits managers to ask.
CHANGES_RULES = frozenset({"hq_admin"})


class Refused(Exception):
    """A typed value the page cannot turn into the request (a message per field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _require(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _fields(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k not in ("csrf", "key")}


# --- reading what was typed -------------------------------------------------------------------
class Reader:
    """Turns the form's text into request values, collecting a message per refused field."""

    def __init__(self, ctx: PageContext, form: dict[str, str]) -> None:
        self.ctx, self.form, self.errors = ctx, form, {}

    def text(self, name: str) -> str:
        return self.form.get(name, "")

    def _decimal(self, name: str) -> Decimal | None:
        try:
            value = Decimal(self.text(name).replace(",", "").replace("，", ""))
        except InvalidOperation:
            return None
        return value if value.is_finite() else None

    def yuan(self, name: str, default: int = 0, required: bool = False) -> int:
        """Yuan as fen (``12.50`` -> 1250)."""
        if not self.text(name) and not required:
            return default
        try:
            return parse_yuan(self.text(name))
        except (ValueError, ArithmeticError):
            self.errors[name] = self.ctx._("Enter an amount in yuan, e.g. 12.50.")
            return default

    def whole(self, name: str, low: int, high: int, default: int = 0) -> int:
        """A whole number in ``low..high``."""
        if not self.text(name):
            return default
        if not re.fullmatch(r"\d+", self.text(name)) or not low <= int(self.text(name)) <= high:
            self.errors[name] = self.ctx._(
                "Enter a whole number from %(low)s to %(high)s.", low=low, high=high
            )
            return default
        return int(self.text(name))

    def percent(self, name: str, default: int = 0) -> int:
        """A percentage (up to two decimals, 0..100) as basis points."""
        if not self.text(name):
            return default
        value = self._decimal(name)
        if value is None or not 0 <= value <= 100 or value.as_tuple().exponent < -2:  # type: ignore[operator]
            self.errors[name] = self.ctx._("Enter a percentage from 0 to 100, e.g. 5 or 12.5.")
            return default
        return int(value * 100)

    def factor(self, name: str, high: int, default: int = 10_000) -> int:
        """A factor such as ``1.5`` (up to four decimals, 0..``high``) as basis points."""
        if not self.text(name):
            return default
        value = self._decimal(name)
        if value is None or not 0 <= value <= high or value.as_tuple().exponent < -4:  # type: ignore[operator]
            self.errors[name] = self.ctx._("Enter a number from 0 to %(high)s, e.g. 1.5.", high=high)
            return default
        return int(value * 10_000)

    def clock(self, name: str) -> int:
        """``HH:MM`` as minutes after midnight."""
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", self.text(name))
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            self.errors[name] = self.ctx._("Enter a time as HH:MM, e.g. 22:30.")
            return 0
        return int(m[1]) * 60 + int(m[2])

    def day(self, name: str, end: bool = False) -> datetime | None:
        """A date as the start of that day in the chain's time zone (``end``: of the next day)."""
        if not self.text(name):
            return None
        try:
            d = date.fromisoformat(self.text(name))
        except ValueError:
            self.errors[name] = self.ctx._("Enter a date as YYYY-MM-DD.")
            return None
        zone = ZoneInfo(self.ctx.state.settings.chain_timezone)
        return datetime.combine(d + timedelta(days=1 if end else 0), time(), zone)

    def check(self, ok: bool, name: str, message: str) -> None:
        if not ok and name not in self.errors:
            self.errors[name] = message


def _validate(model: type[BaseModel], body: dict[str, Any], errors: dict[str, str]) -> Any:
    """``model`` of ``body``, or Refused with the typed-value messages and the model's."""
    try:
        made = model.model_validate(body)
    except ValidationError as exc:
        found = {**field_errors(exc), **errors}
        if errors:  # the fields' own messages say it better than the model's summary
            found.pop("_", None)
        raise Refused(found) from None
    if errors:
        raise Refused(errors)
    return made


def _tier(r: Reader) -> loyalty.TierBody:
    body = {
        "code": r.text("code"), "name": r.text("name"), "rank": r.whole("rank", 0, 100),
        "min_spend_12m": r.yuan("min_spend_12m"), "min_points_12m": r.whole("min_points_12m", 0, 10**12),
        "discount_bps": r.percent("discount_bps"), "points_multiplier_bps": r.factor("points_multiplier_bps", 10),
    }  # fmt: skip
    r.check(bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", body["code"])), "code",
            r.ctx._("Use 1 to 32 letters, digits, _ . or -."))  # fmt: skip
    return _validate(loyalty.TierBody, body, r.errors)


def _earn(r: Reader) -> loyalty.EarnRuleBody:
    body = {
        "name": r.text("name"), "scope": r.text("scope") or None, "category": r.text("category"),
        "points_per_yuan_bps": r.factor("points_per_yuan_bps", 100),
        "member_day": r.whole("member_day", 0, 31),
        "member_day_multiplier_bps": r.factor("member_day_multiplier_bps", 10),
        "birthday_month_multiplier_bps": r.factor("birthday_month_multiplier_bps", 10),
    }  # fmt: skip
    return _validate(loyalty.EarnRuleBody, body, r.errors)


def _coupon(r: Reader) -> loyalty.CouponTemplateBody:
    kind = r.text("kind")
    body = {
        "name": r.text("name"), "kind": kind, "min_spend": r.yuan("min_spend"),
        "valid_days": r.whole("valid_days", 0, 3660), "valid_from": r.day("valid_from"),
        "valid_until": r.day("valid_until", end=True), "scope": r.text("scope") or None,
        "per_member_limit": r.whole("per_member_limit", 0, 1000),
        "total_quantity": r.whole("total_quantity", 0, 10**9),
    }  # fmt: skip
    if kind == "amount_off":
        body["amount_off"] = r.yuan("amount_off", required=True)
        r.check(body["amount_off"] > 0, "amount_off", r.ctx._("Enter the amount off, more than zero."))
        r.check(not body["min_spend"] or body["amount_off"] <= body["min_spend"], "amount_off",
                r.ctx._("The amount off cannot be more than the minimum spend."))  # fmt: skip
    elif kind == "percent_off":
        body["percent_off_bps"] = r.percent("percent_off_bps")
        r.check(
            body["percent_off_bps"] > 0,
            "percent_off_bps",
            r.ctx._("Enter a percentage from 0 to 100, e.g. 5 or 12.5."),
        )
    elif kind == "gift":
        body["gift_sku"] = r.text("gift_sku")
        r.check(bool(body["gift_sku"]), "gift_sku", r.ctx._("Enter the SKU of the gift."))
    if body["valid_from"] and body["valid_until"]:
        r.check(body["valid_until"] > body["valid_from"], "valid_until",
                r.ctx._("The last day cannot be before the first day."))  # fmt: skip
    return _validate(loyalty.CouponTemplateBody, body, r.errors)


def _promotion(r: Reader) -> loyalty.PromotionBody:
    kind = r.text("kind")
    body: dict[str, Any] = {
        "name": r.text("name"), "kind": kind, "members_only": r.text("members_only") == "on",
        "scope": r.text("scope") or None, "starts_at": r.day("starts_at"), "ends_at": r.day("ends_at", end=True),
    }  # fmt: skip
    if kind == "spend_x_save_y":
        body["spend_threshold"] = r.yuan("spend_threshold", required=True)
        body["save_amount"] = r.yuan("save_amount", required=True)
        if "spend_threshold" not in r.errors:
            r.check(
                body["spend_threshold"] > 0, "spend_threshold", r.ctx._("Enter the spend, more than zero.")
            )
            r.check(0 < body["save_amount"] <= body["spend_threshold"], "save_amount",
                    r.ctx._("The saving must be more than zero and no more than the spend."))  # fmt: skip
    else:
        body["discount_bps"] = r.percent("discount_bps")
        r.check(
            body["discount_bps"] > 0,
            "discount_bps",
            r.ctx._("Enter a percentage from 0 to 100, e.g. 5 or 12.5."),
        )
    if kind == "category_discount":
        body["category"] = r.text("category")
        r.check(bool(body["category"]), "category", r.ctx._("Enter the category."))
    if kind == "member_day":
        body["day_of_month"] = r.whole("day_of_month", 1, 31)
        r.check(
            body["day_of_month"] > 0,
            "day_of_month",
            r.ctx._("Enter a whole number from %(low)s to %(high)s.", low=1, high=31),
        )
    if body["starts_at"] and body["ends_at"]:
        r.check(
            body["ends_at"] > body["starts_at"],
            "ends_at",
            r.ctx._("The last day cannot be before the first day."),
        )
    return _validate(loyalty.PromotionBody, body, r.errors)


def _risk(r: Reader) -> wallet.RiskRuleBody:
    kind = r.text("kind")
    body: dict[str, Any] = {"name": r.text("name"), "kind": kind, "action": r.text("action"),
                            "applies_to": r.text("applies_to") or "any"}  # fmt: skip
    if kind == "time_of_day":
        body["start_minute"], body["end_minute"] = r.clock("start_minute"), r.clock("end_minute")
        if not {"start_minute", "end_minute"} & set(r.errors):
            r.check(body["start_minute"] != body["end_minute"], "end_minute",
                    r.ctx._("The end must differ from the start."))  # fmt: skip
    elif kind in AMOUNT_RISKS:
        body["threshold"] = r.yuan("threshold", required=True)
        r.check(body["threshold"] > 0, "threshold", r.ctx._("Enter an amount in yuan, more than zero."))
    else:
        body["threshold"] = r.whole("threshold", 1, 10**6)
        r.check(
            body["threshold"] > 0,
            "threshold",
            r.ctx._("Enter a whole number from %(low)s to %(high)s.", low=1, high=10**6),
        )
    if kind in WINDOW_RISKS:
        minutes = r.whole("window_minutes", 1, 31 * 1440)
        r.check(
            minutes > 0,
            "window_minutes",
            r.ctx._("Enter a whole number from %(low)s to %(high)s.", low=1, high=31 * 1440),
        )
        body["window_seconds"] = minutes * 60 or None
    made = _validate(wallet.RiskRuleBody, body, r.errors)
    return made


# --- previews -----------------------------------------------------------------------------------
def _points(fen: int, per_yuan_bps: int, *factors_bps: int) -> int:
    """Points for ``fen`` paid as loyalty counts them (multiplied, then rounded down once)."""
    pts = Decimal(fen) / 100 * Decimal(per_yuan_bps) / 10_000
    for f in factors_bps:
        pts = pts * f / 10_000
    return int(pts.to_integral_value(rounding=ROUND_FLOOR))


def preview(ctx: PageContext, kind: str, form: dict[str, str]) -> list[str]:
    """What the rule being typed would do, in sentences ([] until there is enough to say)."""
    r = Reader(ctx, form)
    money, number = ctx.fmt.money, ctx.fmt.number
    out: list[str] = []
    if kind == "tiers":
        rank, spend, points = (
            r.whole("rank", 0, 100),
            r.yuan("min_spend_12m"),
            r.whole("min_points_12m", 0, 10**12),
        )
        if r.errors:
            return []
        if rank == 0 and r.text("rank"):
            out.append(ctx._("Every member is in this tier (rank 0) until reaching a higher one."))
        if spend:
            out.append(
                ctx._("A member spending %(spend)s in 12 months reaches this tier.", spend=money(spend))
            )
        if points:
            out.append(
                ctx._("So does a member earning %(points)s points in 12 months.", points=number(points))
            )
        discount = r.percent("discount_bps")
        if discount and not r.errors:
            out.append(ctx._("At this tier a %(sample)s purchase costs %(paid)s.", sample=money(SAMPLE),
                             paid=money(SAMPLE - SAMPLE * discount // 10_000)))  # fmt: skip
    elif kind == "earn":
        per = r.factor("points_per_yuan_bps", 100)
        day, day_x = r.whole("member_day", 0, 31), r.factor("member_day_multiplier_bps", 10)
        birthday_x = r.factor("birthday_month_multiplier_bps", 10)
        if r.errors:
            return []
        out.append(ctx._("A %(sample)s purchase earns %(points)s points.", sample=money(SAMPLE),
                         points=number(_points(SAMPLE, per))))  # fmt: skip
        if day and day_x != 10_000:
            out.append(ctx._("On member day (day %(day)s of the month) it earns %(points)s points.", day=day,
                             points=number(_points(SAMPLE, per, day_x))))  # fmt: skip
        if birthday_x != 10_000:
            out.append(ctx._("In the member's birthday month it earns %(points)s points.",
                             points=number(_points(SAMPLE, per, birthday_x))))  # fmt: skip
        out.append(ctx._("A tier's points multiplier applies on top."))
    elif kind == "promotions":
        k = r.text("kind")
        if k == "spend_x_save_y":
            spend, save = r.yuan("spend_threshold"), r.yuan("save_amount")
            if not r.errors and 0 < save <= spend:
                out.append(ctx._("Spend %(spend)s, save %(save)s.", spend=money(spend), save=money(save)))
        else:
            pct = r.percent("discount_bps")
            if not r.errors and pct:
                paid = money(SAMPLE - SAMPLE * pct // 10_000)
                if k == "category_discount" and r.text("category"):
                    out.append(ctx._("%(sample)s of %(category)s costs %(paid)s.", sample=money(SAMPLE),
                                     category=r.text("category"), paid=paid))  # fmt: skip
                elif k == "member_day" and r.text("day_of_month"):
                    out.append(ctx._("On day %(day)s of each month a %(sample)s purchase costs %(paid)s.",
                                     day=r.text("day_of_month"), sample=money(SAMPLE), paid=paid))  # fmt: skip
    elif kind == "coupons":
        k = r.text("kind")
        spend = r.yuan("min_spend")
        if k == "amount_off":
            off = r.yuan("amount_off")
            if not r.errors and off:
                out.append(
                    ctx._("Spend %(spend)s, save %(save)s.", spend=money(max(spend, off)), save=money(off))
                )
        elif k == "percent_off":
            pct = r.percent("percent_off_bps")
            if not r.errors and pct:
                out.append(ctx._("A %(sample)s purchase costs %(paid)s.", sample=money(max(spend, SAMPLE)),
                                 paid=money(max(spend, SAMPLE) - max(spend, SAMPLE) * pct // 10_000)))  # fmt: skip
    return out


# --- the page -----------------------------------------------------------------------------------
async def _page(ctx: PageContext, tab: str, status: int = 200, **values: Any) -> Response:
    tabs = [t for t in TABS if ctx.allowed(READ[t])]
    if tab not in tabs:
        tab = tabs[0] if tabs else "tiers"
    items: list[dict] = []
    templates: list[dict] = []
    if tab == "tiers":
        items = sorted(await loyalty.tiers(ctx.state, ctx.p), key=lambda t: t.get("rank", 0))
    elif tab == "earn":
        items = await loyalty.earn_rules(ctx.state, ctx.p)
    elif tab == "coupons":
        items = templates = await loyalty.coupon_templates(ctx.state, ctx.p)
    elif tab == "promotions":
        items = await loyalty.promotions(ctx.state, ctx.p)
    elif tab == "risk":
        items = await wallet.risk_rules(ctx.state, ctx.p)
    units = (
        (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
        if tab in SCOPED and ctx.allowed("loyalty.rules.write")
        else []
    )
    page: dict[str, Any] = {"form": {}, "errors": {}, "done": None, "issue": {}, "issue_errors": {},
                            "key": new_key(), **values}  # fmt: skip
    if tab == "tiers" and not page["form"] and (code := ctx.request.query_params.get("edit")):
        found = next((t for t in items if t.get("code") == code), None)
        if found:
            page["form"] = _tier_form(found)
    page.setdefault("preview", preview(ctx, tab, page["form"]))
    page.setdefault("problem", None)
    may_switch = ctx.allowed("loyalty.rules.write") and ctx.p.role in CHANGES_RULES
    switchable = {x.get("id") for x in items if may_switch and ctx.p.may_access(x.get("scope") or "HQ")}
    return ctx.render("console/rules/rules.html", status=status, tab=tab, tabs=tabs, items=items,
                      templates=templates, units=units, switchable=switchable, **page)  # fmt: skip


def _tier_form(t: dict) -> dict[str, str]:
    """A tier as its form shows it (to edit it)."""

    def plain_number(v: Decimal) -> str:
        text = f"{v:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    return {
        "code": t.get("code", ""), "name": t.get("name", ""), "rank": str(t.get("rank", 0)),
        "min_spend_12m": plain_number(Decimal(int(t.get("min_spend_12m") or 0)) / 100),
        "min_points_12m": str(t.get("min_points_12m") or 0),
        "discount_bps": plain_number(Decimal(t.get("discount_bps") or 0) / 100),
        "points_multiplier_bps": plain_number(Decimal(t.get("points_multiplier_bps") or 10_000) / 10_000),
    }  # fmt: skip


@router.get("/console/rules")
async def rules(ctx: Ctx, tab: str = "tiers") -> Response:
    _require(ctx, "loyalty.rules.read")
    return await _page(ctx, tab)


@router.get("/console/rules/preview/{kind}")
async def preview_fragment(kind: str, ctx: Ctx) -> Response:
    _require(ctx, "loyalty.rules.read")
    form = {k: v.strip() for k, v in ctx.request.query_params.items()}
    return ctx.render("console/rules/_preview.html", preview=preview(ctx, kind, form), kind=kind)


async def _create(
    ctx: PageContext, tab: str, action: str, parse: Callable[[Reader], Any], make: Callable[[Any], Any],
    done: Callable[[Any], str],
) -> Response:  # fmt: skip
    _require(ctx, action)
    form = await _fields(ctx)
    try:
        body = parse(Reader(ctx, form))
        made = await make(body)
    except Refused as exc:
        return await _page(ctx, tab, 422, form=form, errors=_with_summary(ctx, exc.errors))
    except ChainclubError as exc:
        if exc.reason not in ("invalid_argument", "conflict", "not_found", "out_of_scope"):
            raise
        return await _page(ctx, tab, 422, form=form, errors=_with_summary(ctx, field_errors(exc)))
    return await _page(ctx, tab, 201, done=done(made))


def _with_summary(ctx: PageContext, errors: dict[str, str]) -> dict[str, str]:
    """The messages with a line at the top of the form (the fields hold the details)."""
    return {"_": ctx._("Nothing was saved: correct the marked fields."), **errors}


@router.post("/console/rules/tiers")
async def save_tier(ctx: Ctx) -> Response:
    return await _create(ctx, "tiers", "loyalty.tiers.write", _tier,
                         lambda b: loyalty.upsert_tier(ctx.state, ctx.request, ctx.p, b),
                         lambda t: ctx._("Saved tier %(name)s.", name=t["name"]))  # fmt: skip


@router.post("/console/rules/earn-rules")
async def create_earn_rule(ctx: Ctx) -> Response:
    return await _create(ctx, "earn", "loyalty.rules.write", _earn,
                         lambda b: loyalty.create_earn_rule(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created earn rule %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/coupon-templates")
async def create_coupon_template(ctx: Ctx) -> Response:
    return await _create(ctx, "coupons", "loyalty.rules.write", _coupon,
                         lambda b: loyalty.create_coupon_template(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created coupon template %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/promotions")
async def create_promotion(ctx: Ctx) -> Response:
    return await _create(ctx, "promotions", "loyalty.rules.write", _promotion,
                         lambda b: loyalty.create_promotion(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created promotion %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/risk-rules")
async def create_risk_rule(ctx: Ctx) -> Response:
    return await _create(ctx, "risk", "risk.rules.write", _risk,
                         lambda b: wallet.create_risk_rule(ctx.state, ctx.request, ctx.p, b),
                         lambda x: ctx._("Created risk rule %(name)s.", name=x["name"]))  # fmt: skip


@router.post("/console/rules/issue")
async def issue(ctx: Ctx) -> Response:
    """Issue a coupon template to the member numbers typed (one Idempotency-Key per form shown:
    sending the form again issues nothing more)."""
    _require(ctx, "loyalty.coupons.issue")
    raw = await ctx.form()
    form = await _fields(ctx)
    key = str(raw.get("key") or "")
    numbers = [n for n in re.split(r"[\s,，;；]+", form.get("member_nos", "")) if n]
    errors: dict[str, str] = {}
    if not form.get("template_id"):
        errors["template_id"] = ctx._("Choose a coupon template.")
    if not numbers:
        errors["member_nos"] = ctx._("Enter one or more member numbers.")
    if not errors:
        try:
            body = loyalty.IssueBody.model_validate({"member_nos": numbers})
            reply = await loyalty.issue_coupons(ctx.state, ctx.request, ctx.p, scoped_key(ctx.p, key),
                                                form["template_id"], body)  # fmt: skip
        except ValidationError as exc:
            errors = {"member_nos": "; ".join(field_errors(exc).values())}
        except ChainclubError as exc:
            if exc.reason not in ("invalid_argument", "not_found", "conflict", "failed_precondition",
                                  "idempotency_key_reused", "resource_exhausted"):  # fmt: skip
                raise
            where = str(exc.extra.get("field", ""))
            if where.startswith("member_nos."):
                number = numbers[int(where.split(".")[1])]
                errors = {"member_nos": ctx._("There is no member %(no)s in your scope.", no=number)}
            elif exc.reason == "not_found":
                errors = {"template_id": ctx._("There is no such coupon template.")}
            else:
                errors = {"member_nos": exc.detail}
        else:
            done = ctx._("Issued %(count)s coupons.", count=ctx.fmt.number(int(reply.get("issued", 0))))
            return await _page(ctx, "coupons", 201, done=done)
    return await _page(
        ctx, "coupons", 422, issue=form, issue_errors=_with_summary(ctx, errors), key=key or new_key()
    )


# --- taking rules back --------------------------------------------------------------------------
REFUSALS = {"conflict": 409, "forbidden": 403, "not_found": 404, "out_of_scope": 404, "invalid_argument": 422}
SWITCHES = ("activate", "deactivate")


async def _change(ctx: PageContext, tab: str, action: str, change: Callable[[], Any], done: str,
                  refused: Callable[[ChainclubError], str]) -> Response:  # fmt: skip
    """Run ``change``; the tab again with ``done``, or with why it was refused (its status)."""
    _require(ctx, action)
    try:
        await change()
    except ChainclubError as exc:
        if exc.reason not in REFUSALS:
            raise
        return await _page(ctx, tab, REFUSALS[exc.reason], problem=refused(exc))
    return await _page(ctx, tab, done=done)


@router.post("/console/rules/tiers/{code}/delete")
async def delete_tier(code: str, ctx: Ctx) -> Response:
    def refused(exc: ChainclubError) -> str:
        if exc.reason == "conflict" and exc.extra.get("members"):
            count = int(str(exc.extra["members"]))
            return ctx._("Tier %(name)s was not deleted: %(count)s members are on it. It can be deleted once none is.",
                         name=code, count=ctx.fmt.number(count))  # fmt: skip
        if exc.reason == "conflict":
            return ctx._("Tier %(name)s is where new members start: it cannot be deleted.", name=code)
        return ctx._("There is no tier %(name)s.", name=code)

    return await _change(ctx, "tiers", "loyalty.tiers.write",
                         lambda: loyalty.delete_tier(ctx.state, ctx.request, ctx.p, code[:64]),
                         ctx._("Deleted tier %(name)s.", name=code), refused)  # fmt: skip


def _not_there(ctx: PageContext) -> Callable[[ChainclubError | None], str]:
    def refused(exc: ChainclubError | None) -> str:
        if exc is not None and exc.reason == "forbidden":
            return ctx._("Only HQ changes earn rules and promotions.")
        return ctx._("That rule is not there any more; the list shows the rules now.")

    return refused


@router.post("/console/rules/earn-rules/{rule_id}/{switch}")
async def switch_earn_rule(rule_id: str, switch: str, ctx: Ctx) -> Response:
    if switch not in SWITCHES:
        return await _page(ctx, "earn", 404, problem=_not_there(ctx)(None))
    on = switch == "activate"
    return await _change(ctx, "earn", "loyalty.rules.write",
                         lambda: loyalty.set_earn_rule_active(ctx.state, ctx.request, ctx.p, rule_id[:64], on),
                         ctx._("Activated the earn rule.") if on else ctx._("Deactivated the earn rule: it earns no points."),
                         _not_there(ctx))  # fmt: skip


@router.post("/console/rules/promotions/{promotion_id}/{switch}")
async def switch_promotion(promotion_id: str, switch: str, ctx: Ctx) -> Response:
    if switch not in SWITCHES:
        return await _page(ctx, "promotions", 404, problem=_not_there(ctx)(None))
    on = switch == "activate"
    return await _change(ctx, "promotions", "loyalty.rules.write",
                         lambda: loyalty.set_promotion_active(ctx.state, ctx.request, ctx.p, promotion_id[:64], on),
                         ctx._("Activated the promotion.") if on else ctx._("Deactivated the promotion: it discounts nothing."),
                         _not_there(ctx))  # fmt: skip
