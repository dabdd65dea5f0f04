"""The costed sandbox on its own: each way of making a rendering run away is refused before the
work is done, naming the limit, and ordinary template code renders as before."""

from __future__ import annotations

import time

import pytest

from services.notify import sandbox, templates
from services.notify.domain import InvalidTemplate

A = "{% set a = 'x' * 20000 %}"
REFUSED = {
    "power": ("{{ 9**(9**9) }}", "number"),
    "squaring in a loop": (
        "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
        "number",
    ),
    "repeated text": ("{{ 'x' * 100000000 }}", "output"),
    "repeated list": ("{{ [1] * 30000 }}", "output"),
    "list of long texts": ("{% set a = ['x' * 20000] %}{{ ([a] * 20000)|length }}", "output"),
    "doubling by ~": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "output",
    ),
    "big range": ("{{ range(10**6)|list|length }}", "range"),
    "nested loops": ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", "steps"),
    "recursive loop": ("{% for i in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}", "steps"),
    "exponential macro": (
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(30) }}",
        "steps",
    ),
    "wide center": ("{{ 'x'|center(10**9) }}", "output"),
    "wide ljust": ("{{ 'x'.ljust(1000000000) }}", "output"),
    "wide %": ("{{ '%1000000000s' % 'x' }}", "output"),
    "wide format": ("{{ '{:>1000000000}'.format(1) }}", "output"),
    "many places in format": (A + "{{ ('{0}' * 5000).format(a)|length }}", "output"),
    "many places in |format": (A + "{{ ('%s' * 5000)|format(a)|length }}", "output"),
    "replace": (A + "{{ a|replace('x', 'xxxxxxxxxx') }}", "output"),
    "join filter": (A + "{{ a|join(a)|length }}", "output"),
    "join method": (A + "{{ a.join(a)|length }}", "output"),
    "indent": ("{% set a = '\n' * 19000 %}{{ a|indent(20000, true, true)|length }}", "output"),
    "wordwrap": (A + "{{ a|wordwrap(1, wrapstring='yyyyy')|length }}", "output"),
    "expandtabs": ("{{ 'x'.expandtabs(100) }}", "output"),
    "output": ("{% for i in range(5000) %}0123456789{% endfor %}", "output"),
}


@pytest.mark.parametrize(("text", "limit"), REFUSED.values(), ids=REFUSED.keys())
def test_runaway_work_is_refused_before_it_is_done(text: str, limit: str) -> None:
    started = time.monotonic()
    with pytest.raises(sandbox.TemplateTooCostly) as err:
        templates.render_now(text, {})
    assert time.monotonic() - started < 1.0
    assert err.value.extra["exceeded"] == limit and err.value.detail.startswith("template_too_costly:")


def test_templates_cannot_change_lists() -> None:
    with pytest.raises(InvalidTemplate, match="unsafe"):
        templates.render_now("{% set l = [] %}{{ l.append(1) }}", {})


def test_ordinary_template_code_renders_as_before() -> None:
    text = (
        "{{ member_name }} 消费 {{ amount_yuan }} 元 {{ '{:,}'.format(points|int) }} {{ '%d'|format(points|int) }} "
        "{{ '%s/%s' % (member_name, points) }} {{ (amount_yuan|float * 2)|round(2) }} "
        "{% for c in 'abc' %}{{ loop.index }}{{ c|upper }}{% endfor %} {{ points|int ** 2 }} "
        "{{ ['a', 'b']|join(', ') }} {{ 'a-b'.split('-')|join('+') }} {{ 'hello world'|wordwrap(5) }}"
    )
    out = templates.render_now(text, {"member_name": "张三", "amount_yuan": "128.00", "points": "1280000"})
    assert (
        out
        == "张三 消费 128.00 元 1,280,000 1280000 张三/1280000 256.0 1A2B3C 1638400000000 a, b a+b hello\nworld"
    )
