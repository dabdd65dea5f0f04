"""Template text: a Jinja2 sandbox with strict undefined variables, validation at save time
(syntax and the variables the event offers) and rendering at send time."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from services.notify.domain import EventKind, InvalidTemplate

MAX_LENGTH = 4000


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    # Plain text (SMS, WeChat, text email): no HTML escaping.
    return SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def validate(kind: EventKind, field: str, text: str) -> None:
    """Raises ``InvalidTemplate`` naming the problem: too long, a syntax error, or a variable
    ``kind`` does not offer."""
    if len(text) > MAX_LENGTH:
        raise InvalidTemplate(f"{field} must be at most {MAX_LENGTH} characters", field=field)
    try:
        ast = environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidTemplate(
            f"{field}: syntax error on line {exc.lineno}: {exc.message}", field=field
        ) from None
    unknown = sorted(meta.find_undeclared_variables(ast) - set(kind.variables))
    if unknown:
        raise InvalidTemplate(
            f"{field}: unknown variable {unknown[0]!r} for event {kind.key!r} "
            f"(allowed: {', '.join(kind.variables)})",
            field=field,
            variable=unknown[0],
        )


def render(text: str, variables: dict[str, Any]) -> str:
    try:
        return environment().from_string(text).render(**variables)
    except jinja2.UndefinedError as exc:
        raise InvalidTemplate(f"template uses a missing variable: {exc.message}") from None
    except jinja2.TemplateError as exc:  # the sandbox refusing something, say
        raise InvalidTemplate(f"template cannot be rendered: {exc}") from None


def sample_variables(kind: EventKind) -> dict[str, str]:
    samples = {
        "member_name": "张三", "member_no": "M00000001", "card_no": "8800000001", "time": "2026-01-01 10:00",
        "amount_yuan": "128.00", "bonus_yuan": "50.00", "bonus_points": "100", "store": "HQ/EAST/SH001",
        "points": "128", "balance": "1280", "from_tier": "silver", "to_tier": "gold", "coupon_name": "满100减10",
        "code": "C0001", "valid_until": "2026-12-31", "status": "lost", "rule_name": "单笔大额", "kind": "single_amount",
        "action": "alert", "detail": "5000.00 > 2000.00",
    }  # fmt: skip
    return {name: samples.get(name, name) for name in kind.variables}
