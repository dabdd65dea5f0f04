"""Editing a rule on the console's rules screen: an earn rule, coupon template or promotion as its
form shows it (yuan, percent, factors, the chain's calendar days, the scope's unit code), and the
form's request model turned into the PATCH of the same fields. No I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from services.gateway import loyalty_rule_edits

EDITABLE = ("earn", "coupons", "promotions")
# What the forms do not carry stays as it is: the switch is a button of its own, a template's
# campaign is set over REST only.
NOT_IN_FORMS = frozenset({"active", "campaign"})


def _plain(v: Decimal) -> str:
    text = f"{v:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _yuan(fen: Any) -> str:
    return _plain(Decimal(int(fen or 0)) / 100) if fen else ""


def _percent(bps: Any) -> str:
    return _plain(Decimal(int(bps or 0)) / 100) if bps else ""


def _factor(bps: Any, default: str = "") -> str:
    return _plain(Decimal(int(bps)) / 10_000) if bps and bps != 10_000 else default


def _whole(n: Any) -> str:
    return str(n) if n else ""


def _day(value: str | None, zone: ZoneInfo, end: bool = False) -> str:
    """A stored instant as the form's date; an end is the start of the day after the last one."""
    if not value:
        return ""
    local = datetime.fromisoformat(value).astimezone(zone)
    if end and local.time() == datetime.min.time():
        local -= timedelta(days=1)
    return local.date().isoformat()


def _unit_code(scope: str, units: list[Any]) -> str:
    found = next((u.code for u in units if u.path == scope), None)
    return found or scope.rsplit("/", 1)[-1]


def rule_form(tab: str, rule: dict[str, Any], units: list[Any], timezone: str) -> dict[str, str]:
    """The rule's values as its tab's form shows them (to edit it)."""
    zone = ZoneInfo(timezone)
    scope = _unit_code(rule.get("scope") or "HQ", units)
    if tab == "earn":
        return {
            "name": rule["name"], "scope": scope, "category": rule.get("category") or "",
            "points_per_yuan_bps": _factor(rule.get("points_per_yuan_bps"), "1") or "0",
            "member_day": _whole(rule.get("member_day")),
            "member_day_multiplier_bps": _factor(rule.get("member_day_multiplier_bps")),
            "birthday_month_multiplier_bps": _factor(rule.get("birthday_month_multiplier_bps")),
        }  # fmt: skip
    if tab == "coupons":
        return {
            "name": rule["name"], "kind": rule["kind"], "scope": scope, "amount_off": _yuan(rule.get("amount_off")),
            "percent_off_bps": _percent(rule.get("percent_off_bps")), "gift_sku": rule.get("gift_sku") or "",
            "min_spend": _yuan(rule.get("min_spend")), "valid_days": _whole(rule.get("valid_days")),
            "valid_from": _day(rule.get("valid_from"), zone), "valid_until": _day(rule.get("valid_until"), zone, True),
            "per_member_limit": _whole(rule.get("per_member_limit")),
            "total_quantity": _whole(rule.get("total_quantity")),
        }  # fmt: skip
    form = {
        "name": rule["name"], "kind": rule["kind"], "scope": scope,
        "spend_threshold": _yuan(rule.get("spend_threshold")), "save_amount": _yuan(rule.get("save_amount")),
        "discount_bps": _percent(rule.get("discount_bps")), "category": rule.get("category") or "",
        "day_of_month": _whole(rule.get("day_of_month")),
        "starts_at": _day(rule.get("starts_at"), zone), "ends_at": _day(rule.get("ends_at"), zone, True),
    }  # fmt: skip
    if rule.get("members_only"):
        form["members_only"] = "on"
    return form


PATCHES: dict[str, type[BaseModel]] = {
    "earn": loyalty_rule_edits.EarnRulePatch,
    "coupons": loyalty_rule_edits.CouponTemplatePatch,
    "promotions": loyalty_rule_edits.PromotionPatch,
}


def as_patch(tab: str, body: BaseModel) -> Any:
    """The form's request model (validated as on create) as the PATCH of every field the form
    shows: a date left empty clears it, the scope stays unless one was chosen."""
    values = body.model_dump(exclude=set(NOT_IN_FORMS))
    if values.get("scope") is None:
        values.pop("scope", None)
    return PATCHES[tab].model_validate(values)
