"""Checking a template before anyone runs it: the mistakes a run would otherwise find one at a time.

``lint_template`` reports, each with its field path: parameter pages that are not valid JSON
Schema, ``${{ }}`` values with syntax errors, unknown filters or sandbox-escape attempts
(``''.__class__``), references to steps that do not exist or run later (``steps.publish.output``
before ``publish``), and actions nobody registered.
It is what ``blacktop template validate`` and the catalog's template processing can show, so authors
see every problem at once instead of a failed task per mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes

from blacktop.kernel.errors import BlacktopError, Problem

from . import model
from .actions import ActionRegistry
from .parameters import check_template_schemas
from .templating import TemplateRenderer

_STATUS_FUNCTIONS = frozenset({"always", "failure", "success", "range", "cycler", "joiner"})


def lint_template(
    template: model.Template, *, renderer: TemplateRenderer, registry: ActionRegistry | None = None
) -> list[Problem]:
    """Every problem found in ``template`` without running it, ordered as they appear."""
    problems: list[Problem] = []
    try:
        check_template_schemas(template)
    except BlacktopError as exc:
        problems.extend(getattr(exc, "problems", ()))
    step_ids = [s.id for s in template.steps]
    for index, page in enumerate(template.parameters):
        if isinstance(page.when, str):
            text = page.when if "${{" in page.when else "${{ " + page.when + " }}"
            problems += _check_text(text, f"spec.parameters[{index}].when", renderer, earlier=[], known=step_ids)
    for index, step in enumerate(template.steps):
        where = f"spec.steps[{index}]"
        if registry is not None and step.action and step.action not in registry:
            problems.append(Problem(path=f"{where}.action", message=f"action {step.action!r} is not registered"))
        earlier = step_ids[:index]
        for path, text in _strings({"input": step.input, "if": step.condition, "each": step.each}, where):
            problems += _check_text(text, path, renderer, earlier=earlier, known=step_ids)
    output = {"links": [link.raw for link in template.output.links], "text": [t.raw for t in template.output.text]}
    for path, text in _strings({**output, **dict(template.output.extra)}, "spec.output"):
        problems += _check_text(text, path, renderer, earlier=step_ids, known=step_ids)
    return problems


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if "${{" in value or "{%" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _check_text(
    text: str, path: str, renderer: TemplateRenderer, *, earlier: list[str], known: list[str]
) -> list[Problem]:
    try:
        used_filters, called = renderer.names_used(text)
        tree = renderer.parse(text)
    except BlacktopError as exc:
        return [Problem(path=path, message=str(exc))]
    problems = []
    unknown = sorted(used_filters - set(renderer.filter_names))
    if unknown:
        problems.append(Problem(path=path, message=f"unknown filter(s) {', '.join(unknown)}"))
    strange = sorted(called - _STATUS_FUNCTIONS)
    if strange:
        problems.append(Problem(path=path, message=f"unknown function(s) {', '.join(strange)}()"))
    for name in _private_names(tree):
        problems.append(
            Problem(path=path, message=f"reaches for {name!r}; the sandbox refuses names starting with '_'")
        )
    for step_id in _step_references(tree):
        if step_id not in known:
            problems.append(Problem(path=path, message=f"refers to step {step_id!r}, which the template does not have"))
        elif step_id not in earlier:
            problems.append(
                Problem(path=path, message=f"refers to step {step_id!r}, which has not run yet at this point")
            )
    return problems


def _private_names(tree: nodes.Template) -> list[str]:
    """Attributes and keys starting with ``_`` (``''.__class__``-style walks), which rendering refuses anyway."""
    found = [attr.attr for attr in tree.find_all(nodes.Getattr) if attr.attr.startswith("_")]
    for item in tree.find_all(nodes.Getitem):
        if isinstance(item.arg, nodes.Const) and isinstance(item.arg.value, str) and item.arg.value.startswith("_"):
            found.append(item.arg.value)
    return list(dict.fromkeys(found))


def _step_references(tree: nodes.Template) -> list[str]:
    found: list[str] = []
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name) and attr.node.name == "steps":
            found.append(attr.attr)
    for item in tree.find_all(nodes.Getitem):
        is_steps = isinstance(item.node, nodes.Name) and item.node.name == "steps"
        if is_steps and isinstance(item.arg, nodes.Const) and isinstance(item.arg.value, str):
            found.append(item.arg.value)
    return list(dict.fromkeys(found))
