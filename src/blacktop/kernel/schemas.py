"""Structural OpenAPI v3 schemas: applying defaults and reporting every violation with its field path.

Kinds declare their schema the way a Kubernetes CustomResourceDefinition does (an
``openAPIV3Schema`` for the whole object). Defaults are applied before validation, as the
Kubernetes API server does, so stored objects always carry them. Validation collects every error,
each located by a dotted path (``spec.ports[0].port``), so a user can fix them all at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

import jsonschema
import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .errors import Problem

Schema = Mapping[str, Any]

# Keywords of Kubernetes structural schemas that JSON Schema does not know; they are kept in the
# kind definition (CRD export) but ignored by validation.
_OPENAPI_ONLY = ("nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string")


LABEL_SELECTOR: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string", "minLength": 1},
                    "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
"""A Kubernetes ``LabelSelector`` (``matchLabels`` and ``matchExpressions``), for kinds whose spec selects by labels."""


def apply_defaults(value: Any, schema: Schema) -> Any:
    """Return ``value`` with every missing property that has a schema ``default`` filled in, recursively."""
    if isinstance(value, dict):
        result = dict(value)
        properties: Mapping[str, Any] = schema.get("properties") or {}
        for name, sub in properties.items():
            if name not in result and "default" in sub:
                result[name] = copy.deepcopy(sub["default"])
            if name in result:
                result[name] = apply_defaults(result[name], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name in result:
                if name not in properties:
                    result[name] = apply_defaults(result[name], extra)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


def format_path(parts: Iterable[Any]) -> str:
    """Render a JSON pointer-ish sequence as ``spec.ports[0].name``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            out += ("." if out else "") + (text if _is_plain(text) else f"[{text}]")
    return out


def _is_plain(text: str) -> bool:
    return bool(text) and all(c.isalnum() or c in "_-$" for c in text)


def _translate(value: Any) -> Any:
    """Turn OpenAPI ``nullable: true`` into JSON Schema type unions so validation accepts null."""
    if isinstance(value, Mapping):
        out = {k: _translate(v) for k, v in value.items() if k not in _OPENAPI_ONLY}
        if value.get("nullable") is True and "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"]
        if value.get("x-kubernetes-int-or-string") is True:
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        return out
    if isinstance(value, list):
        return [_translate(v) for v in value]
    return value


@lru_cache(maxsize=512)
def _validator_for(schema_key: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(_translate(json.loads(schema_key)))


def validator_for(schema: Schema) -> Draft202012Validator:
    """A cached validator for ``schema`` (schemas are compared by their JSON text)."""
    import json

    return _validator_for(json.dumps(schema, sort_keys=True, default=str))


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in list(error.validator_value))  # type: ignore[arg-type]
        return f"{error.instance!r} is not one of the allowed values: {allowed}"
    if error.validator == "type":
        return f"must be of type {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if error.validator == "additionalProperties":
        return f"{error.message}; remove the field or check its spelling"
    return str(error.message)


@lru_cache(maxsize=512)
def _fast_validator_for(schema_key: str) -> Any:
    import json

    return jsonschema_rs.Draft202012Validator(_translate(json.loads(schema_key)))


_FAST_BY_ID: dict[int, tuple[Schema, Any]] = {}


def _fast_validator(schema: Schema) -> Any:
    """The compiled (Rust) validator of ``schema``, looked up by identity first: kind schemas are long-lived."""
    cached = _FAST_BY_ID.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    import json

    fast = _fast_validator_for(json.dumps(schema, sort_keys=True, default=str))
    if len(_FAST_BY_ID) > 4096:
        _FAST_BY_ID.clear()
    _FAST_BY_ID[id(schema)] = (schema, fast)
    return fast


def validate(value: Any, schema: Schema, *, prefix: str = "") -> list[Problem]:
    """Every violation of ``schema`` in ``value``, each with its field path, ordered by path.

    A compiled validator answers "valid?" first (most writes are valid, and it is many times faster);
    the messages and paths of an invalid value come from ``jsonschema``, which has the final say.
    """
    if _fast_validator(schema).is_valid(value):
        return []
    problems: list[Problem] = []
    for error in validator_for(schema).iter_errors(value):
        parts = list(error.absolute_path)
        if error.validator == "required":
            # Point at the missing field itself rather than its parent.
            missing = str(error.message).split("'")[1] if "'" in str(error.message) else ""
            parts.append(missing)
        path = format_path(parts)
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
        problems.append(Problem(path=path, message=_message(error)))
    problems.sort(key=lambda p: p.path)
    return problems


def check_schema(schema: Schema) -> list[Problem]:
    """Problems with a schema itself (a kind definition or an XRD version schema)."""
    try:
        Draft202012Validator.check_schema(_translate(schema))
    except jsonschema.SchemaError as exc:
        return [Problem(path=format_path(exc.absolute_path), message=str(exc.message))]
    return []
