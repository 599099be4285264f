"""Which Location entity emitted a file: targets resolved against the Location's own file, globs included."""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.catalog import ancestry, locations, model, records, stitching

ROOT = locations.LocationSpec("url", "https://github.com/acme/catalog/blob/main/all.yaml")


def stored(kind: str, name: str, file: str, spec: dict[str, Any] | None = None) -> records.StoredEntity:
    document = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec or {}}
    return records.StoredEntity(
        id=1, uid=name, ref=model.EntityRef(kind, "default", name), document=document,
        location_id="loc-1", location_key=file, orphan=False,
    )  # fmt: skip


ALL = stored("Location", "all", ROOT.key, {"targets": ["./teams/*.yaml", "./apis.yaml"]})
APIS = stored("Location", "apis", "url:https://github.com/acme/catalog/blob/main/apis.yaml", {"target": "./x/api.yaml"})
GENERATED = model.EntityRef("Location", "default", stitching.generated_location_name(ROOT))

CASES = {
    "from the registered file: the generated location": (
        stored("Component", "svc", ROOT.key), [GENERATED]
    ),
    "from a glob target": (
        stored("Group", "team-a", "url:https://github.com/acme/catalog/blob/main/teams/a.yaml"), [ALL.ref]
    ),
    "from a single target, relative to its Location's own file": (
        stored("API", "orders", "url:https://github.com/acme/catalog/blob/main/x/api.yaml"), [APIS.ref]
    ),
    "a file nobody points at falls back to the generated location": (
        stored("Component", "stray", "url:https://github.com/acme/catalog/blob/main/other.yaml"), [GENERATED]
    ),
    "the generated location has no parent": (
        stored("Location", GENERATED.name, ROOT.key), []
    ),
}  # fmt: skip


@pytest.mark.parametrize(("entity", "expected"), CASES.values(), ids=CASES.keys())
def test_parents_are_the_locations_pointing_at_the_entitys_file(
    entity: records.StoredEntity, expected: list[model.EntityRef]
) -> None:
    assert ancestry.parents_of(entity, ROOT, [ALL, APIS]) == expected


def test_references_are_written_as_backstage_writes_them() -> None:
    assert ancestry.ref_string(model.EntityRef("Component", "default", "Artist-Lookup")) == (
        "component:default/Artist-Lookup"
    )
