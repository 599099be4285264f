"""Template parameter forms: JSON Schema pages to HTML fields, and submitted fields back to typed values.

Pure code. ``form_pages`` reads the pages ``ScaffolderService.parameter_schema`` returns (the
same body as ``GET /v2/templates/…/parameter-schema``) and describes one field per property:
``enum`` becomes a select, ``boolean`` a checkbox, numbers a number input, ``pattern``,
``maxLength``, ``minimum``/``maximum`` and ``required`` become HTML attributes, ``default``
pre-fills, ``ui:help`` and ``description`` become help text. ``parse_values`` converts the
browser's strings back to the schema's types; a string that does not convert is passed on
unchanged, so the scaffolder's own validation reports it with the message the API gives.
Validation itself is never done here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Field:
    """One form control for one top-level property of a parameter page."""

    name: str
    label: str
    widget: str
    """``text``, ``textarea``, ``password``, ``number``, ``checkbox``, ``select``, ``multiselect`` or ``json``."""
    required: bool = False
    help: str = ""
    options: tuple[Option, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    """Extra HTML attributes (pattern, maxlength, min, max, step), already strings."""
    default: str = ""
    default_list: tuple[str, ...] = ()
    autofocus: bool = False
    picker_kinds: tuple[str, ...] = ()
    """Catalog kinds whose entity refs the field suggests (``ui:field`` OwnerPicker / EntityPicker)."""


@dataclass(frozen=True, slots=True)
class Page:
    """A parameter page: a fieldset with a legend."""

    title: str
    description: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    conditional: bool = False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _options(schema: Mapping[str, Any]) -> tuple[Option, ...]:
    values = list(schema.get("enum") or [])
    names = schema.get("enumNames") or (schema.get("ui:options") or {}).get("enumNames") or []
    return tuple(Option(_text(v), str(names[i]) if i < len(names) else _text(v)) for i, v in enumerate(values))


def _attributes(schema: Mapping[str, Any], widget: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    if widget in ("text", "textarea", "password"):
        for keyword, attribute in (("pattern", "pattern"), ("maxLength", "maxlength"), ("minLength", "minlength")):
            if keyword in schema:
                found.append((attribute, _text(schema[keyword])))
    if widget == "number":
        for keyword, attribute in (("minimum", "min"), ("maximum", "max")):
            if keyword in schema:
                found.append((attribute, _text(schema[keyword])))
        found.append(("step", "1" if schema.get("type") == "integer" else "any"))
    return tuple(found)


def _widget(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    ui_widget = str(schema.get("ui:widget") or "")
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        items = schema.get("items")
        return "multiselect" if isinstance(items, Mapping) and items.get("enum") else "lines"
    if "enum" in schema:
        return "select"
    if kind in ("integer", "number"):
        return "number"
    if kind == "object":
        return "json"
    if ui_widget in ("textarea", "password"):
        return ui_widget
    return "text"


PICKER_DEFAULT_KINDS: dict[str, tuple[str, ...]] = {
    "OwnerPicker": ("Group", "User"),
    "EntityPicker": (),
    "OwnedEntityPicker": (),
    "MyGroupsPicker": ("Group",),
}
"""Backstage's entity pickers and the kinds each offers when the template does not narrow them."""


def picker_kinds(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The kinds an entity-picker field offers: ``ui:options.allowedKinds``, ``catalogFilter.kind``, or the default."""
    picker = str(schema.get("ui:field") or "")
    if picker not in PICKER_DEFAULT_KINDS or schema.get("type") not in (None, "string"):
        return ()
    options = schema.get("ui:options") or {}
    allowed = options.get("allowedKinds")
    if isinstance(allowed, list) and allowed:
        return tuple(str(k) for k in allowed)
    filters = options.get("catalogFilter")
    kinds: list[str] = []
    for entry in filters if isinstance(filters, list) else [filters]:
        kind = entry.get("kind") if isinstance(entry, Mapping) else None
        kinds += [str(k) for k in kind] if isinstance(kind, list) else [str(kind)] if kind else []
    return tuple(dict.fromkeys(kinds)) or PICKER_DEFAULT_KINDS[picker]


def describe_field(name: str, schema: Mapping[str, Any], *, required: bool) -> Field:
    """The form control for property ``name``."""
    widget = _widget(schema)
    help_text = " ".join(str(t) for t in (schema.get("description"), schema.get("ui:help")) if t)
    default = schema.get("default")
    options = _options(schema["items"]) if widget == "multiselect" else _options(schema)
    return Field(
        name=name,
        label=str(schema.get("title") or name),
        widget=widget,
        required=required,
        help=help_text,
        options=options,
        attributes=_attributes(schema, widget),
        default="\n".join(_text(v) for v in default) if widget == "lines" and isinstance(default, list)
        else _text(default),
        default_list=tuple(_text(v) for v in default) if isinstance(default, list) else (),
        autofocus=bool(schema.get("ui:autofocus")),
        picker_kinds=picker_kinds(schema),
    )  # fmt: skip


def form_pages(parameter_schema: Mapping[str, Any]) -> list[Page]:
    """One ``Page`` per step of the parameter schema, one ``Field`` per top-level property."""
    pages = []
    for step in parameter_schema.get("steps") or []:
        schema = step.get("schema") or {}
        required = set(schema.get("required") or [])
        properties = schema.get("properties") or {}
        fields = tuple(
            describe_field(str(name), prop, required=name in required)
            for name, prop in properties.items()
            if isinstance(prop, Mapping)
        )
        pages.append(
            Page(
                title=str(step.get("title") or ""),
                description=str(step.get("description") or ""),
                fields=fields,
                conditional="when" in step,
            )
        )
    return pages


def _number(text: str, *, integer: bool) -> Any:
    try:
        return int(text) if integer else float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text


def _convert(widget: str, schema_type: str, raw: Sequence[str]) -> tuple[bool, Any]:
    """(present, value) for one field's submitted strings."""
    if widget == "checkbox":
        return True, any(v in ("true", "on", "1") for v in raw)
    if widget == "multiselect":
        return bool(raw), list(raw)
    text = raw[0] if raw else ""
    if widget == "lines":
        items = [line.strip() for line in text.splitlines() if line.strip()]
        return bool(items), items
    if text.strip() == "":
        return False, None
    if widget == "number":
        return True, _number(text.strip(), integer=schema_type == "integer")
    if widget == "json":
        try:
            return True, json.loads(text)
        except ValueError:
            return True, text
    return True, text


def parse_values(parameter_schema: Mapping[str, Any], form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The template values a submitted form holds; empty fields are left out so defaults and ``required`` apply."""
    values: dict[str, Any] = {}
    for step in parameter_schema.get("steps") or []:
        properties = (step.get("schema") or {}).get("properties") or {}
        for name, prop in properties.items():
            if not isinstance(prop, Mapping) or name in values:
                continue
            present, value = _convert(_widget(prop), str(prop.get("type") or ""), list(form.get(name) or []))
            if present:
                values[str(name)] = value
    return values


def field_errors(problems: Sequence[Any], names: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems split into those of a form field (by the first segment of their path) and the rest."""
    known = set(names)
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for problem in problems:
        path = str(getattr(problem, "path", "") or "")
        head = path.split(".", 1)[0].split("[", 1)[0]
        if head in known:
            by_field.setdefault(head, []).append(str(problem.message))
        else:
            other.append(f"{path}: {problem.message}" if path else str(problem.message))
    return by_field, other
