"""Building the entity the catalog serves: processed entity + relations + server-managed fields.

Backstage "stitches" a final entity from the processed body, every relation row whose source is the
entity (sorted by type, then target), the orphan annotation, processing errors as ``status.items``,
``metadata.uid`` and an ``etag`` hashed from the result. Storage and the API call ``stitch_entity``
so every surface serves the same shape. Also here: the Builtin processor's sorting of ref lists, and
the Location entity Backstage generates for a location registered through the API.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from blacktop.kernel.errors import Problem

from . import locations, model, relations

SORTED_SPEC_LISTS: Final = (
    "providesApis", "consumesApis", "dependsOn", "dependencyOf", "memberOf", "children", "members",
)  # fmt: skip
"""Spec arrays of strings that Backstage serves sorted."""

PROCESSING_ERROR_TYPE: Final = "backstage.io/catalog-processing"


def sort_spec_lists(entity: model.Entity) -> model.Entity:
    """A copy with the ref lists of ``SORTED_SPEC_LISTS`` sorted (only lists of strings)."""
    spec = copy.deepcopy(dict(entity.spec))
    for key in SORTED_SPEC_LISTS:
        value = spec.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            spec[key] = sorted(value)
    return model.Entity(entity.api_version, entity.kind, copy.deepcopy(dict(entity.metadata)), spec)


def compute_etag(document: dict[str, Any]) -> str:
    """A stable hash of a served entity (without its etag), as an opaque string."""
    body = dict(document)
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and "etag" in metadata:
        body["metadata"] = {k: v for k, v in metadata.items() if k != "etag"}
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


def stitch_entity(
    entity: model.Entity,
    rows: Iterable[model.Relation],
    *,
    uid: str,
    orphan: bool = False,
    errors: Sequence[Problem] = (),
) -> dict[str, Any]:
    """The final served entity: ``relations`` ``[{type, targetRef}]``, uid, etag, orphan, status."""
    served = entity.with_annotations({model.ORPHAN_ANNOTATION: "true"}) if orphan else entity
    return _finish(served.to_dict(), entity.ref, rows, uid=uid, errors=errors)


def _finish(
    document: dict[str, Any], ref: model.EntityRef, rows: Iterable[model.Relation], *, uid: str,
    errors: Sequence[Problem],
) -> dict[str, Any]:  # fmt: skip
    document["metadata"]["uid"] = uid
    document["relations"] = relations.relations_from(ref, rows)
    if errors:
        document["status"] = {
            "items": [
                {
                    "type": PROCESSING_ERROR_TYPE,
                    "level": "error",
                    "message": f"InputError: {p.describe()}",
                    "error": {"name": "InputError", "message": p.describe()},
                }
                for p in errors
            ]
        }
    document["metadata"]["etag"] = compute_etag(document)
    return document


def stitch_stored(
    document: Mapping[str, Any],
    rows: Iterable[model.Relation],
    *,
    ref: model.EntityRef,
    uid: str,
    orphan: bool = False,
    errors: Sequence[Problem] = (),
) -> dict[str, Any]:
    """``stitch_entity(Entity.from_dict(document), ...)`` for a stored document, with one copy instead of four.

    Serving a page of entities is mostly this function; ``ref`` is the document's own ref.
    """
    metadata = _copy_json(document["metadata"])
    metadata.setdefault("namespace", model.DEFAULT_NAMESPACE)
    if orphan:
        annotations = metadata.get("annotations")
        metadata["annotations"] = {
            **(annotations if isinstance(annotations, Mapping) else {}), model.ORPHAN_ANNOTATION: "true"
        }  # fmt: skip
    spec = document.get("spec")
    served: dict[str, Any] = {
        "apiVersion": str(document["apiVersion"]), "kind": str(document["kind"]), "metadata": metadata,
        "spec": _copy_json(spec) if isinstance(spec, Mapping) else {},
    }  # fmt: skip
    return _finish(served, ref, rows, uid=uid, errors=errors)


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than ``copy.deepcopy``."""
    if isinstance(value, Mapping):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def generated_location_name(location: locations.LocationSpec) -> str:
    """``generated-<sha1 of "type:target">``: the name Backstage gives an API-registered location."""
    return "generated-" + hashlib.sha1(location.key.encode(), usedforsecurity=False).hexdigest()


def generated_location_entity(location: locations.LocationSpec) -> model.Entity:
    """The Location entity created when ``location`` is registered; it manages and originates itself."""
    return model.Entity(
        api_version="backstage.io/v1alpha1",
        kind="Location",
        metadata={
            "name": generated_location_name(location),
            "namespace": model.DEFAULT_NAMESPACE,
            "annotations": {
                model.MANAGED_BY_LOCATION: location.key,
                model.MANAGED_BY_ORIGIN_LOCATION: location.key,
            },
        },
        spec={"type": location.type, "target": location.target},
    )
