"""blacktop's own JSON schemas for every Backstage kind, and the rule that picks one for a document.

The runtime never reads Backstage's schema files (they are not shipped); these dicts restate them
(``@backstage/catalog-model`` 1.10.3 and ``plugin-scaffolder-common`` 2.4.0) so that a document gets
the same accept/reject verdict from both. ``tests/unit/catalog/test_kind_schemas.py`` proves that
against the real files on every corpus entity and on generated mutations.

``API`` and ``AiResource`` have variants selected by ``spec.type`` (``mcp-server``, ``ai-model-server``;
``skill``, ``rule``, ``plugin``, ``marketplace``); every other kind has one schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import jsonschema
import jsonschema_rs

from blacktop.kernel.errors import Problem

JsonSchema = dict[str, Any]

_STR: Final[JsonSchema] = {"type": "string", "minLength": 1}
_STR_LIST: Final[JsonSchema] = {"type": "array", "items": _STR}
_ANY_STR: Final[JsonSchema] = {"type": "string"}
_CONDITION: Final[JsonSchema] = {"type": ["string", "boolean"]}
_PERMISSIONS: Final[JsonSchema] = {
    "type": "object",
    "properties": {"tags": {"type": "array", "items": _ANY_STR}},
}
_PROFILE: Final[JsonSchema] = {
    "type": "object",
    "properties": {"displayName": _STR, "email": _STR, "picture": _STR},
}
_STRING_MAP: Final[JsonSchema] = {
    "type": "object",
    "additionalProperties": True,
    "patternProperties": {"^.+$": _ANY_STR},
}

ENTITY_META_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": True,
    "properties": {
        "uid": _STR,
        "etag": _STR,
        "name": _STR,
        "namespace": _STR,
        "title": _STR,
        "description": _ANY_STR,
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "tags": _STR_LIST,
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": _STR, "title": _STR, "icon": _STR, "type": _STR},
            },
        },
    },
}
"""Metadata common to every kind (Backstage ``EntityMeta``)."""

_RELATION: Final[JsonSchema] = {
    "type": "object",
    "required": ["type", "targetRef"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "minLength": 1, "pattern": r"^\w+$"},
        "target": {
            "type": "object",
            "required": ["kind", "namespace", "name"],
            "additionalProperties": False,
            "properties": {"kind": _STR, "namespace": _STR, "name": _STR},
        },
        "targetRef": _STR,
    },
}
_STATUS: Final[JsonSchema] = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "level", "message"],
                "additionalProperties": True,
                "properties": {
                    "type": _STR,
                    "level": {"type": "string", "enum": ["info", "warning", "error"]},
                    "message": _ANY_STR,
                    "error": {
                        "type": "object",
                        "required": ["name", "message"],
                        "additionalProperties": True,
                        "properties": {"name": _STR, "message": _ANY_STR, "code": _ANY_STR, "stack": _ANY_STR},
                    },
                },
            },
        }
    },
}

ENTITY_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": _STR,
        "kind": _STR,
        "metadata": ENTITY_META_SCHEMA,
        "spec": {"type": "object"},
        "relations": {"type": "array", "items": _RELATION},
        "status": _STATUS,
    },
}
"""The parts common to all kinds (Backstage ``Entity``)."""

BACKSTAGE_API_VERSIONS: Final = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEMPLATE_API_VERSION: Final = "scaffolder.backstage.io/v1beta3"


def _kind_schema(kind: str, spec: JsonSchema, *, api_versions: Sequence[str] = BACKSTAGE_API_VERSIONS) -> JsonSchema:
    return {
        "allOf": [
            ENTITY_SCHEMA,
            {
                "type": "object",
                "required": ["spec"],
                "properties": {
                    "apiVersion": {"enum": list(api_versions)},
                    "kind": {"enum": [kind]},
                    "spec": spec,
                },
            },
        ]
    }


def _spec(required: Sequence[str], **properties: JsonSchema) -> JsonSchema:
    return {"type": "object", "required": list(required), "properties": properties}


_REMOTES: Final[JsonSchema] = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "object", "required": ["type", "url"], "properties": {"type": _STR, "url": _STR}},
}
_AI_COMMON: Final[dict[str, JsonSchema]] = {"lifecycle": _STR, "owner": _STR, "system": _STR}
_AI_VERSIONS: Final = ("backstage.io/v1alpha1",)
_OUTPUT: Final[JsonSchema] = {
    "type": "object",
    "properties": {
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [],
                "properties": {"if": _CONDITION, "url": _STR, "entityRef": _STR, "title": _STR, "icon": _STR},
            },
        },
        "text": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [],
                "properties": {"if": _CONDITION, "title": _STR, "icon": _STR, "content": _ANY_STR},
            },
        },
    },
    "additionalProperties": _ANY_STR,
}
_FORM_DECORATORS: Final[JsonSchema] = {
    "type": "array",
    "items": {"type": "object", "properties": {"id": _ANY_STR, "input": {"type": "object"}}},
}
_TEMPLATE_SPEC: Final[JsonSchema] = _spec(
    ["type", "steps"],
    type=_STR,
    owner=_STR,
    lifecycle=_STR,
    parameters={
        "oneOf": [
            {"type": "object", "properties": {"backstage:permissions": _PERMISSIONS}},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"when": _CONDITION, "backstage:permissions": _PERMISSIONS},
                },
            },
        ]
    },
    secrets={"type": "object", "properties": {"schema": {"type": "object"}}},
    presentation={
        "type": "object",
        "properties": {
            "buttonLabels": {
                "type": "object",
                "properties": {
                    "backButtonText": _ANY_STR,
                    "createButtonText": _ANY_STR,
                    "reviewButtonText": _ANY_STR,
                },
            }
        },
    },
    EXPERIMENTAL_recovery={"type": "object", "properties": {"EXPERIMENTAL_strategy": _ANY_STR}},
    formDecorators=_FORM_DECORATORS,
    EXPERIMENTAL_formDecorators=_FORM_DECORATORS,
    steps={
        "type": "array",
        "items": {
            "type": "object",
            "required": ["action"],
            "properties": {
                "id": _ANY_STR,
                "name": _ANY_STR,
                "action": _ANY_STR,
                "input": {"type": "object"},
                "if": _CONDITION,
                "backstage:permissions": _PERMISSIONS,
            },
        },
    },
    output=_OUTPUT,
)


@dataclass(frozen=True, slots=True)
class KindSchema:
    """One schema for a kind, optionally a variant chosen by ``spec.type``."""

    kind: str
    variant: str | None
    schema: JsonSchema

    @property
    def id(self) -> str:
        """``Kind`` or ``Kind/variant``, for messages."""
        return self.kind if self.variant is None else f"{self.kind}/{self.variant}"


KIND_SCHEMAS: Final[tuple[KindSchema, ...]] = (
    KindSchema(
        "Component",
        None,
        _kind_schema(
            "Component",
            _spec(
                ["type", "lifecycle", "owner"],
                type=_STR,
                lifecycle=_STR,
                owner=_STR,
                system=_STR,
                subcomponentOf=_STR,
                providesApis=_STR_LIST,
                consumesApis=_STR_LIST,
                dependsOn=_STR_LIST,
            ),
        ),
    ),
    KindSchema(
        "API",
        None,
        _kind_schema(
            "API",
            _spec(
                ["type", "lifecycle", "owner", "definition"],
                type=_STR,
                lifecycle=_STR,
                owner=_STR,
                system=_STR,
                definition=_STR,
            ),
        ),
    ),
    *(
        KindSchema(
            "API",
            variant,
            _kind_schema(
                "API",
                _spec(
                    ["type", "lifecycle", "owner", "remotes"],
                    type={"const": variant},
                    lifecycle=_STR,
                    owner=_STR,
                    system=_STR,
                    remotes=_REMOTES,
                ),
            ),
        )
        for variant in ("mcp-server", "ai-model-server")
    ),
    KindSchema(
        "Resource",
        None,
        _kind_schema(
            "Resource",
            _spec(["type", "owner"], type=_STR, owner=_STR, dependsOn=_STR_LIST, system=_STR),
        ),
    ),
    KindSchema("System", None, _kind_schema("System", _spec(["owner"], owner=_STR, domain=_STR, type=_STR))),
    KindSchema("Domain", None, _kind_schema("Domain", _spec(["owner"], owner=_STR, subdomainOf=_STR, type=_STR))),
    KindSchema(
        "Group",
        None,
        _kind_schema(
            "Group",
            _spec(
                ["type", "children"],
                type=_STR,
                profile=_PROFILE,
                parent=_STR,
                children=_STR_LIST,
                members=_STR_LIST,
            ),
        ),
    ),
    KindSchema("User", None, _kind_schema("User", _spec(["memberOf"], profile=_PROFILE, memberOf=_STR_LIST))),
    KindSchema(
        "Location",
        None,
        _kind_schema(
            "Location",
            _spec(
                [],
                type=_STR,
                target=_STR,
                targets=_STR_LIST,
                presence={"type": "string", "default": "required", "enum": ["required", "optional"]},
            ),
        ),
    ),
    KindSchema("Template", None, _kind_schema("Template", _TEMPLATE_SPEC, api_versions=(TEMPLATE_API_VERSION,))),
    KindSchema(
        "AiResource",
        None,
        _kind_schema(
            "AiResource", _spec(["type", "lifecycle", "owner"], type=_STR, **_AI_COMMON), api_versions=_AI_VERSIONS
        ),
    ),
    KindSchema(
        "AiResource",
        "skill",
        _kind_schema(
            "AiResource",
            _spec(
                ["type", "lifecycle", "owner"],
                type={"type": "string", "enum": ["skill"]},
                **_AI_COMMON,
                disciplines=_STR_LIST,
                categories=_STR_LIST,
                agents=_STR_LIST,
                dependsOn=_STR_LIST,
                allowedTools=_STR,
                license=_STR,
                compatibility={"type": "string", "minLength": 1, "maxLength": 500},
            ),
            api_versions=_AI_VERSIONS,
        ),
    ),
    KindSchema(
        "AiResource",
        "rule",
        _kind_schema(
            "AiResource",
            _spec(
                ["type", "lifecycle", "owner", "category", "rationale"],
                type={"type": "string", "enum": ["rule"]},
                **_AI_COMMON,
                disciplines=_STR_LIST,
                category=_STR,
                rationale=_STR,
            ),
            api_versions=_AI_VERSIONS,
        ),
    ),
    KindSchema(
        "AiResource",
        "plugin",
        _kind_schema(
            "AiResource",
            _spec(
                ["type", "lifecycle", "owner", "skills"],
                type={"type": "string", "enum": ["plugin"]},
                **_AI_COMMON,
                skills=_STR_LIST,
                version=_STR,
            ),
            api_versions=_AI_VERSIONS,
        ),
    ),
    KindSchema(
        "AiResource",
        "marketplace",
        _kind_schema(
            "AiResource",
            _spec(
                ["type", "lifecycle", "owner", "plugins"],
                type={"type": "string", "enum": ["marketplace"]},
                **_AI_COMMON,
                plugins=_STR_LIST,
                version=_STR,
            ),
            api_versions=_AI_VERSIONS,
        ),
    ),
)
"""Every kind schema blacktop knows."""

KNOWN_KINDS: Final[tuple[str, ...]] = tuple(dict.fromkeys(k.kind for k in KIND_SCHEMAS))


def select_schema(document: Mapping[str, Any]) -> KindSchema | None:
    """The schema that judges ``document``: by kind (case-sensitive, as Backstage) and ``spec.type``.

    Returns None when no schema knows the kind; the caller reports that as an unknown kind.
    """
    kind = document.get("kind")
    spec = document.get("spec")
    spec_type = spec.get("type") if isinstance(spec, Mapping) else None
    candidates = [k for k in KIND_SCHEMAS if k.kind == kind]
    if not candidates:
        return None
    for candidate in candidates:
        if candidate.variant is not None and candidate.variant == spec_type:
            return candidate
    return next(c for c in candidates if c.variant is None)


def format_path(parts: Sequence[str | int]) -> str:
    """Render a JSON path as ``spec.ports[0].name``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


_VALIDATOR_CACHE: dict[int, jsonschema.Draft7Validator] = {}
_FAST_CACHE: dict[int, Any] = {}


def _fast_validator(schema: KindSchema) -> Any:
    """A compiled (Rust) validator: it answers "valid?" ~50x faster; details come from ``jsonschema``."""
    key = id(schema)
    if key not in _FAST_CACHE:
        _FAST_CACHE[key] = jsonschema_rs.Draft7Validator(schema.schema)
    return _FAST_CACHE[key]


def _validator(schema: KindSchema) -> jsonschema.Draft7Validator:
    key = id(schema)
    if key not in _VALIDATOR_CACHE:
        _VALIDATOR_CACHE[key] = jsonschema.Draft7Validator(schema.schema)
    return _VALIDATOR_CACHE[key]


def schema_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Every schema violation of ``document`` with its field path; an unknown kind is one problem."""
    schema = select_schema(document)
    if schema is None:
        kind = document.get("kind")
        return [
            Problem(
                path="kind",
                message=f"no kind schema recognises kind {kind!r}; known kinds are {', '.join(KNOWN_KINDS)}",
            )
        ]
    if _fast_validator(schema).is_valid(dict(document)):
        return []
    problems: list[Problem] = []
    for error in sorted(_validator(schema).iter_errors(dict(document)), key=lambda e: list(map(str, e.path))):
        parts: list[str | int] = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            # One error per missing property; its message starts with that property's repr.
            missing = [r for r in error.validator_value if r not in error.instance]
            parts += [r for r in missing if error.message.startswith(repr(r))][:1]
        problems.append(Problem(path=format_path(parts), message=f"{error.message} ({schema.id} schema)"))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for problem in problems:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            out.append(problem)
    return out
