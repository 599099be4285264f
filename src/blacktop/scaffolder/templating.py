"""``${{ }}`` templating compatible with Backstage's nunjucks usage, inside Jinja2's immutable sandbox.

Templates come from catalog authors and values from any portal user, so every render runs in
``ImmutableSandboxedEnvironment``: attribute walks such as ``''.__class__`` or
``cycler.__init__.__globals__`` raise ``SandboxViolation`` instead of silently rendering empty, and
every render has a time budget, a step budget (loops, calls, operators) and an output-size limit,
enforced by rewriting ``for`` loops and ``~`` concatenations to go through guards before compiling.

Nunjucks and Jinja differ in ways templates notice; this module closes the gaps that matter:
``true``/``false``/``null`` render as JavaScript does (not ``True``/``None``); ``===``/``!==`` work;
``null`` is a name; arrays render ``a,b`` and objects ``[object Object]``; ``x.length`` and a few
string/array methods (``includes``, ``startsWith``, ``toUpperCase``...) exist; dict keys win over dict
methods (``values.items`` is the item); ``+`` joins a string with a non-string;
``{% for k, v in obj %}`` iterates an object's entries. Whole-value typing follows Backstage's
"JSON coercion": a string that is exactly one ``${{ expr }}`` keeps the expression's type (evaluated
with a compiled expression, never ``NativeEnvironment``, so the string ``"123"`` stays a string), and
a string that renders empty disappears from the input (``OMITTED``).
"""

from __future__ import annotations

import contextvars
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import ChainableUndefined, Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from . import filters as bt_filters
from . import model
from .errors import RenderLimitExceeded, SandboxViolation, TemplateRenderError


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
    """Turns nunjucks' ``===`` and ``!==`` into ``==`` and ``!=`` at the token level (strings untouched)."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        pending: Token | None = None
        for token in stream:
            if pending is not None:
                if token.type == "assign":
                    yield pending
                    pending = None
                    continue
                yield pending
                pending = None
            if token.type in ("eq", "ne"):
                pending = token
                continue
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


def _finalize(value: Any) -> str:
    return js_string(value)


def _wrap_filter(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Budget every filter call and bound the size of what it returns."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        try:
            return _check_size(fn(*args, **kwargs))
        except bt_filters.FilterError as exc:
            raise TemplateRenderError(str(exc)) from exc

    wrapper.__name__ = getattr(fn, "__name__", "filter")
    for flag in ("jinja_pass_arg",):
        if hasattr(fn, flag):
            setattr(wrapper, flag, getattr(fn, flag))
    return wrapper


_REMOVED_FILTERS: Final = ("random", "xmlattr")
_REMOVED_GLOBALS: Final = ("lipsum", "dict", "namespace")


def _dump_filter(value: Any, spaces: Any = None) -> str:
    if isinstance(value, Undefined):
        return ""
    return bt_filters.dump(to_plain(value), spaces)


# --- the renderer ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EachItem:
    """One iteration of a step's ``each``: ``key`` (index as a string for arrays) and ``value``."""

    key: str
    value: Any


def build_context(
    *,
    parameters: Mapping[str, Any],
    steps: Mapping[str, Mapping[str, Any]] | None = None,
    user: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    environment: Mapping[str, Any] | None = None,
    task_id: str | None = None,
    each: EachItem | None = None,
) -> dict[str, Any]:
    """The variables a step input, ``if``, ``each`` or output sees, named as Backstage names them.

    ``steps`` maps step id to that step's outputs; they are reachable as ``steps.<id>.output.<name>``
    (``steps['fetch-base'].output`` for ids with dashes). ``user`` has ``entity`` and ``ref``.
    """
    context: dict[str, Any] = {
        "parameters": dict(parameters),
        "steps": {sid: {"output": dict(out)} for sid, out in (steps or {}).items()},
        "user": dict(user or {}),
        "secrets": dict(secrets or {}),
        "environment": dict(environment or {"parameters": {}, "secrets": {}}),
        "context": {"task": {"id": task_id}},
    }
    if each is not None:
        context["each"] = {"key": each.key, "value": each.value}
    return context


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every secret value replaced by ``***`` (for logs)."""
    for value in sorted((v for v in secrets.values() if isinstance(v, str) and v), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


class TemplateRenderer:
    """Renders template values, conditions, loops, outputs and skeleton files in the sandbox.

    One renderer is built per process (it caches compiled templates) with the deployment's
    ``repo_hosts`` (host -> integration type) for ``parseRepoUrl``; ``extra_filters`` lets other
    packages add filters. ``clock`` is a monotonic clock for the render time budget.
    """

    def __init__(
        self,
        *,
        limits: RenderLimits | None = None,
        repo_hosts: Mapping[str, str] | None = None,
        strict_hosts: bool = False,
        extra_filters: Mapping[str, Callable[..., Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or RenderLimits()
        self._clock = clock
        self._repo = bt_filters.RepoUrlParser(dict(repo_hosts or bt_filters.DEFAULT_REPO_HOSTS), strict=strict_hosts)
        self._extra_filters = dict(extra_filters or {})
        self._envs: dict[tuple[bool, bool, bool], _SandboxedEnvironment] = {}
        self._cache: dict[tuple[tuple[bool, bool, bool], str, str], Any] = {}

    # -- public API

    @property
    def filter_names(self) -> tuple[str, ...]:
        """Every filter a template may use, sorted."""
        return tuple(sorted(self._env().filters))

    def names_used(self, text: str) -> tuple[set[str], set[str]]:
        """The filters and the called functions a template string uses (for listings and checks)."""
        try:
            tree = self._env().parse(text)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, "") from exc
        used_filters = {node.name for node in tree.find_all(nodes.Filter)}
        called = {node.node.name for node in tree.find_all(nodes.Call) if isinstance(node.node, nodes.Name)}
        return used_filters, called

    def render_string(self, text: str, context: Mapping[str, Any], *, path: str = "") -> Any:
        """Render one template string with Backstage's JSON coercion.

        A string that is one ``${{ expr }}`` returns the expression's value with its type; a string
        that is one ``{% if %}`` block is JSON-decoded when it can be; anything else renders to a
        string. An empty result (or an undefined whole expression) returns ``OMITTED``. Strings
        without template syntax are returned unchanged.
        """
        if "${{" not in text and "{%" not in text:
            return text
        key = self._key(False, False, False)
        shape, compiled = self._compile(key, text, path)
        if shape == "expr":
            value = self._guarded(lambda: to_plain(compiled(dict(context))), path)
            return OMITTED if value is OMITTED else value
        if shape == "block":
            rendered = self._guarded(lambda: self._generate(compiled, context, json_values=True), path)
            try:
                return OMITTED if rendered == "" else json.loads(rendered)
            except ValueError:
                pass
        rendered = self._guarded(lambda: self._generate(compiled, context), path)
        return OMITTED if rendered == "" else rendered

    def render_value(self, value: Any, context: Mapping[str, Any], *, path: str = "") -> Any:
        """Render every string leaf of a YAML value; mapping keys whose value renders ``OMITTED`` are dropped."""
        if isinstance(value, str):
            return self.render_string(value, context, path=path)
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for k, v in value.items():
                rendered = self.render_value(v, context, path=f"{path}.{k}" if path else str(k))
                if rendered is not OMITTED:
                    out[str(k)] = rendered
            return out
        if isinstance(value, list):
            items = [self.render_value(v, context, path=f"{path}[{i}]") for i, v in enumerate(value)]
            return [None if v is OMITTED else v for v in items]
        return value

    def render_text(self, text: str, context: Mapping[str, Any], *, path: str = "") -> str:
        """Render a template string always to a string (messages, markdown)."""
        key = self._key(False, False, False)
        template = self._compile_template(key, text, path)
        return str(self._guarded(lambda: self._generate(template, context), path))

    def evaluate(self, expression: str, context: Mapping[str, Any], *, path: str = "") -> Any:
        """Evaluate a bare expression (``parameters.x === 'y'``) or a ``${{ }}`` string to a value."""
        if "${{" in expression or "{%" in expression:
            return self.render_string(expression, context, path=path)
        key = self._key(False, False, False)
        compiled = self._compile_expression(key, expression, path)
        return self._guarded(lambda: to_plain(compiled(dict(context))), path)

    def evaluate_if(
        self, condition: Any, context: Mapping[str, Any], *, path: str = "", task_failed: bool = False
    ) -> bool:
        """Whether a step or output item runs: its ``if`` (bool or template) after a success or failure.

        After a failure (``task_failed``) only conditions that call ``always()`` or ``failure()`` are
        evaluated; every other step is skipped, as Backstage does.
        """
        if task_failed and not uses_status_functions(condition):
            return False
        if condition is None:
            return True
        if isinstance(condition, bool):
            return condition
        status = {
            "always": lambda: True,
            "failure": lambda: task_failed,
            "success": lambda: not task_failed,
        }
        scope = {**context, **status}
        value = self.render_value(condition, scope, path=path)
        return is_truthy(value)

    def evaluate_when(self, when: Any, parameters: Mapping[str, Any], *, path: str = "") -> bool:
        """Whether a parameter page is shown; a condition that fails to render counts as true."""
        if when is None:
            return True
        if isinstance(when, bool):
            return when
        try:
            return is_truthy(self.evaluate(str(when), {"parameters": dict(parameters)}, path=path))
        except SandboxViolation:
            raise
        except TemplateRenderError:
            return True

    def expand_each(self, each: Any, context: Mapping[str, Any], *, path: str = "") -> list[EachItem]:
        """The iterations of a step's ``each``; it must render to an array or an object."""
        value = self.render_value(each, context, path=path)
        if isinstance(value, list):
            return [EachItem(str(i), v) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            return [EachItem(str(k), v) for k, v in value.items()]
        raise TemplateRenderError(
            f"{path or 'each'} must render to an array or an object, got {type(value).__name__} {value!r}; "
            "check the expression"
        )

    def render_output(
        self, output: model.TemplateOutput, context: Mapping[str, Any], *, task_failed: bool = False
    ) -> dict[str, Any]:
        """The template's output after the run: links and text whose ``if`` holds, and the other keys.

        After a failed run only items whose ``if`` calls ``always()`` or ``failure()`` are kept.
        """
        result: dict[str, Any] = {}
        groups: tuple[tuple[str, Sequence[model.OutputLink | model.OutputText]], ...] = (
            ("links", output.links),
            ("text", output.text),
        )
        for key, items in groups:
            rendered = []
            for index, item in enumerate(items):
                where = f"spec.output.{key}[{index}]"
                if not self.evaluate_if(item.condition, context, path=f"{where}.if", task_failed=task_failed):
                    continue
                body = {k: v for k, v in item.raw.items() if k != "if"}
                rendered.append(self.render_value(body, context, path=where))
            if items:
                result[key] = rendered
        for key, value in output.extra.items():
            rendered_value = self.render_value(value, context, path=f"spec.output.{key}")
            if rendered_value is not OMITTED:
                result[key] = rendered_value
        return result

    def render_file(
        self,
        text: str,
        values: Mapping[str, Any],
        *,
        cookiecutter: bool = False,
        trim_blocks: bool = False,
        lstrip_blocks: bool = False,
        path: str = "",
    ) -> str:
        """Render a skeleton file's contents or name with ``values`` (``cookiecutter`` and ``{{ }}`` in compat mode)."""
        key = self._key(cookiecutter, trim_blocks, lstrip_blocks)
        template = self._compile_template(key, text, path)
        context = {"cookiecutter" if cookiecutter else "values": dict(values)}
        return str(self._guarded(lambda: self._generate(template, context), path))

    # -- internals

    def _key(self, cookiecutter: bool, trim: bool, lstrip: bool) -> tuple[bool, bool, bool]:
        return (cookiecutter, trim, lstrip)

    def _env(self, key: tuple[bool, bool, bool] = (False, False, False)) -> _SandboxedEnvironment:
        env = self._envs.get(key)
        if env is None:
            env = self._build_env(*key)
            self._envs[key] = env
        return env

    def _build_env(self, cookiecutter: bool, trim: bool, lstrip: bool) -> _SandboxedEnvironment:
        env = _SandboxedEnvironment(
            variable_start_string="{{" if cookiecutter else "${{",
            variable_end_string="}}",
            undefined=ChainableUndefined,
            finalize=_finalize,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=trim,
            lstrip_blocks=lstrip,
            extensions=[_NunjucksOperators],
            cache_size=0,
        )
        for name in _REMOVED_FILTERS:
            env.filters.pop(name, None)
        for name in _REMOVED_GLOBALS:
            env.globals.pop(name, None)
        own: dict[str, Callable[..., Any]] = {
            "parseRepoUrl": self._repo,
            "projectSlug": self._repo.project_slug,
            "parseEntityRef": bt_filters.parse_entity_ref,
            "pick": bt_filters.pick,
            "dump": _dump_filter,
            "jsonify": _dump_filter,
            "nl2br": bt_filters.nl2br,
            **self._extra_filters,
        }
        env.filters.update(own)
        env.filters = {name: _wrap_filter(fn) for name, fn in env.filters.items()}
        env.globals.update(
            {
                "range": _safe_range_for(self.limits),
                "null": None,
                "undefined": None,
                "_bt_iter": _guarded_iter,
                "_bt_concat": _guarded_concat,
            }
        )
        return env

    def _compile(self, key: tuple[bool, bool, bool], text: str, path: str) -> tuple[str, Any]:
        cache_key = (key, "auto", text)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        env = self._env(key)
        try:
            tree = env.parse(text)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, path) from exc
        body = tree.body
        if len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1:
            sole = body[0].nodes[0]
            if not isinstance(sole, nodes.TemplateData):
                expr_tree = nodes.Template([nodes.Assign(nodes.Name("result", "store"), sole, lineno=1)], lineno=1)
                result: tuple[str, Any] = ("expr", self._from_ast(env, expr_tree, text, path))
                self._remember(cache_key, result)
                return result
        shape = "block" if len(body) == 1 and isinstance(body[0], nodes.If) else "text"
        result = (shape, self._compile_template(key, text, path))
        self._remember(cache_key, result)
        return result

    def _from_ast(self, env: _SandboxedEnvironment, tree: nodes.Template, text: str, path: str) -> Any:
        from jinja2.environment import TemplateExpression

        try:
            template = env.from_string(tree)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, path) from exc
        return TemplateExpression(template, undefined_to_none=False)

    def _compile_template(self, key: tuple[bool, bool, bool], text: str, path: str) -> Any:
        cache_key = (key, "template", text)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        try:
            template = self._env(key).from_string(text)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, path) from exc
        self._remember(cache_key, template)
        return template

    def _compile_expression(self, key: tuple[bool, bool, bool], text: str, path: str) -> Any:
        cache_key = (key, "expression", text)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        try:
            compiled = self._env(key).compile_expression(text, undefined_to_none=False)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, path) from exc
        self._remember(cache_key, compiled)
        return compiled

    def _remember(self, key: Any, value: Any) -> None:
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = value

    def _generate(self, template: Any, context: Mapping[str, Any], *, json_values: bool = False) -> str:
        chunks: list[str] = []
        size = 0
        gen = template.generate(dict(context)) if not json_values else _json_generate(template, context)
        for chunk in gen:
            size += len(chunk)
            if size > self.limits.max_output_chars:
                raise RenderLimitExceeded(
                    f"template rendering produced more than {self.limits.max_output_chars} characters"
                )
            chunks.append(chunk)
        return "".join(chunks)

    def _guarded(self, fn: Callable[[], Any], path: str) -> Any:
        budget = _Budget(self.limits, self._clock() + self.limits.max_seconds, self._clock)
        token = _BUDGET.set(budget)
        where = f" at {path}" if path else ""
        try:
            return fn()
        except (RenderLimitExceeded, SandboxViolation):
            raise
        except TemplateRenderError as exc:
            raise TemplateRenderError(f"template value{where} could not be rendered: {exc}") from exc
        except SecurityError as exc:
            raise SandboxViolation(
                f"template value{where} was refused by the sandbox: {exc}. Templates may only read "
                "parameters, steps, user, secrets and each, and use the documented filters"
            ) from exc
        except (RecursionError, MemoryError, OverflowError) as exc:
            raise RenderLimitExceeded(f"template value{where} is too complex to render: {exc}") from exc
        except TemplateError as exc:
            raise TemplateRenderError(f"template value{where} could not be rendered: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise TemplateRenderError(f"template value{where} could not be rendered: {exc}") from exc
        finally:
            _BUDGET.reset(token)


def _json_generate(template: Any, context: Mapping[str, Any]) -> Iterator[str]:
    """Render a sole ``{% if %}`` block with interpolated values JSON-encoded (Backstage's coercion)."""
    env = template.environment
    previous = env.finalize
    env.finalize = lambda v: "" if isinstance(v, Undefined) else json.dumps(to_plain(v), separators=(",", ":"))
    try:
        yield from template.generate(dict(context))
    finally:
        env.finalize = previous


def uses_status_functions(condition: Any) -> bool:
    """Whether an ``if`` calls ``always()`` or ``failure()`` and so still runs after a failed step."""
    if not isinstance(condition, str):
        return False
    compact = condition.replace(" ", "")
    return "always()" in compact or "failure()" in compact


def _syntax_error(exc: TemplateSyntaxError, text: str, path: str) -> TemplateRenderError:
    where = f" at {path}" if path else ""
    snippet = text if len(text) <= 120 else text[:117] + "..."
    return TemplateRenderError(
        f"template value{where} has a syntax error on line {exc.lineno}: {exc.message}; in {snippet!r}"
    )
