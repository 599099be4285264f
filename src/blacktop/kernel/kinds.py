"""The kind registry: what kinds the platform serves, their schemas, scope and names.

Built-in kinds are registered by the composition root at start; others arrive at run time (a
CompositeResourceDefinition registers its composite and claim kinds). Lookups accept the forms a
user types: plural (``databases``), singular, kind (``Database``), short names, optionally
qualified with the group (``databases.platform.company.io``).
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import resources, schemas
from .errors import ConflictError, InputError, NotFoundError, Problem


class Scope(StrEnum):
    """Whether objects of a kind live in a namespace or across the whole platform."""

    NAMESPACED = "Namespaced"
    CLUSTER = "Cluster"


@dataclass(frozen=True, slots=True)
class PrinterColumn:
    """An extra column for ``get -o wide``: a header and a JSONPath-like dotted field path."""

    name: str
    path: str


@dataclass(frozen=True)
class KindInfo:
    """Everything the API needs to serve a kind.

    ``schema`` is the OpenAPI v3 schema of the whole object (as in a CRD's ``openAPIV3Schema``);
    ``versions`` are the served versions, the first being the storage version. ``secret_paths``
    name fields (dotted paths) whose values are redacted in audit records and never logged.
    """

    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    scope: Scope = Scope.NAMESPACED
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    secret_paths: tuple[str, ...] = ()
    description: str = ""
    version_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    origin: str = "builtin"
    checks: Callable[[Mapping[str, Any]], Sequence[Problem]] | None = field(default=None, compare=False)
    """Rules a schema cannot state (one quantity not above another, a CIDR inside a range), as a pure
    function of the defaulted object returning every problem with its field path. Run on every write
    after the schema passes, so a violation is a 422 at write time, not a status condition later."""

    @property
    def namespaced(self) -> bool:
        """Whether objects of this kind live in a namespace."""
        return self.scope is Scope.NAMESPACED

    @property
    def storage_version(self) -> str:
        """The version objects are stored at."""
        return self.versions[0]

    @property
    def name(self) -> str:
        """The kind's full name, ``plural.group``, as a CRD names it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str | None = None) -> str:
        """``group/version`` for ``version`` (default: the storage version)."""
        return str(resources.GroupVersion(self.group, version or self.storage_version))

    def schema_for(self, version: str) -> Mapping[str, Any]:
        """The object schema of one served version."""
        return self.version_schemas.get(version, self.schema)


def object_schema(spec: Mapping[str, Any] | None = None, *, status: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Wrap a spec schema in the full-object schema a CRD declares."""
    properties: dict[str, Any] = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
    }
    if spec is not None:
        properties["spec"] = dict(spec)
    properties["status"] = (
        dict(status)
        if status is not None
        else {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
        }
    )
    return {"type": "object", "properties": properties}


class KindRegistry:
    """The kinds the platform serves; safe to read from many tasks while one registers."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], KindInfo] = {}
        self._lock = threading.Lock()

    def register(self, info: KindInfo, *, replace: bool = False) -> None:
        """Add ``info``; a different definition of an existing kind is a conflict unless ``replace``."""
        problems = schemas.check_schema(info.schema)
        if problems:
            raise InputError(f"kind {info.name} has an invalid schema", problems=problems)
        key = (info.group, info.kind)
        with self._lock:
            existing = self._kinds.get(key)
            if existing is not None and existing != info and not replace:
                raise ConflictError(f"kind {info.kind} in group {info.group!r} is already registered")
            clash = self._find_plural(info.group, info.plural)
            if clash is not None and clash.kind != info.kind:
                raise ConflictError(
                    f"plural {info.plural!r} in group {info.group!r} is already used by kind {clash.kind}"
                )
            self._kinds[key] = info

    def unregister(self, group: str, kind: str) -> None:
        """Remove a kind registered at run time."""
        with self._lock:
            if self._kinds.pop((group, kind), None) is None:
                raise NotFoundError(f"kind {kind} in group {group!r} is not registered")

    def all(self) -> list[KindInfo]:
        """Every registered kind, ordered by group then kind."""
        with self._lock:
            return sorted(self._kinds.values(), key=lambda k: (k.group, k.kind))

    def get(self, group: str, kind: str) -> KindInfo | None:
        """The kind with this group and kind name, or None."""
        return self._kinds.get((group, kind))

    def require(self, group: str, kind: str) -> KindInfo:
        """The kind with this group and kind name, or a NotFoundError suggesting close names."""
        info = self.get(group, kind)
        if info is None:
            raise self._not_found(kind, group)
        return info

    def _find_plural(self, group: str, plural: str) -> KindInfo | None:
        for info in self._kinds.values():
            if info.group == group and info.plural == plural:
                return info
        return None

    def by_plural(self, group: str, version: str, plural: str) -> KindInfo:
        """Resolve an API path segment ``/apis/{group}/{version}/.../{plural}``."""
        info = self._find_plural(group, plural)
        if info is None or version not in info.versions:
            served = f" at version {version}" if info is not None else ""
            raise self._not_found(plural, group, extra=served)
        return info

    def resolve(self, text: str) -> KindInfo:
        """Resolve what a user typed (``db``, ``databases``, ``Database``, ``databases.platform.company.io``)."""
        wanted = text.strip()
        name, _, group = wanted.partition(".")
        candidates = [i for i in self.all() if not group or i.group == group]
        lowered = name.lower()
        for info in candidates:
            names = {info.plural, info.singular or info.kind.lower(), info.kind.lower(), *info.short_names}
            if lowered in names:
                return info
        raise self._not_found(wanted, group or None)

    def _not_found(self, wanted: str, group: str | None, *, extra: str = "") -> NotFoundError:
        names: list[str] = []
        for info in self.all():
            names.extend([info.kind, info.plural, *info.short_names])
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
        close += [n for n in names if n.lower() == wanted.lower() and n not in close]
        where = f" in group {group!r}" if group else ""
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return NotFoundError(f"kind {wanted!r}{where} is not served{extra}{hint}")

    def validate(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Check a whole object against its kind: envelope, metadata rules and schema (defaults applied).

        Returns the defaulted object; raises ``InputError`` listing every problem.
        """
        problems: list[Problem] = []
        api_version = obj.get("apiVersion")
        kind_name = obj.get("kind")
        if not isinstance(api_version, str) or not api_version:
            problems.append(Problem("apiVersion", "is required, e.g. platform.blacktop.dev/v1alpha1"))
        if not isinstance(kind_name, str) or not kind_name:
            problems.append(Problem("kind", "is required"))
        if problems:
            raise InputError("the object is missing apiVersion or kind", problems=problems)
        gv = resources.GroupVersion.parse(str(api_version))
        info = self.get(gv.group, str(kind_name))
        if info is None:
            raise self._not_found(str(kind_name), gv.group)
        if gv.version not in info.versions:
            raise InputError(
                f"{info.kind} is not served at version {gv.version}",
                problems=[
                    Problem("apiVersion", f"use one of: {', '.join(info.api_version(v) for v in info.versions)}")
                ],
            )
        return validate_object(info, obj, version=gv.version)


def validate_object(
    info: KindInfo, obj: Mapping[str, Any], *, version: str | None = None, old: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Default and validate ``obj`` as an instance of ``info``; raises ``InputError`` with every problem.

    ``old`` is the stored object an update replaces: the kind's ``checks`` then run only when the
    spec changes, so an object stored before a rule existed can still get its status and finalizers.
    """
    metadata = obj.get("metadata")
    problems: list[Problem] = []
    if not isinstance(metadata, Mapping):
        problems.append(Problem("metadata", "is required and must be an object with at least a name"))
        metadata = {}
    else:
        problems.extend(resources.validate_name(metadata.get("name")))
        if info.namespaced:
            if metadata.get("namespace") is not None:
                problems.extend(resources.validate_namespace_name(metadata.get("namespace")))
        elif metadata.get("namespace"):
            problems.append(Problem("metadata.namespace", f"{info.kind} is cluster-scoped; remove the namespace"))
        problems.extend(resources.validate_labels(metadata.get("labels")))
        problems.extend(resources.validate_annotations(metadata.get("annotations")))
    schema = info.schema_for(version or info.storage_version)
    defaulted = schemas.apply_defaults(dict(obj), schema)
    problems.extend(schemas.validate(defaulted, schema))
    spec_changed = old is None or defaulted.get("spec") != old.get("spec")
    if not problems and info.checks is not None and spec_changed:
        problems.extend(info.checks(defaulted))
    if problems:
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        raise InputError(f"{info.kind} {name or '(unnamed)'} is invalid: {len(problems)} problem(s)", problems=problems)
    return dict(defaulted)


def describe_kinds(kinds: Iterable[KindInfo]) -> list[dict[str, Any]]:
    """A discovery listing like Kubernetes' API resource list."""
    return [
        {
            "name": k.plural,
            "singularName": k.singular or k.kind.lower(),
            "kind": k.kind,
            "group": k.group,
            "versions": list(k.versions),
            "namespaced": k.namespaced,
            "shortNames": list(k.short_names),
            "categories": list(k.categories),
            "printerColumns": [{"name": c.name, "path": c.path} for c in k.printer_columns],
        }
        for k in kinds
    ]


def to_crd(info: KindInfo) -> dict[str, Any]:
    """The kind as a Kubernetes ``apiextensions.k8s.io/v1`` CustomResourceDefinition."""
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
        "singular": info.singular or info.kind.lower(),
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)
    versions = []
    for version in info.versions:
        entry: dict[str, Any] = {
            "name": version,
            "served": True,
            "storage": version == info.storage_version,
            "schema": {"openAPIV3Schema": _structural(info.schema_for(version))},
            "subresources": {"status": {}},
        }
        if info.printer_columns:
            entry["additionalPrinterColumns"] = [
                {"name": c.name, "type": "string", "jsonPath": "." + c.path} for c in info.printer_columns
            ]
        versions.append(entry)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.name},
        "spec": {"group": info.group, "names": names, "scope": info.scope.value, "versions": versions},
    }


def _openapi_v3(value: Any) -> Any:
    """Rewrite JSON Schema 2020 keywords in the OpenAPI 3.0 form a CRD requires.

    Numeric ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/``maximum`` with a boolean
    flag, ``const`` becomes a one-value ``enum``, and keywords CRDs do not accept are dropped.
    """
    if isinstance(value, list):
        return [_openapi_v3(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("$schema", "$id", "examples", "$comment"):
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(item, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound] = item
            out[key] = True
        elif key == "const":
            out["enum"] = [item]
        elif key in ("properties", "patternProperties", "definitions", "$defs"):
            out[key] = {name: _openapi_v3(sub) for name, sub in item.items()}
        else:
            out[key] = _openapi_v3(item)
    return out


def _structural(schema: Mapping[str, Any]) -> dict[str, Any]:
    """CRD schemas may not constrain metadata beyond name/generateName; drop what Kubernetes refuses."""
    out = dict(_openapi_v3(schema))
    props = dict(out.get("properties") or {})
    if "metadata" in props:
        props["metadata"] = {"type": "object"}
    if props:
        out["properties"] = props
    out.setdefault("type", "object")
    return out
