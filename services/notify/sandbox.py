"""The Jinja2 sandbox notify renders templates in, with a cost budget.

Jinja's own sandbox stops attribute tricks but not work: ``9**9**9``, ``'x' * 10**9`` or nested
``range`` loops would hold the event loop (and a worker thread cannot be killed), so every
operator, call, filter and loop iteration that could make a rendering run away is checked before
it runs and refused with ``TemplateTooCostly`` naming the limit it would exceed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import wraps
from typing import Any

from jinja2 import Environment, nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from services.notify.domain import InvalidTemplate

MAX_OUTPUT = 20_000  # characters of a rendered text, and of any string or list built on the way
MAX_STEPS = 10_000  # loop iterations and calls of one rendering, all loops together
MAX_BITS = 4_096  # size of any integer computed (10**1233 or so)
# A %-format or str.format width or precision of six digits or more, or one taken from an argument.
_WIDE_FORMAT = re.compile(r"%[-#0 +]*(\*|\d{6,})|%[-#0 +]*\d*\.(\*|\d{6,})|\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")
_SEQUENCES = (str, list, tuple)
# Context-, eval-context- and environment filters receive that object before the value.
_JINJA_INTERNALS = (Context, EvalContext, Environment)


class TemplateTooCostly(InvalidTemplate):
    """The template would take too much work or memory to render."""

    def __init__(self, what: str, limit: str) -> None:
        super().__init__(f"template_too_costly: {what} (limit: {limit})", exceeded=limit)


class _Budget:
    """The steps one rendering may still take."""

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise TemplateTooCostly(f"more than {MAX_STEPS} loop iterations and calls", "steps")


_budget: ContextVar[_Budget] = ContextVar("notify_template_budget")


def new_budget() -> None:
    """Starts the budget of one rendering (in the context the rendering runs in)."""
    _budget.set(_Budget())


def _spend() -> None:
    budget = _budget.get(None)
    if budget is None:  # rendered without new_budget(): still bounded, by a fresh budget
        budget = _Budget()
        _budget.set(budget)
    budget.spend()


def _weight(value: Any, cap: int = MAX_OUTPUT) -> int:
    """Characters and items in ``value`` (nested containers included), counted up to past
    ``cap``: what printing or joining it would produce, roughly. A cyclic or shared structure
    stops at the cap, so this costs at most ``cap`` visits."""
    total, stack = 0, [value]
    while stack and total <= cap:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 1
            stack.extend(item)
        else:
            total += 1
    return total


def _refuse_output(what: str) -> TemplateTooCostly:
    return TemplateTooCostly(f"{what} of more than {MAX_OUTPUT} characters or items", "output")


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise TemplateTooCostly(f"a number of more than {MAX_BITS} bits", "number")
    if isinstance(value, (str, list, tuple, dict, set, frozenset)) and _weight(value) > MAX_OUTPUT:
        raise _refuse_output("a value")
    return value


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        if exponent > MAX_BITS or exponent * math.log2(abs(base)) > MAX_BITS:
            raise TemplateTooCostly(f"a power of more than {MAX_BITS} bits", "number")


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int) and times > 0:
            if times > MAX_OUTPUT or _weight(seq) * times > MAX_OUTPUT:
                raise _refuse_output("a repetition")
    if _bits(left) + _bits(right) > MAX_BITS:
        raise TemplateTooCostly(f"a product of more than {MAX_BITS} bits", "number")


def _check_format(text: Any, values: Iterable[Any], marker: str) -> None:
    """A format of a huge width, or with many places for a long value, is refused."""
    if not isinstance(text, str):
        return
    if _WIDE_FORMAT.search(text):
        raise TemplateTooCostly("a format width or precision of a million or more", "output")
    longest = max((_weight(v) for v in values), default=0)
    if len(text) + text.count(marker) * longest > MAX_OUTPUT:
        raise _refuse_output("a formatted text")


def _format_values(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    values = [*args, *kwargs.values()]
    if len(values) == 1 and isinstance(values[0], (tuple, dict)):  # '%s %s' % (a, b)
        values = list(values[0].values() if isinstance(values[0], dict) else values[0])
    return values


def _check_args(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """A width, count or length beyond the output limit is refused before anything is built."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and abs(value) > MAX_OUTPUT:
            raise TemplateTooCostly(f"an argument of {value} (more than {MAX_OUTPUT})", "output")


def _check_replace(text: Any, args: tuple[Any, ...]) -> None:
    if isinstance(text, str) and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        grows = text.count(old) * max(len(new) - len(old), 0) if old else (len(text) + 1) * len(new)
        if len(text) + grows > MAX_OUTPUT:
            raise _refuse_output("a replacement")


def _check_join(separator: Any, items: list[Any]) -> None:
    if len(str(separator)) * len(items) + _weight(items) > MAX_OUTPUT:
        raise _refuse_output("a join")


def _check_indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    if isinstance(text, str):
        added = width if isinstance(width, int) else len(str(width))
        if len(text) + (text.count("\n") + 1) * added > MAX_OUTPUT:
            raise _refuse_output("an indented text")


def _check_wordwrap(text: Any, width: Any = 79, *_: Any, wrapstring: Any = None, **__: Any) -> None:
    if isinstance(text, str) and isinstance(width, int) and wrapstring is not None:
        if len(text) + (len(text) // max(width, 1) + 1) * len(str(wrapstring)) > MAX_OUTPUT:
            raise _refuse_output("a wrapped text")


def bounded_range(*args: int) -> range:
    """``range`` as templates see it: at most MAX_STEPS items."""
    items = range(*args)
    if len(items) > MAX_STEPS:
        raise TemplateTooCostly(f"a range of more than {MAX_STEPS} items", "range")
    return items


def counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """Each iteration of a template's ``for`` loop spends a step."""
    for item in iterable:
        _spend()
        yield item


def bounded_concat(value: Any) -> Any:
    """The result of ``~``: no longer than the output limit."""
    return _check_size(value)


class _Costed(NodeTransformer):
    """Routes loops and ``~`` through the budget; refuses recursive loops."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateTooCostly("a recursive loop", "steps")
        node = self.generic_visit(node)
        node.iter = nodes.Call(nodes.ImportedName(f"{__name__}.counted"), [node.iter], [], None, None)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        node = self.generic_visit(node)
        return nodes.Call(nodes.ImportedName(f"{__name__}.bounded_concat"), [node], [], None, None)


def _items(iterable: Any) -> list[Any]:
    """What a join will join, as a list; a lazy iterable spends a step per item."""
    if isinstance(iterable, (str, list, tuple, dict, set, frozenset)):
        return list(iterable)
    return list(counted(iterable))


def _check_filter(name: str, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Checks a filter's call before it runs; returns the arguments (an iterable to join is
    read into a list first, to know what joining it would produce)."""
    if name == "format":  # its arguments are values; its widths are checked
        _check_format(args[0] if args else None, _format_values(tuple(args[1:]), kwargs), "%")
        return args
    _check_args(args[1:], kwargs)
    if name == "replace" and args:
        _check_replace(args[0], tuple(args[1:]))
    elif name == "indent":
        _check_indent(*args, **kwargs)
    elif name == "wordwrap":
        _check_wordwrap(*args, **kwargs)
    elif name == "join" and args:
        args = [_items(args[0]), *args[1:]]
        _check_join(args[1] if len(args) > 1 else kwargs.get("d", ""), args[0])
    return args


def _costed_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(f)
    def costed(*args: Any, **kwargs: Any) -> Any:
        _spend()
        internal = [a for a in args if isinstance(a, _JINJA_INTERNALS)]
        values = _check_filter(name, [a for a in args if not isinstance(a, _JINJA_INTERNALS)], kwargs)
        return _check_size(f(*internal, *values, **kwargs))

    return costed


def _check_method(owner: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Checks a call of a method of a template value (a string's, say) before it runs."""
    if name in {"expandtabs", "translate", "format_map", "encode"}:
        raise TemplateTooCostly(f"the method {name!r} (not available in templates)", "output")
    if name == "format":
        _check_format(owner, _format_values(args, kwargs), "{")
        return args
    _check_args(args, kwargs)
    if name == "replace":
        _check_replace(owner, args)
    elif name == "join" and isinstance(owner, str) and args:
        args = (_items(args[0]), *args[1:])
        _check_join(owner, args[0])
    return args


class CostedEnvironment(ImmutableSandboxedEnvironment):
    """A sandbox that refuses work beyond the limits above, before doing it. Immutable: a
    template that could append to a list could grow it without any operator."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # lipsum(n=...) builds text of any size
        self.globals["range"] = bounded_range
        self.filters = {name: _costed_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_repeat(left, right)
        elif operator == "%":
            _check_format(left, _format_values((right,), {}), "%")
        elif _bits(left) > MAX_BITS or _bits(right) > MAX_BITS:
            raise TemplateTooCostly(f"a sum of more than {MAX_BITS} bits", "number")
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, (str, list, tuple, dict, set, frozenset)):  # a value's method
            args = _check_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def _generate(self, source: nodes.Template, *args: Any, **kwargs: Any) -> str:
        return super()._generate(_Costed().visit(source), *args, **kwargs)
