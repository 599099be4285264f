"""The Software Template document (``scaffolder.backstage.io/v1beta3``) as plain frozen values.

Parsing turns a catalog entity (or a template file) into ``Template``: parameter pages, steps and
output, each still holding the *unrendered* ``${{ }}`` strings; rendering happens later with the
task's context (``templating``). Parsing reports every structural problem with its field path at
once, the way the catalog validates entities, so an author can fix a template in one pass. Values
are kept as the author wrote them (``raw``) for the task spec and the parameter-schema endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from blacktop.kernel.errors import Problem

from .errors import InvalidTemplate

API_VERSION: Final = "scaffolder.backstage.io/v1beta3"
"""The only Template apiVersion blacktop runs (v1beta2 and older used handlebars)."""

KIND: Final = "Template"
DEFAULT_NAMESPACE: Final = "default"


@dataclass(frozen=True, slots=True)
class ParameterPage:
    """One wizard page: a JSON Schema object (``ui:*`` keys kept) and an optional ``when`` condition.

    ``when`` is None for an always-visible page, else a bool or a ``${{ }}`` (or bare) expression over
    ``parameters``. ``schema`` is the page as written without ``when``.
    """

    schema: Mapping[str, Any]
    title: str | None = None
    description: str | None = None
    when: Any = None


@dataclass(frozen=True, slots=True)
class Step:
    """One step: an action id, its unrendered input, and the optional ``if`` and ``each``."""

    id: str
    name: str
    action: str
    input: Mapping[str, Any] = field(default_factory=dict)
    condition: Any = None
    each: Any = None
    permission_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutputLink:
    """A link shown after the run (``url`` or ``entityRef``), dropped when its ``if`` is falsy."""

    raw: Mapping[str, Any]

    @property
    def condition(self) -> Any:
        """The unrendered ``if`` value, None when absent."""
        return self.raw.get("if")


@dataclass(frozen=True, slots=True)
class OutputText:
    """A markdown block shown after the run, dropped when its ``if`` is falsy."""

    raw: Mapping[str, Any]

    @property
    def condition(self) -> Any:
        """The unrendered ``if`` value, None when absent."""
        return self.raw.get("if")


@dataclass(frozen=True, slots=True)
class TemplateOutput:
    """The template's ``output``: ``links``, ``text`` and any other keys (string templates)."""

    links: tuple[OutputLink, ...] = ()
    text: tuple[OutputText, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed v1beta3 Template; ``raw`` is the whole document as given."""

    name: str
    namespace: str
    type: str
    steps: tuple[Step, ...]
    parameters: tuple[ParameterPage, ...] = ()
    output: TemplateOutput = field(default_factory=TemplateOutput)
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    lifecycle: str | None = None
    tags: tuple[str, ...] = ()
    secrets_schema: Mapping[str, Any] | None = None
    presentation: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """The template's entity ref, ``template:<namespace>/<name>``."""
        return f"template:{self.namespace}/{self.name}"

    def step(self, step_id: str) -> Step | None:
        """The step with ``step_id``, or None."""
        return next((s for s in self.steps if s.id == step_id), None)


def parse_template_yaml(text: str, *, source: str | None = None) -> Template:
    """Parse a template file's YAML text (one document) and then the document itself."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InvalidTemplate(
            f"template {source or ''} is not valid YAML: {exc}".replace("  ", " "),
            problems=[Problem(path="", message=str(exc), document=source, line=line)],
        ) from exc
    return parse_template(document, source=source)


def parse_template(document: Any, *, source: str | None = None) -> Template:
    """Parse a Template document, reporting every structural problem with its path at once."""
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(path=path, message=message, document=source))

    if not isinstance(document, Mapping):
        raise InvalidTemplate(
            f"template {source or ''} must be a YAML mapping with apiVersion, kind, metadata and spec",
            problems=[Problem(path="", message="must be a mapping", document=source)],
        )
    if document.get("apiVersion") != API_VERSION:
        bad("apiVersion", f"must be {API_VERSION!r}, got {document.get('apiVersion')!r}")
    if document.get("kind") != KIND:
        bad("kind", f"must be 'Template', got {document.get('kind')!r}")
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        bad("metadata.name", "is required and must be a string")
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        bad("spec", "is required and must be a mapping")
        spec = {}
    kind_type = spec.get("type")
    if not isinstance(kind_type, str) or not kind_type:
        bad("spec.type", "is required and must be a string naming what the template creates (service, website, ...)")
    pages = _parse_pages(spec.get("parameters"), bad)
    steps = _parse_steps(spec.get("steps"), bad)
    output = _parse_output(spec.get("output"), bad)
    secrets = spec.get("secrets")
    secrets_schema = None
    if secrets is not None:
        if isinstance(secrets, Mapping) and isinstance(secrets.get("schema", {}), Mapping):
            secrets_schema = secrets.get("schema")
        else:
            bad("spec.secrets", "must be a mapping with a 'schema' JSON Schema object")
    for key in ("owner", "lifecycle"):
        if spec.get(key) is not None and not isinstance(spec.get(key), str):
            bad(f"spec.{key}", "must be a string")
    if problems:
        label = f"{metadata.get('namespace') or DEFAULT_NAMESPACE}/{name}" if isinstance(name, str) else "?"
        raise InvalidTemplate(
            f"template {label!r} is invalid: {len(problems)} problem(s); fix each listed field", problems=problems
        )
    tags = metadata.get("tags") or ()
    return Template(
        name=str(name),
        namespace=str(metadata.get("namespace") or DEFAULT_NAMESPACE),
        type=str(kind_type),
        steps=steps,
        parameters=pages,
        output=output,
        title=_opt_str(metadata.get("title")),
        description=_opt_str(metadata.get("description")),
        owner=_opt_str(spec.get("owner")),
        lifecycle=_opt_str(spec.get("lifecycle")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, Sequence) and not isinstance(tags, str) else (),
        secrets_schema=secrets_schema,
        presentation=spec.get("presentation") if isinstance(spec.get("presentation"), Mapping) else None,
        raw=document,
    )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _parse_pages(value: Any, bad: Any) -> tuple[ParameterPage, ...]:
    if value is None:
        return ()
    listed = value if isinstance(value, list) else [value]
    if not isinstance(value, list | Mapping):
        bad("spec.parameters", "must be a JSON Schema object or a list of them (one per page)")
        return ()
    pages: list[ParameterPage] = []
    for index, page in enumerate(listed):
        path = f"spec.parameters[{index}]" if isinstance(value, list) else "spec.parameters"
        if not isinstance(page, Mapping):
            bad(path, "must be a JSON Schema object with properties")
            continue
        if "properties" in page and not isinstance(page["properties"], Mapping):
            bad(f"{path}.properties", "must be a mapping of field name to JSON Schema")
        if "required" in page and not (
            isinstance(page["required"], list) and all(isinstance(r, str) for r in page["required"])
        ):
            bad(f"{path}.required", "must be a list of field names")
        when = page.get("when")
        if when is not None and not isinstance(when, bool | str):
            bad(f"{path}.when", "must be a boolean or a ${{ }} expression over parameters")
        schema = {k: v for k, v in page.items() if k != "when"}
        pages.append(
            ParameterPage(
                schema=schema,
                title=_opt_str(page.get("title")),
                description=_opt_str(page.get("description")),
                when=when,
            )
        )
    return tuple(pages)


def _parse_steps(value: Any, bad: Any) -> tuple[Step, ...]:
    if not isinstance(value, list):
        bad("spec.steps", "is required and must be a list of steps")
        return ()
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        path = f"spec.steps[{index}]"
        if not isinstance(raw, Mapping):
            bad(path, "must be a mapping with at least an 'action'")
            continue
        step_id = raw.get("id", f"step-{index + 1}")
        action = raw.get("action")
        if not isinstance(step_id, str) or not step_id:
            bad(f"{path}.id", "must be a non-empty string")
            step_id = f"step-{index + 1}"
        elif step_id in seen:
            bad(f"{path}.id", f"step id {step_id!r} is used twice; step ids must be unique")
        seen.add(step_id)
        if not isinstance(action, str) or not action:
            bad(f"{path}.action", "is required and must name an action, such as 'fetch:template'")
            action = ""
        step_input = raw.get("input", {})
        if step_input is None:
            step_input = {}
        if not isinstance(step_input, Mapping):
            bad(f"{path}.input", "must be a mapping of input names to values")
            step_input = {}
        name = raw.get("name")
        permissions = raw.get("backstage:permissions")
        tags = permissions.get("tags", ()) if isinstance(permissions, Mapping) else ()
        steps.append(
            Step(
                id=step_id,
                name=name if isinstance(name, str) and name else action,
                action=action,
                input=step_input,
                condition=raw.get("if"),
                each=raw.get("each"),
                permission_tags=tuple(str(t) for t in tags or ()),
            )
        )
    return tuple(steps)


def _parse_output(value: Any, bad: Any) -> TemplateOutput:
    if value is None:
        return TemplateOutput()
    if not isinstance(value, Mapping):
        bad("spec.output", "must be a mapping with 'links', 'text' and other named values")
        return TemplateOutput()
    links: list[OutputLink] = []
    texts: list[OutputText] = []
    for key, cls, sink in (("links", OutputLink, links), ("text", OutputText, texts)):
        items = value.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            bad(f"spec.output.{key}", "must be a list")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                bad(f"spec.output.{key}[{index}]", "must be a mapping")
                continue
            sink.append(cls(raw=item))  # type: ignore[arg-type]
    extra = {k: v for k, v in value.items() if k not in ("links", "text")}
    return TemplateOutput(links=tuple(links), text=tuple(texts), extra=extra)
