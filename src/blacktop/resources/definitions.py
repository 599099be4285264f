"""CompositeResourceDefinitions: what an XRD declares, and the composite and claim kinds it serves.

Applying an XRD makes the platform serve two new kinds at run time: the composite (XR) kind and,
when ``claimNames`` is set, the namespaced claim kind developers apply (``Database`` in
``orders-team``). :func:`load_definition` validates an XRD document (every problem, with its
field path; features blacktop cannot honour are refused by name) and builds both
:class:`~blacktop.kernel.kinds.KindInfo` values from the referenceable version's
``openAPIV3Schema``, with the fields Crossplane injects (``compositionRef``, ``claimRef``,
``writeConnectionSecretToRef`` …) added the way Crossplane adds them: a user's own definition of
one of those fields is replaced.

The kernel validates objects against the schema (defaults, enums, required); the CEL rules in
``x-kubernetes-validations`` are collected here as :class:`CelRule` values, which
``resources.validation`` turns into admission policy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from blacktop.kernel.errors import Problem
from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope

from .composition.errors import InvalidCompositionError, UnsupportedFeatureError

__all__ = [
    "DEFINITION_GROUP",
    "DEFINITION_KIND",
    "CelRule",
    "Definition",
    "InvalidDefinitionError",
    "load_definition",
]

DEFINITION_GROUP: Final = "apiextensions.crossplane.io"
DEFINITION_KIND: Final = "CompositeResourceDefinition"
ORIGIN_PREFIX: Final = "xrd:"

_STRING: Final[dict[str, Any]] = {"type": "string"}
_NAME_REF: Final[dict[str, Any]] = {"type": "object", "required": ["name"], "properties": {"name": _STRING}}
_SELECTOR: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["matchLabels"],
    "properties": {"matchLabels": {"type": "object", "additionalProperties": _STRING}},
}
_OBJECT_REF: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"apiVersion": _STRING, "kind": _STRING, "name": _STRING, "namespace": _STRING},
}
_SELECTION_FIELDS: Final[dict[str, Any]] = {
    "compositionRef": _NAME_REF,
    "compositionSelector": _SELECTOR,
    "compositionRevisionRef": _NAME_REF,
    "compositionRevisionSelector": _SELECTOR,
    "compositionUpdatePolicy": {"type": "string", "enum": ["Automatic", "Manual"]},
}
_COMPOSITE_FIELDS: Final[dict[str, Any]] = {
    **_SELECTION_FIELDS,
    "claimRef": _OBJECT_REF,
    "resourceRefs": {"type": "array", "items": _OBJECT_REF},
    "environmentConfigRefs": {"type": "array", "items": _OBJECT_REF},
    "publishConnectionDetailsTo": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    "writeConnectionSecretToRef": {
        "type": "object",
        "required": ["name", "namespace"],
        "properties": {"name": _STRING, "namespace": _STRING},
    },
}
_CLAIM_FIELDS: Final[dict[str, Any]] = {
    **_SELECTION_FIELDS,
    "compositeDeletePolicy": {"type": "string", "enum": ["Background", "Foreground"]},
    "resourceRef": _OBJECT_REF,
    "publishConnectionDetailsTo": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    "writeConnectionSecretToRef": {"type": "object", "required": ["name"], "properties": {"name": _STRING}},
}
_KNOWN_SPEC: Final = frozenset(
    {
        "group", "names", "claimNames", "versions", "connectionSecretKeys", "defaultCompositeDeletePolicy",
        "defaultCompositionRef", "enforcedCompositionRef", "defaultCompositionUpdatePolicy", "scope",
        "metadata",
    }
)  # fmt: skip
_UNSUPPORTED_SPEC: Final = {
    "conversion": "custom version conversion (spec.conversion) is not supported; serve one schema per version",
}


class InvalidDefinitionError(InvalidCompositionError):
    """An XRD document is malformed; ``problems`` locate every bad field."""


@dataclass(frozen=True, slots=True)
class CelRule:
    """One ``x-kubernetes-validations`` rule and where in the object schema it sits."""

    version: str
    path: tuple[str, ...]
    """Schema location: property names, with ``[]`` for array items (``("spec", "replicas")``)."""
    optional: tuple[bool, ...]
    """For each element of ``path``: whether the field may be absent (not required, no default)."""
    rule: str
    message: str = ""
    message_expression: str = ""
    field_path: str = ""
    reason: str = "Invalid"


@dataclass(frozen=True)
class Definition:
    """A loaded XRD: its kinds, connection keys, composition defaults and CEL rules."""

    name: str
    group: str
    composite: KindInfo
    claim: KindInfo | None
    referenceable_version: str
    connection_secret_keys: tuple[str, ...] = ()
    default_composition: str | None = None
    enforced_composition: str | None = None
    default_update_policy: Literal["Automatic", "Manual"] = "Automatic"
    default_delete_policy: Literal["Background", "Foreground"] = "Background"
    rules: tuple[CelRule, ...] = ()
    document: Mapping[str, Any] | None = None
    legacy: bool = True
    """Whether composites follow the v1 shape (Crossplane fields directly under ``spec``)."""

    @property
    def composite_api_version(self) -> str:
        """``group/version`` that Compositions reference (``compositeTypeRef.apiVersion``)."""
        return f"{self.group}/{self.referenceable_version}"

    def kinds(self) -> list[KindInfo]:
        """The kinds this XRD serves."""
        return [self.composite] if self.claim is None else [self.composite, self.claim]


class _Problems:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.unsupported: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message))


def _names(raw: Any, path: str, found: _Problems) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        found.add(path, "is required: {kind, plural}")
        return {}
    for key in ("kind", "plural"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            found.add(f"{path}.{key}", "is required")
    return dict(raw)


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in raw) if isinstance(raw, list) else ()


def load_definition(document: Mapping[str, Any]) -> Definition:
    """Validate an XRD and build the kinds it serves.

    Raises :class:`~.composition.errors.UnsupportedFeatureError` naming features blacktop does
    not implement, and :class:`InvalidDefinitionError` listing every malformed field.
    """
    found = _Problems()
    api_version = str(document.get("apiVersion") or "")
    if document.get("kind") != DEFINITION_KIND:
        found.add("kind", f"must be {DEFINITION_KIND}")
    if api_version not in (f"{DEFINITION_GROUP}/v1", f"{DEFINITION_GROUP}/v2"):
        found.add("apiVersion", f"must be {DEFINITION_GROUP}/v1 or /v2")
    name = str((document.get("metadata") or {}).get("name") or "")
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        found.add("spec", "is required")
        spec = {}
    for key, why in _UNSUPPORTED_SPEC.items():
        if key in spec:
            found.unsupported.append(Problem(path=f"spec.{key}", message=why))
    for key in sorted(set(spec) - _KNOWN_SPEC - set(_UNSUPPORTED_SPEC)):
        found.add(f"spec.{key}", "is not a CompositeResourceDefinition field")
    group = str(spec.get("group") or "")
    if not group:
        found.add("spec.group", "is required, e.g. platform.company.io")
    names = _names(spec.get("names"), "spec.names", found)
    claim_names = _names(spec["claimNames"], "spec.claimNames", found) if spec.get("claimNames") else None
    if names.get("plural") and group and name and name != f"{names['plural']}.{group}":
        found.add("metadata.name", f"must be <plural>.<group>: {names['plural']}.{group}")
    legacy = api_version.endswith("/v1")
    scope_text = str(spec.get("scope") or ("Cluster" if legacy else "Namespaced"))
    if scope_text not in ("Namespaced", "Cluster", "LegacyCluster"):
        found.add("spec.scope", "must be Namespaced, Cluster or LegacyCluster")
    if claim_names and not legacy and scope_text != "LegacyCluster":
        found.add("spec.claimNames", "claims exist only for v1 XRDs or scope LegacyCluster")
    legacy = legacy or scope_text == "LegacyCluster"
    scope = Scope.NAMESPACED if scope_text == "Namespaced" else Scope.CLUSTER
    versions = _versions(spec.get("versions"), found)
    policy = spec.get("defaultCompositionUpdatePolicy") or "Automatic"
    if policy not in ("Automatic", "Manual"):
        found.add("spec.defaultCompositionUpdatePolicy", "must be Automatic or Manual")
    delete_policy = spec.get("defaultCompositeDeletePolicy") or "Background"
    if delete_policy not in ("Background", "Foreground"):
        found.add("spec.defaultCompositeDeletePolicy", "must be Background or Foreground")
    if found.unsupported:
        features = "; ".join(p.message for p in found.unsupported)
        raise UnsupportedFeatureError(
            f"CompositeResourceDefinition {name!r} uses unsupported features: {features}",
            feature=", ".join(p.path for p in found.unsupported),
            problems=found.unsupported,
        )
    if found.problems:
        raise InvalidDefinitionError(
            f"CompositeResourceDefinition {name or '(unnamed)'} is invalid: {len(found.problems)} problem(s)",
            problems=found.problems,
        )
    referenceable = next(v for v in versions if v.get("referenceable"))
    served = [referenceable, *(v for v in versions if v is not referenceable and v.get("served"))]
    rules: list[CelRule] = []
    for version in served:
        rules.extend(_rules(str(version["name"]), _schema_of(version)))
    composite = _kind(name, group, names, served, scope=scope, fields=_COMPOSITE_FIELDS, legacy=legacy, claim=False)
    claim = None
    if claim_names:
        claim = _kind(name, group, claim_names, served, scope=Scope.NAMESPACED, fields=_CLAIM_FIELDS, legacy=True,
                      claim=True)  # fmt: skip
    return Definition(
        name=name,
        group=group,
        composite=composite,
        claim=claim,
        referenceable_version=str(referenceable["name"]),
        connection_secret_keys=_strings(spec.get("connectionSecretKeys")),
        default_composition=(spec.get("defaultCompositionRef") or {}).get("name"),
        enforced_composition=(spec.get("enforcedCompositionRef") or {}).get("name"),
        default_update_policy="Manual" if policy == "Manual" else "Automatic",
        default_delete_policy="Foreground" if delete_policy == "Foreground" else "Background",
        rules=tuple(rules),
        document=copy.deepcopy(dict(document)),
        legacy=legacy,
    )


def _versions(raw: Any, found: _Problems) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not raw:
        found.add("spec.versions", "needs at least one version")
        return []
    out: list[Mapping[str, Any]] = []
    for index, version in enumerate(raw):
        path = f"spec.versions[{index}]"
        if not isinstance(version, Mapping) or not version.get("name"):
            found.add(f"{path}.name", "is required")
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is not None and not isinstance(schema, Mapping):
            found.add(f"{path}.schema.openAPIV3Schema", "must be an object schema")
            continue
        out.append(version)
    referenceable = [v for v in out if v.get("referenceable")]
    if out and len(referenceable) != 1:
        found.add("spec.versions", f"exactly one version must be referenceable, found {len(referenceable)}")
    return out


def _schema_of(version: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}


def _kind(
    xrd: str,
    group: str,
    names: Mapping[str, Any],
    versions: Sequence[Mapping[str, Any]],
    *,
    scope: Scope,
    fields: Mapping[str, Any],
    legacy: bool,
    claim: bool,
) -> KindInfo:
    schemas = {str(v["name"]): _object_schema(_schema_of(v), fields, legacy=legacy) for v in versions}
    first = versions[0]
    columns = tuple(
        PrinterColumn(str(c.get("name")), str(c.get("jsonPath") or "").lstrip("."))
        for c in first.get("additionalPrinterColumns") or []
        if isinstance(c, Mapping) and c.get("name") and c.get("jsonPath")
    )
    columns = (*columns, PrinterColumn("Composition", "status.compositionSelection.composition"))
    categories = _strings(names.get("categories"))
    extra = "claim" if claim else "composite"
    return KindInfo(
        group=group,
        kind=str(names["kind"]),
        plural=str(names["plural"]),
        singular=str(names.get("singular") or str(names["kind"]).lower()),
        short_names=_strings(names.get("shortNames")),
        categories=tuple(dict.fromkeys([*categories, extra])),
        versions=tuple(schemas),
        schema=schemas[str(first["name"])],
        version_schemas=schemas,
        scope=scope,
        printer_columns=columns,
        description=f"{'Claim' if claim else 'Composite resource'} served by CompositeResourceDefinition {xrd}",
        origin=f"{ORIGIN_PREFIX}{xrd}",
    )


def _object_schema(user: Mapping[str, Any], fields: Mapping[str, Any], *, legacy: bool) -> dict[str, Any]:
    schema = copy.deepcopy(dict(user))
    schema["type"] = "object"
    props = dict(schema.get("properties") or {})
    spec = dict(props.get("spec") or {"type": "object"})
    spec_props = dict(spec.get("properties") or {})
    if legacy:
        spec_props.update(copy.deepcopy(dict(fields)))
    else:
        spec_props["crossplane"] = {"type": "object", "properties": copy.deepcopy(dict(_SELECTION_FIELDS))}
    spec["properties"] = spec_props
    spec.setdefault("type", "object")
    status = dict(props.get("status") or {"type": "object"})
    status["x-kubernetes-preserve-unknown-fields"] = True
    status.setdefault("type", "object")
    props.update(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        }
    )
    schema["properties"] = props
    return schema


def _rules(version: str, schema: Mapping[str, Any]) -> list[CelRule]:
    found: list[CelRule] = []

    def walk(node: Mapping[str, Any], path: tuple[str, ...], optional: tuple[bool, ...]) -> None:
        for rule in node.get("x-kubernetes-validations") or []:
            if isinstance(rule, Mapping) and isinstance(rule.get("rule"), str):
                found.append(
                    CelRule(
                        version=version,
                        path=path,
                        optional=optional,
                        rule=rule["rule"],
                        message=str(rule.get("message") or ""),
                        message_expression=str(rule.get("messageExpression") or ""),
                        field_path=str(rule.get("fieldPath") or ""),
                        reason=str(rule.get("reason") or "Invalid").removeprefix("FieldValue"),
                    )
                )
        required = set(_strings(node.get("required")))
        for key, sub in (node.get("properties") or {}).items():
            if isinstance(sub, Mapping):
                walk(sub, (*path, str(key)), (*optional, key not in required and "default" not in sub))
        items = node.get("items")
        if isinstance(items, Mapping):
            walk(items, (*path, "[]"), (*optional, False))

    walk(schema, (), ())
    return found
