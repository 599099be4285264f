"""Rendering template values the way Backstage's scaffolder does: ``${{ }}`` strings, conditions, loops.

``TemplateRenderer`` is the one entry point: step inputs (``render_value``), ``if`` (``evaluate_if``
with ``always()``/``failure()``), ``each`` (``expand_each``), page ``when`` (``evaluate_when``),
template output (``render_output``) and skeleton files (``render_file``). Everything renders inside
the sandbox built by ``sandboxing``. Whole-value typing follows Backstage's "JSON coercion": a string
that is exactly one ``${{ expr }}`` keeps the expression's type (evaluated as a compiled expression,
never with ``NativeEnvironment``, so the string ``"123"`` stays a string); a string that is one
``{% if %}`` block is JSON-decoded when it can be; a string that renders empty disappears from its
mapping (``OMITTED``). Unlike Backstage, a render error is raised (with the value's path) rather
than leaving the raw string in place, so template mistakes surface at the step that has them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError

from . import filters as bt_filters
from . import model
from .errors import RenderLimitExceeded, SandboxViolation, TemplateRenderError
from .sandboxing import (
    OMITTED,
    RenderLimits,
    SandboxedEnvironment,
    build_environment,
    is_truthy,
    js_string,
    json_mode,
    run_with_budget,
    to_plain,
)

__all__ = [
    "OMITTED",
    "EachItem",
    "RenderLimits",
    "TemplateRenderer",
    "build_context",
    "is_truthy",
    "js_string",
    "redact",
    "to_plain",
    "uses_status_functions",
]

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
        self._envs: dict[tuple[bool, bool, bool], SandboxedEnvironment] = {}
        self._cache: dict[tuple[tuple[bool, bool, bool], str, str], Any] = {}

    # -- public API

    @property
    def filter_names(self) -> tuple[str, ...]:
        """Every filter a template may use, sorted."""
        return tuple(sorted(self._env().filters))

    def describe_extensions(self) -> dict[str, Any]:
        """Filters and globals as ``GET /v2/templating-extensions`` lists them (name -> description)."""
        env = self._env()
        filters = {name: {"description": _summary(fn)} for name, fn in sorted(env.filters.items())}
        functions = {name: {"description": _summary(fn)} for name, fn in sorted(env.globals.items())}
        functions = {k: v for k, v in functions.items() if not k.startswith("_") and k not in ("null", "undefined")}
        for name, text in (("always", "True: run even after a failed step"), ("failure", "True after a failed step")):
            functions[name] = {"description": text}
        return {"filters": filters, "globals": {"functions": functions, "values": {}}}

    def parse(self, text: str) -> nodes.Template:
        """The Jinja syntax tree of a template string (for linting); raises ``TemplateRenderError``."""
        try:
            return self._env().parse(text)
        except TemplateSyntaxError as exc:
            raise _syntax_error(exc, text, "") from exc

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

    def _env(self, key: tuple[bool, bool, bool] = (False, False, False)) -> SandboxedEnvironment:
        env = self._envs.get(key)
        if env is None:
            env = self._build_env(*key)
            self._envs[key] = env
        return env

    def _build_env(self, cookiecutter: bool, trim: bool, lstrip: bool) -> SandboxedEnvironment:
        own: dict[str, Callable[..., Any]] = {
            "parseRepoUrl": self._repo,
            "projectSlug": self._repo.project_slug,
            "parseEntityRef": bt_filters.parse_entity_ref,
            "pick": bt_filters.pick,
            "nl2br": bt_filters.nl2br,
            **self._extra_filters,
        }
        return build_environment(
            cookiecutter=cookiecutter, trim_blocks=trim, lstrip_blocks=lstrip, limits=self.limits, filters=own
        )

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

    def _from_ast(self, env: SandboxedEnvironment, tree: nodes.Template, text: str, path: str) -> Any:
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
        with json_mode(json_values):
            return "".join(self._chunks(template, context))

    def _chunks(self, template: Any, context: Mapping[str, Any]) -> Any:
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            if size > self.limits.max_output_chars:
                raise RenderLimitExceeded(
                    f"template rendering produced more than {self.limits.max_output_chars} characters"
                )
            yield chunk

    def _guarded(self, fn: Callable[[], Any], path: str) -> Any:
        where = f" at {path}" if path else ""
        try:
            return run_with_budget(fn, limits=self.limits, clock=self._clock)
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


def _summary(fn: Any) -> str:
    target = getattr(fn, "__wrapped__", fn)
    doc = getattr(target, "__doc__", None) or ""
    if isinstance(target, bt_filters.RepoUrlParser):
        doc = type(target).__call__.__doc__ or ""
    return doc.strip().split("\n")[0]
