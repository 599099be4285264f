"""The sandbox every template render runs in: Jinja2's immutable sandbox, budgets and nunjucks manners.

Templates come from catalog authors and values from any portal user. ``build_environment`` returns an
``ImmutableSandboxedEnvironment`` that raises instead of rendering empty when an expression reaches
for a private attribute (``''.__class__``, ``cycler.__init__.__globals__``); every render runs under a
``_Budget`` (wall time, guarded steps, value size) that ``for`` loops, ``~`` concatenations, operators,
calls, attribute reads and filters all draw on, because ``for`` iterables and concatenations are
rewritten to go through guards before compiling.

Nunjucks and Jinja differ in ways templates notice; the environment closes the gaps that matter:
``true``/``false``/``null`` print as JavaScript does; ``===``/``!==`` and ``{% elseif %}`` work;
``null``/``undefined`` are names; arrays print ``a,b`` and objects ``[object Object]``; ``x.length``
and a few string/array methods (``includes``, ``startsWith``, ``toUpperCase``...) exist; dict keys win
over dict methods (``values.items`` is the item); ``+`` joins a string with a non-string;
``{% for k, v in obj %}`` iterates an object's entries.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.filters import do_join
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from jinja2.runtime import ChainableUndefined, Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_eval_context
from jinja2.visitor import NodeTransformer

from . import filters as bt_filters
from .errors import RenderLimitExceeded, TemplateRenderError


class _Omitted:
    """The type of ``OMITTED``."""

    _instance: _Omitted | None = None

    def __new__(cls) -> _Omitted:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMITTED"

    def __bool__(self) -> bool:
        return False


OMITTED: Final = _Omitted()
"""What a value renders to when it is undefined or empty: the key is dropped from its mapping."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Budgets for one render (one string): wall time, guarded steps, and characters produced."""

    max_seconds: float = 2.0
    max_steps: int = 1_000_000
    max_output_chars: int = 2_000_000
    max_range: int = 10_000


@dataclass(slots=True)
class _Budget:
    limits: RenderLimits
    deadline: float
    clock: Callable[[], float]
    steps: int = 0

    def tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.limits.max_steps:
            raise RenderLimitExceeded(
                f"template rendering took more than {self.limits.max_steps} steps; simplify loops in the template"
            )
        if self.clock() > self.deadline:
            raise RenderLimitExceeded(
                f"template rendering ran longer than {self.limits.max_seconds:g} s; simplify the template"
            )

    def check_size(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict) and len(value) > self.limits.max_output_chars:
            raise RenderLimitExceeded(
                f"template rendering produced a value of {len(value)} items/characters, over the limit of "
                f"{self.limits.max_output_chars}"
            )
        return value


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("blacktop_render_budget", default=None)


def _tick(n: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick(n)


def _check_size(value: Any) -> Any:
    budget = _BUDGET.get()
    return budget.check_size(value) if budget is not None else value


# --- nunjucks rendering of values -------------------------------------------------------------


def js_string(value: Any) -> str:
    """How nunjucks prints a value: ``true``/``false``, ``""`` for null/undefined, ``a,b`` for arrays."""
    if value is None or isinstance(value, Undefined | _Omitted):
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return "NaN" if math.isnan(value) else str(value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join(js_string(v) for v in value)
    return str(value)


def is_truthy(value: Any) -> bool:
    """Backstage's truthiness for ``if``: false, undefined, null, ``""``, ``0`` and ``[]`` are falsy."""
    if value is None or value is False or isinstance(value, Undefined | _Omitted):
        return False
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    return True


def to_plain(value: Any) -> Any:
    """Turn a rendered value into plain JSON-like Python (lists, dicts, str, numbers, bool, None)."""
    if isinstance(value, Undefined | _Omitted):
        return OMITTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _check_size(str(value))
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            plain = to_plain(v)
            if plain is not OMITTED:
                out[str(k)] = plain
        return out
    if isinstance(value, list | tuple | range | Iterator):
        items = []
        for item in value:
            _tick()
            plain = to_plain(item)
            items.append(None if plain is OMITTED else plain)
        return _check_size(items)
    return js_string(value)


# --- the sandboxed environment ---------------------------------------------------------------


class _NunjucksOperators(Extension):
    """Token-level nunjucks syntax: ``===``/``!==`` become ``==``/``!=``, ``{% elseif %}`` becomes ``elif``."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        pending: Token | None = None
        previous: Token | None = None
        for token in stream:
            if pending is not None:
                yield pending
                pending = None
                if token.type == "assign":
                    previous = token
                    continue
            if token.type in ("eq", "ne"):
                pending = token
                previous = token
                continue
            is_elseif = token.type == "name" and token.value == "elseif"
            if is_elseif and previous is not None and previous.type == "block_begin":
                token = Token(token.lineno, "name", "elif")
            previous = token
            yield token
        if pending is not None:
            yield pending


class _Guards(NodeTransformer):
    """Routes ``for`` iterables and ``~`` concatenations through budgeted helpers."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 - jinja visitor naming
        self.generic_visit(node)
        pairs = isinstance(node.target, nodes.Tuple) and len(node.target.items) == 2
        node.iter = nodes.Call(
            nodes.Name("_bt_iter", "load", lineno=node.lineno),
            [node.iter, nodes.Const(pairs, lineno=node.lineno)],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 - jinja visitor naming
        self.generic_visit(node)
        return nodes.Call(
            nodes.Name("_bt_concat", "load", lineno=node.lineno), node.nodes, [], None, None, lineno=node.lineno
        )


def _guarded_iter(iterable: Any, pairs: bool) -> Iterator[Any]:
    if isinstance(iterable, Undefined):
        return
    source: Iterable[Any] = iterable.items() if pairs and isinstance(iterable, Mapping) else iterable
    for item in source:
        _tick()
        yield item


def _guarded_concat(*parts: Any) -> str:
    _tick()
    return str(_check_size("".join(js_string(p) for p in parts)))


def _safe_range_for(limits: RenderLimits) -> Callable[..., range]:
    def safe_range(*args: int) -> range:
        rng = range(*args)
        if len(rng) > limits.max_range:
            raise RenderLimitExceeded(
                f"range of {len(rng)} items is over the template limit of {limits.max_range}; use a smaller range"
            )
        return rng

    return safe_range


def _js_plus(left: Any, right: Any) -> Any:
    if isinstance(left, str) != isinstance(right, str) and (isinstance(left, str) or isinstance(right, str)):
        return js_string(left) + js_string(right)
    return left + right


_JS_STR_METHODS: Final[Mapping[str, Callable[[str], Any]]] = {
    "toUpperCase": lambda s: lambda: s.upper(),
    "toLowerCase": lambda s: lambda: s.lower(),
    "trim": lambda s: lambda: s.strip(),
    "trimStart": lambda s: lambda: s.lstrip(),
    "trimEnd": lambda s: lambda: s.rstrip(),
    "startsWith": lambda s: lambda p: s.startswith(str(p)),
    "endsWith": lambda s: lambda p: s.endswith(str(p)),
    "includes": lambda s: lambda p: str(p) in s,
    "indexOf": lambda s: lambda p: s.find(str(p)),
}
_JS_LIST_METHODS: Final[Mapping[str, Callable[[Sequence[Any]], Any]]] = {
    "includes": lambda s: lambda p: p in s,
    "indexOf": lambda s: lambda p: list(s).index(p) if p in s else -1,
    "join": lambda s: lambda sep=",": str(sep).join(js_string(v) for v in s),
}


class _SandboxedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with budgets, loud refusals and the nunjucks compatibility above."""

    intercepted_binops = frozenset({"+", "*", "**", "%", "//", "/"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__!r} value is not allowed in templates"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        if isinstance(obj, Mapping) and not isinstance(obj, Undefined) and attribute in obj:
            return obj[attribute]
        if attribute.startswith("_"):
            raise SecurityError(
                f"attribute {attribute!r} is private; templates may not read attributes starting with '_'"
            )
        if attribute == "length" and isinstance(obj, str | list | tuple | Mapping):
            return len(obj)
        if isinstance(obj, str) and attribute in _JS_STR_METHODS:
            return _JS_STR_METHODS[attribute](obj)
        if isinstance(obj, list | tuple) and attribute in _JS_LIST_METHODS:
            return _JS_LIST_METHODS[attribute](obj)
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def refuse(*args: Any, **kwargs: Any) -> str:
            raise SecurityError("str.format is not available in templates; use ~ or the replace filter")

        return refuse

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise RenderLimitExceeded(f"exponent {right} is over the template limit of 64")
        if operator == "*":
            size = _repeat_size(left, right) + _repeat_size(right, left)
            budget = _BUDGET.get()
            if budget is not None and size > budget.limits.max_output_chars:
                raise RenderLimitExceeded(
                    f"repeating a value {size} times is over the template limit of {budget.limits.max_output_chars}"
                )
        if operator == "%" and isinstance(left, str):
            raise SecurityError("printf-style '%' formatting of strings is not allowed in templates; use ~ or format")
        if operator == "+":
            return _check_size(_js_plus(left, right))
        return _check_size(self.binop_table[operator](left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        guarded = _Guards().visit(source)
        return super()._generate(guarded, name, filename, defer_init=defer_init)


def _repeat_size(seq: Any, times: Any) -> int:
    if isinstance(seq, str | list | tuple) and isinstance(times, int) and not isinstance(times, bool):
        return len(seq) * times
    return 0


_JSON_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("blacktop_render_json_mode", default=False)


@contextlib.contextmanager
def json_mode(enabled: bool) -> Iterator[None]:
    """While active, ``${{ }}`` outputs print as JSON (Backstage's coercion of a sole ``{% if %}`` block)."""
    token = _JSON_MODE.set(enabled)
    try:
        yield
    finally:
        _JSON_MODE.reset(token)


def _finalize(value: Any) -> str:
    if _JSON_MODE.get():
        return "" if isinstance(value, Undefined) else json.dumps(to_plain(value), separators=(",", ":"))
    return js_string(value)


def _check_planned(size: int) -> None:
    """Refuse before allocating: ``size`` is what an operation is about to produce."""
    budget = _BUDGET.get()
    if budget is not None and size > budget.limits.max_output_chars:
        raise RenderLimitExceeded(
            f"template rendering would produce {size} characters, over the limit of {budget.limits.max_output_chars}"
        )


def _wrap_filter(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Budget every filter call, refuse huge numeric arguments (widths) and bound what it returns."""

    skip = 2 if hasattr(fn, "jinja_pass_arg") else 1  # the context argument and the filtered value

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for arg in (*args[skip:], *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool):
                _check_planned(abs(arg))
        try:
            return _check_size(fn(*args, **kwargs))
        except bt_filters.FilterError as exc:
            raise TemplateRenderError(str(exc)) from exc

    wrapper.__name__ = getattr(fn, "__name__", "filter")
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    for flag in ("jinja_pass_arg",):
        if hasattr(fn, flag):
            setattr(wrapper, flag, getattr(fn, flag))
    return wrapper


def _replace_filter(value: Any, old: Any, new: Any, count: Any = None) -> str:
    """Replace ``old`` with ``new`` (at most ``count`` times), like nunjucks' ``replace`` with a string."""
    text, old_s, new_s = js_string(value), js_string(old), js_string(new)
    hits = text.count(old_s) if old_s else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_planned(len(text) + hits * (len(new_s) - len(old_s)))
    return text.replace(old_s, new_s, count if isinstance(count, int) else -1)


@pass_eval_context
def _join_filter(eval_ctx: EvalContext, value: Any, d: str = "", attribute: Any = None) -> str:
    """Join items with ``d``; items print as nunjucks prints them (``true``, not ``True``)."""
    items = list(value) if not isinstance(value, Undefined) else []
    if attribute is None:
        parts = [js_string(item) for item in items]
        _check_planned(sum(len(p) for p in parts) + len(str(d)) * max(len(parts) - 1, 0))
        return str(d).join(parts)
    return str(do_join(eval_ctx, items, d, attribute))


_REMOVED_FILTERS: Final = ("random", "xmlattr", "format")
_REMOVED_GLOBALS: Final = ("lipsum", "dict", "namespace")


def _dump_filter(value: Any, spaces: Any = None) -> str:
    """JSON text of the value, like ``JSON.stringify(value, null, spaces)``."""
    if isinstance(value, Undefined):
        return ""
    return bt_filters.dump(to_plain(value), spaces)


class SandboxedEnvironment(_SandboxedEnvironment):
    """The environment type ``build_environment`` returns (public name for type hints)."""


def build_environment(
    *,
    cookiecutter: bool = False,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
    limits: RenderLimits,
    filters: Mapping[str, Callable[..., Any]],
) -> SandboxedEnvironment:
    """A sandboxed environment: ``${{ }}`` (or ``{{ }}`` for cookiecutter) with ``filters`` added.

    Jinja's ``random`` filter and the ``lipsum``/``dict``/``namespace`` globals are removed; every
    filter is wrapped to draw on the render budget and to bound the size of what it returns.
    """
    env = SandboxedEnvironment(
        variable_start_string="{{" if cookiecutter else "${{",
        variable_end_string="}}",
        undefined=ChainableUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=trim_blocks,
        lstrip_blocks=lstrip_blocks,
        extensions=[_NunjucksOperators],
        cache_size=0,
        # Constant folding would run filters at compile time, outside every budget.
        optimized=False,
    )
    for name in _REMOVED_FILTERS:
        env.filters.pop(name, None)
    for name in _REMOVED_GLOBALS:
        env.globals.pop(name, None)
    env.filters.update(
        {"dump": _dump_filter, "jsonify": _dump_filter, "replace": _replace_filter, "join": _join_filter, **filters}
    )
    env.filters = {name: _wrap_filter(fn) for name, fn in env.filters.items()}
    env.globals.update(
        {
            "range": _safe_range_for(limits),
            "null": None,
            "undefined": ChainableUndefined(name="undefined"),
            "_bt_iter": _guarded_iter,
            "_bt_concat": _guarded_concat,
        }
    )
    return env


def run_with_budget(fn: Callable[[], Any], *, limits: RenderLimits, clock: Callable[[], float]) -> Any:
    """Call ``fn`` (a render) with a fresh budget that every guarded operation inside it draws on."""
    token = _BUDGET.set(_Budget(limits, clock() + limits.max_seconds, clock))
    try:
        return fn()
    finally:
        _BUDGET.reset(token)
