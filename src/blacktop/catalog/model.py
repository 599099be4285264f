"""The catalog's domain values: entity references, the entity envelope and relations.

These are plain frozen values with no IO. Identity follows Backstage: an entity is known by
``kind:namespace/name`` compared case-insensitively, while the stored body keeps the case the author
wrote. ``EntityRef`` therefore keeps the original spelling for display and compares on its lower-cased
key, so it can be used directly as a dict key or set member by every other module (graph, store, API).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

DEFAULT_NAMESPACE: Final = "default"
"""The namespace of an entity that does not name one."""

ORPHAN_ANNOTATION: Final = "backstage.io/orphan"
MANAGED_BY_LOCATION: Final = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION: Final = "backstage.io/managed-by-origin-location"


@dataclass(frozen=True, slots=True, eq=False)
class EntityRef:
    """A reference to an entity: kind, namespace and name, compared case-insensitively.

    ``str(ref)`` is the canonical lower-cased ``kind:namespace/name`` that Backstage uses for
    ``relations[].targetRef``, filters and storage keys; ``display`` keeps the original case.
    """

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """The canonical identity: ``kind:namespace/name``, all lower case."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    @property
    def display(self) -> str:
        """The ref as written, case kept (for messages and UIs)."""
        return f"{self.kind}:{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return self.key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntityRef):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: EntityRef) -> bool:
        return self.key < other.key

    def to_dict(self) -> dict[str, str]:
        """The compound form ``{kind, namespace, name}``."""
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed, typed edge between two entities, as Backstage stores it (source, type, target)."""

    source: EntityRef
    type: str
    target: EntityRef

    def to_dict(self) -> dict[str, str]:
        """The API shape of a relation on its source entity: ``{type, targetRef}``."""
        return {"type": self.type, "targetRef": self.target.key}


@dataclass(frozen=True, slots=True)
class Entity:
    """An accepted entity: the four root fields of a Backstage descriptor.

    Build one with ``validation.validate_entity`` (which checks every rule) rather than directly.
    ``metadata`` and ``spec`` are deep copies owned by this value; treat them as read-only.
    """

    api_version: str
    kind: str
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return str(self.metadata["name"])

    @property
    def namespace(self) -> str:
        """``metadata.namespace``, or ``default`` when absent."""
        return str(self.metadata.get("namespace") or DEFAULT_NAMESPACE)

    @property
    def ref(self) -> EntityRef:
        """The reference that identifies this entity."""
        return EntityRef(self.kind, self.namespace, self.name)

    @property
    def annotations(self) -> Mapping[str, str]:
        """``metadata.annotations`` (empty when absent)."""
        value = self.metadata.get("annotations")
        return value if isinstance(value, Mapping) else {}

    @property
    def labels(self) -> Mapping[str, str]:
        """``metadata.labels`` (empty when absent)."""
        value = self.metadata.get("labels")
        return value if isinstance(value, Mapping) else {}

    @property
    def tags(self) -> tuple[str, ...]:
        """``metadata.tags`` (empty when absent)."""
        value = self.metadata.get("tags")
        return tuple(value) if isinstance(value, list) else ()

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Entity:
        """Wrap an already validated document; the namespace default is filled in."""
        metadata = copy.deepcopy(dict(document["metadata"]))
        metadata.setdefault("namespace", DEFAULT_NAMESPACE)
        spec = document.get("spec")
        return cls(
            api_version=str(document["apiVersion"]),
            kind=str(document["kind"]),
            metadata=metadata,
            spec=copy.deepcopy(dict(spec)) if isinstance(spec, Mapping) else {},
        )

    def to_dict(self) -> dict[str, Any]:
        """The descriptor as a plain JSON-able dict (deep copy)."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": copy.deepcopy(dict(self.metadata)),
            "spec": copy.deepcopy(dict(self.spec)),
        }

    def with_annotations(self, extra: Mapping[str, str]) -> Entity:
        """A copy with ``extra`` merged into ``metadata.annotations``."""
        metadata = copy.deepcopy(dict(self.metadata))
        metadata["annotations"] = {**dict(self.annotations), **dict(extra)}
        return Entity(self.api_version, self.kind, metadata, copy.deepcopy(dict(self.spec)))
