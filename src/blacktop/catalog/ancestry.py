"""Which entity emitted which: the chain from an entity up to the location that was registered.

Backstage answers ``GET /entities/by-name/{kind}/{namespace}/{name}/ancestry`` from the references
its processing loop records; blacktop derives the same chain from what it stores: every entity
knows the file it was read from, a Location entity names the files it points at (``target`` and
``targets``, relative to its own file, globs allowed), and the file of the registered location is
emitted by that location's generated ``Location`` entity (``generated-<sha1>``), the chain's top.
Pure functions over stored records, so the rules can be tested without a database.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from . import errors, locations, model, records, stitching


def ref_string(ref: model.EntityRef) -> str:
    """``kind:namespace/name`` as Backstage writes references (kind in lower case)."""
    return f"{ref.kind.lower()}:{ref.namespace}/{ref.name}"


def _targets(spec: Mapping[str, Any]) -> list[str]:
    found = [spec["target"]] if isinstance(spec.get("target"), str) else []
    targets = spec.get("targets")
    if isinstance(targets, list):
        found.extend(t for t in targets if isinstance(t, str))
    return found


def points_at(location_entity: records.StoredEntity, file_key: str) -> bool:
    """Whether a Location entity's targets (resolved against its own file) include the file ``file_key``."""
    spec = location_entity.document.get("spec")
    if not isinstance(spec, Mapping):
        return False
    try:
        base = locations.parse_location_ref(location_entity.location_key)
        wanted = locations.parse_location_ref(file_key)
    except errors.CatalogError:  # a stored key that no longer parses points at nothing
        return False
    target_type = spec.get("type") if isinstance(spec.get("type"), str) else None
    for target in _targets(spec):
        try:
            resolved = locations.resolve_target(base, target, target_type=target_type)
        except errors.CatalogError:
            continue
        if resolved.type != wanted.type:
            continue
        if resolved.target == wanted.target:
            return True
        if any(c in resolved.target for c in locations.GLOB_CHARS) and fnmatch.fnmatchcase(
            wanted.target, resolved.target
        ):
            return True
    return False


def parents_of(
    entity: records.StoredEntity, root: locations.LocationSpec, location_entities: Sequence[records.StoredEntity]
) -> list[model.EntityRef]:
    """The entities that emitted ``entity``: the Location entities pointing at its file, else the root's own.

    ``location_entities`` are the Location entities read from the same registered location ``root``.
    The generated root Location entity has no parent.
    """
    generated = model.EntityRef("Location", model.DEFAULT_NAMESPACE, stitching.generated_location_name(root))
    if entity.ref.key == generated.key:
        return []
    if entity.location_key != root.key:
        found = [
            candidate.ref
            for candidate in location_entities
            if candidate.ref.key != entity.ref.key and points_at(candidate, entity.location_key)
        ]
        if found:
            return found
    return [generated]
