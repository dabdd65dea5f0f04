"""The rule forms of the console (营销规则): what was typed in the reader's units (yuan, percent,
"x1.5", minutes, HH:MM) read into the REST request models (fen, basis points, seconds), a message
per refused field, and the previews of a rule's effect. No I/O: the page module calls the use cases."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from services.gateway import loyalty, wallet
from services.gateway.web.core import PageContext, field_errors
from services.gateway.web.i18n import parse_yuan

AMOUNT_RISKS = ("single_amount", "sum_in_window")  # a threshold in yuan; the others count
WINDOW_RISKS = ("count_in_window", "sum_in_window", "chain_velocity")
SAMPLE = 10_000  # fen: the purchase the earn and discount previews are worked out for


class Refused(Exception):
    """A typed value the page cannot turn into the request (a message per field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


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


def tier_body(r: Reader) -> loyalty.TierBody:
    body = {
        "code": r.text("code"), "name": r.text("name"), "rank": r.whole("rank", 0, 100),
        "min_spend_12m": r.yuan("min_spend_12m"), "min_points_12m": r.whole("min_points_12m", 0, 10**12),
        "discount_bps": r.percent("discount_bps"), "points_multiplier_bps": r.factor("points_multiplier_bps", 10),
        "birthday_points": r.whole("birthday_points", 0, 10**9),
        "birthday_gift_template_id": r.text("birthday_gift_template_id"),
        "keep_spend_12m": r.yuan("keep_spend_12m"), "keep_points_12m": r.whole("keep_points_12m", 0, 10**12),
    }  # fmt: skip
    r.check(
        not body["keep_spend_12m"] or 0 < body["keep_spend_12m"] <= body["min_spend_12m"],
        "keep_spend_12m",
        r.ctx._("To keep the tier asks at most what reaching it does; empty = the same."),
    )
    r.check(not body["keep_points_12m"] or 0 < body["keep_points_12m"] <= body["min_points_12m"], "keep_points_12m",
            r.ctx._("To keep the tier asks at most what reaching it does; empty = the same."))  # fmt: skip
    r.check(bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", body["code"])), "code",
            r.ctx._("Use 1 to 32 letters, digits, _ . or -."))  # fmt: skip
    return _validate(loyalty.TierBody, body, r.errors)


def earn_body(r: Reader) -> loyalty.EarnRuleBody:
    body = {
        "name": r.text("name"), "scope": r.text("scope") or None, "category": r.text("category"),
        "points_per_yuan_bps": r.factor("points_per_yuan_bps", 100),
        "member_day": r.whole("member_day", 0, 31),
        "member_day_multiplier_bps": r.factor("member_day_multiplier_bps", 10),
        "birthday_month_multiplier_bps": r.factor("birthday_month_multiplier_bps", 10),
    }  # fmt: skip
    return _validate(loyalty.EarnRuleBody, body, r.errors)


def coupon_body(r: Reader) -> loyalty.CouponTemplateBody:
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


def promotion_body(r: Reader) -> loyalty.PromotionBody:
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


def risk_body(r: Reader) -> wallet.RiskRuleBody:
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
    if r.text("scope"):  # an org path: HQ, or the region or store whose transactions it watches
        body["scope"] = r.text("scope")
    made = _validate(wallet.RiskRuleBody, body, r.errors)
    return made


# --- previews -----------------------------------------------------------------------------------
def _points(fen: int, per_yuan_bps: int, *factors_bps: int) -> int:
    """Points for ``fen`` paid as loyalty counts them (multiplied, then rounded down once)."""
    pts = Decimal(fen) / 100 * Decimal(per_yuan_bps) / 10_000
    for f in factors_bps:
        pts = pts * f / 10_000
    return int(pts.to_integral_value(rounding=ROUND_FLOOR))


def _kept(ctx: PageContext, spend: int, points: int) -> str:
    """What keeps a member on a tier at the review (保级), in a sentence."""
    money, number = ctx.fmt.money, ctx.fmt.number
    if spend and points:
        return ctx._("At the yearly review a member keeps this tier with %(spend)s spent or %(points)s points earned "
                     "in the last 12 months.", spend=money(spend), points=number(points))  # fmt: skip
    if spend:
        return ctx._("At the yearly review a member keeps this tier with %(spend)s spent in the last 12 months.",
                     spend=money(spend))  # fmt: skip
    return ctx._("At the yearly review a member keeps this tier with %(points)s points earned in the last 12 months.",
                 points=number(points))  # fmt: skip


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
        keep_spend, keep_points = r.yuan("keep_spend_12m"), r.whole("keep_points_12m", 0, 10**12)
        if rank and (spend or points) and not r.errors:
            out.append(_kept(ctx, keep_spend or spend, keep_points or points))
        discount = r.percent("discount_bps")
        if discount and not r.errors:
            out.append(ctx._("At this tier a %(sample)s purchase costs %(paid)s.", sample=money(SAMPLE),
                             paid=money(SAMPLE - SAMPLE * discount // 10_000)))  # fmt: skip
        birthday_points = r.whole("birthday_points", 0, 10**9)
        if birthday_points and not r.errors:
            out.append(ctx._("On their birthday members of this tier get %(points)s points, once a year.",
                             points=number(birthday_points)))  # fmt: skip
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
