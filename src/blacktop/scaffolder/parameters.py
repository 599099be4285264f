"""Checking the values a user submits against a template's parameter pages, as Backstage does.

Each visible page is a JSON Schema (draft 7, the dialect react-jsonschema-form and Backstage's
backend validate with: ``dependencies``, ``oneOf``, ``if/then/else``, formats) checked against the
whole values object. Pages whose ``when`` is false are hidden: not validated, their values removed.
Defaults are applied page by page before validation, so the CLI and API behave like the portal form.

The design's ``depends:`` shorthand on a property (``databaseEngine: {depends: {needsDatabase:
true}}``) means "this field applies only when those fields have those values": its default and its
``required`` entry count only then, and a value given while the condition is false is reported. The
portal receives it as standard ``if/then`` so the form shows the field at the right moment.

Every problem is reported at once, located by field path (``advanced_section.replicas``), in words a
person understands ("Service Name must match the pattern ..."), or in the template's own words where
the property gives ``errorMessage`` / ``ui:errorMessage`` (a string, or one per keyword).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from blacktop.kernel.errors import Problem
from blacktop.kernel.schemas import format_path

from . import model
from .errors import InvalidParameters, InvalidTemplate
from .templating import TemplateRenderer

_FORMATS: Final = FormatChecker()
for _name, _check in Draft7Validator.FORMAT_CHECKER.checkers.items():
    _FORMATS.checkers[_name] = _check


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        if "T" not in value.upper() or len(value) < 20:
            raise ValueError("not an RFC 3339 date-time")
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@_FORMATS.checks("time", raises=ValueError)
def _is_time(value: object) -> bool:
    if isinstance(value, str):
        dt.time.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


_TYPE_WORDS: Final = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "empty",
}
_FORMAT_WORDS: Final = {
    "email": "an email address",
    "uri": "a URL with a scheme, such as https://example.com",
    "date": "a date (YYYY-MM-DD)",
    "date-time": "a date and time (YYYY-MM-DDTHH:MM:SSZ)",
    "time": "a time (HH:MM:SS)",
    "ipv4": "an IPv4 address",
    "ipv6": "an IPv6 address",
}


# --- schemas for the portal and for validation -------------------------------------------------


def page_schema(page: model.ParameterPage) -> dict[str, Any]:
    """The page as a standard JSON Schema object for the portal form: ``depends`` becomes ``if/then``."""
    schema = copy.deepcopy(dict(page.schema))
    schema.setdefault("type", "object")
    properties = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])
    conditions: list[dict[str, Any]] = []
    for name, prop in list(properties.items()):
        if not isinstance(prop, Mapping) or not isinstance(prop.get("depends"), Mapping):
            continue
        condition = dict(prop["depends"])
        field = {k: v for k, v in prop.items() if k != "depends"}
        del properties[name]
        then: dict[str, Any] = {"properties": {name: field}}
        if name in required:
            required.remove(name)
            then["required"] = [name]
        conditions.append({"if": _condition_schema(condition), "then": then})
    schema["properties"] = properties
    if "required" in schema or required:
        schema["required"] = required
    if conditions:
        schema["allOf"] = [*list(schema.get("allOf") or []), *conditions]
    return schema


def parameter_schema(template: model.Template) -> dict[str, Any]:
    """The body of ``GET /v2/templates/{ns}/{kind}/{name}/parameter-schema``: one merged schema per page."""
    steps = []
    for page in template.parameters:
        entry: dict[str, Any] = {
            "title": page.title or "Please enter the following information",
            "schema": page_schema(page),
        }
        if page.description:
            entry["description"] = page.description
        if page.when is not None:
            entry["when"] = page.when
        steps.append(entry)
    body: dict[str, Any] = {"title": template.title or template.name, "steps": steps}
    if template.description:
        body["description"] = template.description
    return body


def _condition_schema(condition: Mapping[str, Any]) -> dict[str, Any]:
    props = {k: ({"enum": list(v)} if isinstance(v, list) else {"const": v}) for k, v in condition.items()}
    return {"properties": props, "required": list(condition)}


def _validation_schema(page: model.ParameterPage) -> dict[str, Any]:
    """The page for the validator: ``depends`` fields keep their own schema, their ``required`` moves out."""
    schema = {k: v for k, v in page.schema.items() if k not in ("title", "description")}
    schema.setdefault("type", "object")
    depends = _depends_of(page)
    if depends and "required" in schema:
        schema["required"] = [r for r in schema["required"] if r not in depends]
    return schema


def _depends_of(page: model.ParameterPage) -> dict[str, Mapping[str, Any]]:
    properties = page.schema.get("properties") or {}
    return {
        name: prop["depends"]
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and isinstance(prop.get("depends"), Mapping)
    }


def _condition_holds(condition: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    for key, wanted in condition.items():
        actual = values.get(key)
        if isinstance(wanted, list):
            if actual not in wanted:
                return False
        elif actual != wanted:
            return False
    return True


def secret_fields(template: model.Template) -> list[str]:
    """Top-level fields whose ``ui:field`` is ``Secret``: the portal sends them as task secrets, not values."""
    names: list[str] = []
    for page in template.parameters:
        for name, prop in (page.schema.get("properties") or {}).items():
            if isinstance(prop, Mapping) and prop.get("ui:field") == "Secret" and name not in names:
                names.append(name)
    return names


def check_template_schemas(template: model.Template) -> None:
    """Raise ``InvalidTemplate`` if a page is not a valid JSON Schema (a template author's mistake)."""
    problems: list[Problem] = []
    for index, page in enumerate(template.parameters):
        try:
            Draft7Validator.check_schema(_validation_schema(page))
        except Exception as exc:  # jsonschema.SchemaError carries a path
            where = format_path(list(getattr(exc, "absolute_path", [])))
            problems.append(
                Problem(
                    path=f"spec.parameters[{index}]" + (f".{where}" if where else ""), message=str(exc).split("\n")[0]
                )
            )
    if problems:
        raise InvalidTemplate(f"template {template.ref!r} has invalid parameter schemas", problems=problems)


# --- defaults, visibility and validation -------------------------------------------------------


def prepare_values(
    template: model.Template, values: Mapping[str, Any], *, renderer: TemplateRenderer
) -> tuple[dict[str, Any], list[int]]:
    """Apply defaults page by page and work out which pages are visible.

    Returns the values with defaults (hidden pages' fields removed) and the indexes of visible pages.
    """
    result = copy.deepcopy(dict(values))
    visible: list[int] = []
    hidden_fields: set[str] = set()
    shown_fields: set[str] = set()
    for index, page in enumerate(template.parameters):
        fields = set((page.schema.get("properties") or {}).keys())
        if not renderer.evaluate_when(page.when, result, path=f"spec.parameters[{index}].when"):
            hidden_fields |= fields
            continue
        visible.append(index)
        shown_fields |= fields
        _apply_page_defaults(page, result)
    for name in hidden_fields - shown_fields:
        result.pop(name, None)
    return result, visible


def _apply_page_defaults(page: model.ParameterPage, values: dict[str, Any]) -> None:
    depends = _depends_of(page)
    for name, prop in (page.schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping) or (name in depends and not _condition_holds(depends[name], values)):
            continue
        if name not in values:
            default = _default_of(prop)
            if default is not _NO_DEFAULT:
                values[name] = default
        elif isinstance(values[name], dict):
            values[name] = _fill_nested(values[name], prop)


_NO_DEFAULT: Final = object()


def _default_of(prop: Mapping[str, Any]) -> Any:
    if "default" in prop:
        return copy.deepcopy(prop["default"])
    if prop.get("type") == "object" and isinstance(prop.get("properties"), Mapping):
        nested = _fill_nested({}, prop)
        return nested if nested else _NO_DEFAULT
    return _NO_DEFAULT


def _fill_nested(value: dict[str, Any], prop: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(value)
    for name, sub in (prop.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if name not in out:
            default = _default_of(sub)
            if default is not _NO_DEFAULT:
                out[name] = default
        elif isinstance(out[name], dict):
            out[name] = _fill_nested(out[name], sub)
    return out


def problems_in(template: model.Template, values: Mapping[str, Any], *, renderer: TemplateRenderer) -> list[Problem]:
    """Every problem with ``values`` (defaults applied, hidden pages skipped), ordered by path, deduplicated."""
    prepared, visible = prepare_values(template, values, renderer=renderer)
    return _problems_for(template, prepared, visible)


def _problems_for(template: model.Template, prepared: Mapping[str, Any], visible: Sequence[int]) -> list[Problem]:
    problems: dict[tuple[str, str], Problem] = {}
    for index in visible:
        page = template.parameters[index]
        validator = Draft7Validator(_validation_schema(page), format_checker=_FORMATS)
        for error in validator.iter_errors(prepared):
            for problem in _describe(error, page.schema):
                problems.setdefault((problem.path, problem.message), problem)
        for problem in _depends_problems(page, prepared):
            problems.setdefault((problem.path, problem.message), problem)
    return sorted(problems.values(), key=lambda p: p.path)


def validate_values(
    template: model.Template, values: Mapping[str, Any], *, renderer: TemplateRenderer
) -> dict[str, Any]:
    """Values ready for a task: defaults applied, hidden pages' fields removed; raises ``InvalidParameters``."""
    prepared, visible = prepare_values(template, values, renderer=renderer)
    problems = _problems_for(template, prepared, visible)
    if problems:
        fields = ", ".join(dict.fromkeys(p.path for p in problems))
        raise InvalidParameters(
            f"the values for template {template.ref!r} are invalid: {len(problems)} problem(s) in {fields}; "
            "correct each field and submit again",
            problems=problems,
        )
    return prepared


def validate_secrets(template: model.Template, secrets: Mapping[str, Any]) -> None:
    """Check task secrets against ``spec.secrets.schema``; values are never echoed in messages."""
    if template.secrets_schema is None:
        return
    schema = {"type": "object", **dict(template.secrets_schema)}
    problems = []
    for error in Draft7Validator(schema).iter_errors(dict(secrets)):
        parts = list(error.absolute_path)
        if error.validator == "required":
            parts.append(_missing_name(error))
        problems.append(Problem(path=format_path(["secrets", *parts]), message=f"{error.validator} check failed"))
    if problems:
        raise InvalidParameters(f"the secrets for template {template.ref!r} are invalid", problems=problems)


def _depends_problems(page: model.ParameterPage, values: Mapping[str, Any]) -> list[Problem]:
    problems = []
    required = set(page.schema.get("required") or [])
    properties = page.schema.get("properties") or {}
    for name, condition in _depends_of(page).items():
        title = _title(properties.get(name), name)
        described = " and ".join(f"{k} is {_show(v)}" for k, v in condition.items())
        holds = _condition_holds(condition, values)
        if holds and name in required and name not in values:
            message = _custom(properties.get(name), "required") or f"{title} is required when {described}"
            problems.append(Problem(path=name, message=message))
        if not holds and name in values:
            problems.append(Problem(path=name, message=f"{title} only applies when {described}; leave it out"))
    return problems


# --- turning validator errors into sentences ----------------------------------------------------


def _describe(error: ValidationError, page: Mapping[str, Any]) -> list[Problem]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        chosen = _chosen_branch(error)
        if chosen:
            return [p for sub in chosen for p in _describe(sub, page)]
    parts = list(error.absolute_path)
    field_schema: Any = error.schema
    if error.validator == "required":
        missing = _missing_name(error)
        parts.append(missing)
        field_schema = (
            (error.schema.get("properties") or {}).get(missing) if isinstance(error.schema, Mapping) else None
        )
    elif error.validator == "dependencies":
        missing = _missing_name(error)
        if missing:
            parts.append(missing)
            field_schema = _property_at(page, parts)
    elif error.validator == "additionalProperties":
        extra = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(extra)
    if not (isinstance(field_schema, Mapping) and "title" in field_schema):
        field_schema = _property_at(page, parts) or field_schema
    path = format_path(parts)
    name = str(parts[-1]) if parts else "the values"
    title = _title(field_schema, name)
    message = _custom(field_schema, str(error.validator)) or _sentence(error, title, field_schema)
    return [Problem(path=path, message=message)]


def _chosen_branch(error: ValidationError) -> list[ValidationError]:
    """For a failed ``oneOf``/``anyOf``, the errors of the branch the value was evidently aiming at."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        branches.setdefault(int(index), []).append(sub)
    options = error.validator_value if isinstance(error.validator_value, list) else []
    selected = [
        errs
        for idx, errs in branches.items()
        if not any(e.validator in ("enum", "const") for e in errs)
        and _discriminates(options[idx] if idx < len(options) else {})
    ]
    return selected[0] if len(selected) == 1 else []


def _discriminates(branch: Any) -> bool:
    props = branch.get("properties") if isinstance(branch, Mapping) else None
    return isinstance(props, Mapping) and any(
        isinstance(p, Mapping) and ("enum" in p or "const" in p) for p in props.values()
    )


def _property_at(page: Mapping[str, Any], parts: Sequence[Any]) -> Any:
    schema: Any = page
    for part in parts:
        if isinstance(part, int):
            schema = schema.get("items") if isinstance(schema, Mapping) else None
        else:
            schema = (schema.get("properties") or {}).get(part) if isinstance(schema, Mapping) else None
    return schema


def _missing_name(error: ValidationError) -> str:
    text = str(error.message)
    return text.split("'")[1] if "'" in text else ""


def _title(schema: Any, name: str) -> str:
    if isinstance(schema, Mapping) and isinstance(schema.get("title"), str) and schema["title"].strip():
        return str(schema["title"]).strip()
    return name


def _custom(schema: Any, keyword: str) -> str | None:
    if not isinstance(schema, Mapping):
        return None
    for key in ("errorMessage", "ui:errorMessage"):
        custom = schema.get(key)
        if isinstance(custom, str):
            return custom
        if isinstance(custom, Mapping) and isinstance(custom.get(keyword), str):
            return str(custom[keyword])
    return None


def _show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "empty"
    if isinstance(value, list):
        return " or ".join(_show(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _sentence(error: ValidationError, title: str, schema: Any) -> str:
    kind, want, got = str(error.validator), error.validator_value, error.instance
    size = len(got) if isinstance(got, str | list | dict) else 0
    if kind == "required":
        return f"{title} is required"
    if kind == "pattern":
        return f"{title} must match the pattern {want}; {_show(got)} does not"
    if kind == "enum":
        return f"{title} must be one of {', '.join(_show(v) for v in want)}; got {_show(got)}"  # type: ignore[union-attr]
    if kind == "const":
        return f"{title} must be {_show(want)}; got {_show(got)}"
    if kind == "type":
        kinds = want if isinstance(want, list) else [want]
        return f"{title} must be {' or '.join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)}; got {_json_type(got)}"
    if kind in ("maxLength", "minLength"):
        if kind == "minLength" and want == 1:
            return f"{title} must not be empty"
        bound = "at most" if kind == "maxLength" else "at least"
        return f"{title} must be {bound} {want} characters long; it has {size}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return f"{title} must be {words[kind]} {want}; got {_show(got)}"
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return f"{title} must list {bound} {want} item(s); it has {size}"
    if kind == "uniqueItems":
        return f"{title} must not list the same item twice"
    if kind == "format":
        return f"{title} must be {_FORMAT_WORDS.get(str(want), f'in {want} format')}; {_show(got)} is not"
    if kind in ("oneOf", "anyOf"):
        options = [o for o in (want or []) if isinstance(o, Mapping)]  # type: ignore[union-attr]
        if options and all("const" in o for o in options):
            labels = ", ".join(f"{o.get('title', _show(o['const']))} ({_show(o['const'])})" for o in options)
            return f"{title} must be one of {labels}; got {_show(got)}"
        return f"{title} does not match any of the allowed combinations; check the related fields"
    if kind == "additionalProperties":
        return f"{title} is not a field of this form; remove it or check its spelling"
    if kind == "dependencies":
        return f"{title} is required by a field you filled in: {error.message}"
    if kind == "not":
        return f"{title} is not allowed here"
    return f"{title}: {error.message}"
