"""The mutable state of one render, shared by the patch-and-transform step and function steps.

A render threads one :class:`RenderState` through every pipeline step, the way Crossplane threads
desired state through a function pipeline. It never leaves :mod:`.rendering`: callers see the
frozen :class:`~.results.RenderResult` built from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import fieldpaths
from .results import FieldSource, RenderEvent

__all__ = ["Desired", "RenderState", "diff_provenance", "leaf_provenance", "record_provenance"]


@dataclass(slots=True)
class Desired:
    """One desired composed resource while the pipeline runs (``ready`` None means unspecified)."""

    resource: dict[str, Any]
    ready: bool | None = None
    provenance: dict[str, FieldSource] = field(default_factory=dict)


@dataclass(slots=True)
class RenderState:
    """Observed inputs, desired outputs and everything recorded on the way."""

    observed_xr: dict[str, Any]
    observed: dict[str, dict[str, Any]]
    observed_secrets: Mapping[str, Mapping[str, bytes]]
    desired_xr: dict[str, Any]
    native: bool
    desired: dict[str, Desired] = field(default_factory=dict)
    xr_provenance: dict[str, FieldSource] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    events: list[RenderEvent] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    connection: dict[str, bytes] = field(default_factory=dict)
    composite_ready: bool = True

    def warn(self, message: str, step: str | None) -> None:
        """Record a Warning event."""
        self.events.append(RenderEvent("Warning", message, step))


def record_provenance(provenance: dict[str, FieldSource], paths: Sequence[str], source: FieldSource) -> None:
    """Record ``source`` as the producer of each path, forgetting what it overwrote below them."""
    for path in paths:
        for key in [k for k in provenance if k == path or k.startswith((path + ".", path + "["))]:
            del provenance[key]
        provenance[path] = source


def leaf_provenance(obj: Any, source: FieldSource) -> dict[str, FieldSource]:
    """Attribute every leaf of ``obj`` to ``source``."""
    return {fieldpaths.format_path(p): source for p in fieldpaths.iter_leaf_paths(obj) if p}


def diff_provenance(before: Any, after: Any, provenance: dict[str, FieldSource], source: FieldSource) -> None:
    """Attribute to ``source`` every leaf of ``after`` that is new or changed compared to ``before``."""
    old = {fieldpaths.format_path(p): _leaf(before, p) for p in fieldpaths.iter_leaf_paths(before) if p}
    for path in fieldpaths.iter_leaf_paths(after):
        if not path:
            continue
        key = fieldpaths.format_path(path)
        if key not in old or old[key] != _leaf(after, path):
            provenance[key] = source


def _leaf(obj: Any, path: Sequence[fieldpaths.Segment]) -> Any:
    return fieldpaths.get_value(obj, path)
