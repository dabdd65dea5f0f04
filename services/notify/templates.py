"""Template text: a Jinja2 sandbox with strict undefined variables and a cost budget
(sandbox.py), validation at save time (syntax, the variables the event offers, and a trial
rendering with sample values within the limits) and rendering at send time, in a worker thread
with a time limit so that no template holds the event loop."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta

from kit.errors import Unavailable
from services.notify import sandbox
from services.notify.domain import EventKind, InvalidTemplate

MAX_LENGTH = 4000
# A backstop: the sandbox's limits keep any rendering far below it.
RENDER_SECONDS = 2.0


@lru_cache(maxsize=1)
def environment() -> sandbox.CostedEnvironment:
    # Plain text (SMS, WeChat, text email): no HTML escaping.
    return sandbox.CostedEnvironment(
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


async def render(text: str, variables: dict[str, Any], field: str | None = None) -> str:
    """Renders in a worker thread; past RENDER_SECONDS the caller gets ``Unavailable`` (the
    thread cannot be stopped, which is why the sandbox bounds the work itself). A refusal
    names ``field`` (subject or body) when given."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(render_now, text, variables), RENDER_SECONDS)
    except TimeoutError:
        raise Unavailable(f"template rendering took longer than {RENDER_SECONDS:g} s") from None
    except InvalidTemplate as exc:
        if field:
            exc.extra.setdefault("field", field)
        raise


def render_now(text: str, variables: dict[str, Any]) -> str:
    """Renders on the calling thread, within the sandbox's budget and output limit."""
    sandbox.new_budget()
    try:
        out: list[str] = []
        size = 0
        for chunk in environment().from_string(text).generate(**variables):
            size += len(chunk)
            if size > sandbox.MAX_OUTPUT:
                raise sandbox.TemplateTooCostly(
                    f"more than {sandbox.MAX_OUTPUT} characters of output", "output"
                )
            out.append(chunk)
        return "".join(out)
    except InvalidTemplate:
        raise
    except jinja2.UndefinedError as exc:
        raise InvalidTemplate(f"template uses a missing variable: {exc.message}") from None
    except jinja2.TemplateError as exc:  # the sandbox refusing something, say
        raise InvalidTemplate(f"template cannot be rendered: {exc}") from None
    except (ArithmeticError, ValueError, TypeError, LookupError, RecursionError) as exc:
        raise InvalidTemplate(f"template cannot be rendered: {type(exc).__name__}: {exc}") from None


async def check(kind: EventKind, field: str, text: str) -> None:
    """``validate``, then a trial rendering with sample values: a template the sandbox refuses
    (too costly, say) is refused when saved rather than when a message is sent."""
    validate(kind, field, text)
    await render(text, sample_variables(kind), field)


def sample_variables(kind: EventKind) -> dict[str, str]:
    samples = {
        "member_name": "张三", "member_no": "M00000001", "card_no": "8800000001", "time": "2026-01-01 10:00",
        "amount_yuan": "128.00", "bonus_yuan": "50.00", "bonus_points": "100", "store": "HQ/EAST/SH001",
        "points": "128", "balance": "1280", "from_tier": "silver", "to_tier": "gold", "coupon_name": "满100减10",
        "code": "C0001", "valid_until": "2026-12-31", "status": "lost", "rule_name": "单笔大额", "kind": "single_amount",
        "action": "alert", "detail": "5000.00 > 2000.00",
    }  # fmt: skip
    return {name: samples.get(name, name) for name in kind.variables}
