"""What a render produces: composed resources with provenance, readiness, connection details, events.

These are the values the claim controller, ``blacktop plan`` and ``blacktop explain`` consume, kept
apart from the rendering machinery so that consumers depend on plain, frozen data. The Crossplane
label and annotation names live here too, since both rendering and consumers need them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from blacktop.kernel.errors import NotFoundError

from . import fieldpaths
from .errors import PatchError

__all__ = [
    "CLAIM_NAMESPACE_LABEL",
    "CLAIM_NAME_LABEL",
    "COMPOSITE_LABEL",
    "ENVIRONMENT_CONTEXT_KEY",
    "NAME_SUFFIX_ALPHABET",
    "RESOURCE_NAME_ANNOTATION",
    "ComposedResource",
    "FieldSource",
    "RenderEvent",
    "RenderResult",
    "compose_name",
]

COMPOSITE_LABEL: Final = "crossplane.io/composite"
CLAIM_NAME_LABEL: Final = "crossplane.io/claim-name"
CLAIM_NAMESPACE_LABEL: Final = "crossplane.io/claim-namespace"
RESOURCE_NAME_ANNOTATION: Final = "crossplane.io/composition-resource-name"
ENVIRONMENT_CONTEXT_KEY: Final = "apiextensions.crossplane.io/environment"
NAME_SUFFIX_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATE_NAME_BASE: Final = 58
_UNREADY_LISTED: Final = 3

Origin = Literal["base", "patch", "function", "observed", "crossplane"]


@dataclass(frozen=True, slots=True)
class FieldSource:
    """What produced one field of a rendered object."""

    origin: Origin
    step: str | None = None
    patch: str | None = None
    patch_type: str | None = None
    patch_set: str | None = None
    from_field_paths: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for ``blacktop explain``: ``patch 2 (FromCompositeFieldPath spec.size)``."""
        if self.origin == "patch":
            sources = ", ".join(self.from_field_paths)
            return f"{self.patch} ({self.patch_type} {sources})" + (f" in step {self.step!r}" if self.step else "")
        if self.origin == "function":
            return f"function step {self.step!r}"
        return {"base": "base template", "observed": "observed resource", "crossplane": "Crossplane"}[self.origin]


@dataclass(frozen=True, slots=True)
class RenderEvent:
    """A Normal or Warning result of rendering, like a function's result or an event."""

    severity: Literal["Normal", "Warning"]
    message: str
    step: str | None = None


def _source_of(provenance: Mapping[str, FieldSource], path: str) -> FieldSource | None:
    segments = fieldpaths.parse_path(path)
    for end in range(len(segments), 0, -1):
        found = provenance.get(fieldpaths.format_path(segments[:end]))
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True)
class ComposedResource:
    """One desired composed resource with its readiness and field provenance."""

    name: str
    resource: Mapping[str, Any]
    ready: bool
    exists: bool
    provenance: Mapping[str, FieldSource] = field(default_factory=dict)

    def source_of(self, path: str) -> FieldSource | None:
        """What produced ``path`` (or the closest enclosing field that has a recorded source)."""
        return _source_of(self.provenance, path)


@dataclass(frozen=True, slots=True)
class RenderResult:
    """Everything one render produced."""

    composition: str
    composite: Mapping[str, Any]
    resources: tuple[ComposedResource, ...]
    connection_details: Mapping[str, bytes]
    environment: Mapping[str, Any]
    events: tuple[RenderEvent, ...] = ()
    composite_provenance: Mapping[str, FieldSource] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    composite_ready: bool = True
    connection_secret_ref: Mapping[str, str] | None = None
    """Where Crossplane writes a v1 XR's connection secret (``name``, ``namespace``), if anywhere."""

    @property
    def unready(self) -> tuple[str, ...]:
        """Names of composed resources that are not ready, sorted."""
        return tuple(sorted(r.name for r in self.resources if not r.ready))

    @property
    def ready(self) -> bool:
        """Whether the XR is ready: every composed resource is, and no step said otherwise."""
        return self.composite_ready and not self.unready

    def published_connection_details(self, keys: Sequence[str] = ()) -> dict[str, bytes]:
        """The connection details the XR's secret holds: filtered by the XRD's ``connectionSecretKeys``
        (an empty list publishes every key)."""
        if not keys:
            return dict(self.connection_details)
        return {k: v for k, v in self.connection_details.items() if k in set(keys)}

    def resource(self, name: str) -> ComposedResource:
        """The composed resource rendered from the template ``name``."""
        for composed in self.resources:
            if composed.name == name:
                return composed
        raise NotFoundError(f"composed resource {name!r} was not rendered by composition {self.composition!r}")

    def ready_condition(self, *, now: datetime) -> dict[str, Any]:
        """The XR's Ready condition as Crossplane sets it (``Creating`` lists unready resources)."""
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.ready:
            return {"lastTransitionTime": stamp, "reason": "Available", "status": "True", "type": "Ready"}
        unready = list(self.unready)
        listed = ", ".join(unready[:_UNREADY_LISTED])
        if len(unready) > _UNREADY_LISTED:
            listed += f", and {len(unready) - _UNREADY_LISTED} more"
        message = f"Unready resources: {listed}" if unready else "Composite resource is not ready"
        return {
            "lastTransitionTime": stamp,
            "message": message,
            "reason": "Creating",
            "status": "False",
            "type": "Ready",
        }

    def manifests(self, *, now: datetime) -> list[dict[str, Any]]:
        """The XR (with its Ready condition) followed by the composed resources, like ``crossplane render``."""
        xr = copy.deepcopy(dict(self.composite))
        conditions = [c for c in (xr.get("status") or {}).get("conditions") or [] if c.get("type") != "Ready"]
        xr.setdefault("status", {})["conditions"] = [*conditions, self.ready_condition(now=now)]
        return [xr, *(copy.deepcopy(dict(r.resource)) for r in self.resources)]


def compose_name(generate_name: str, suffix: str) -> str:
    """A Kubernetes generated name: the prefix cut to 58 characters plus a 5-character suffix.

    The caller supplies the random ``suffix`` (from :data:`NAME_SUFFIX_ALPHABET`) so that rendering
    stays deterministic.
    """
    if len(suffix) != 5 or any(ch not in NAME_SUFFIX_ALPHABET for ch in suffix):
        raise PatchError(f"name suffix {suffix!r} must be 5 characters from {NAME_SUFFIX_ALPHABET!r}")
    return generate_name[:_MAX_GENERATE_NAME_BASE] + suffix
