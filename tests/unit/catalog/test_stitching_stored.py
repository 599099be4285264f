"""Serving a stored entity takes one copy, and serves exactly what the reference stitching serves.

Test design notes: ``stitch_stored`` is the fast path of ``StoredEntity.served``; the reference is
``stitch_entity(Entity.from_dict(document))``. Hypothesis generates JSON-shaped metadata and spec
(with and without annotations, orphan flag and processing errors); the results must be equal,
etag included, and the served dict must share nothing mutable with the stored document.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop import catalog
from blacktop.catalog import stitching
from blacktop.kernel.errors import Problem

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
annotations = st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": draw(st.sampled_from(["pay", "Ledger", "a-b"]))}
    if draw(st.booleans()):
        metadata["namespace"] = draw(st.sampled_from(["default", "Team-A"]))
    if draw(st.booleans()):
        metadata["annotations"] = draw(annotations)
    metadata.update(draw(st.dictionaries(st.sampled_from(["tags", "labels", "title", "links"]), json_values)))
    spec = draw(st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4))
    document: dict[str, Any] = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": metadata}
    if spec is not None:
        document["spec"] = spec
    return document


@settings(max_examples=150, deadline=None)
@given(document=documents(), orphan=st.booleans(), with_errors=st.booleans())
def test_stored_stitching_serves_what_the_reference_serves(
    document: dict[str, Any], orphan: bool, with_errors: bool
) -> None:
    entity = catalog.Entity.from_dict(document)
    rows = (
        catalog.Relation(entity.ref, "ownedBy", catalog.EntityRef("group", "default", "team-a")),
        catalog.Relation(catalog.EntityRef("group", "default", "team-a"), "ownerOf", entity.ref),
    )
    errors = (Problem(path="spec.owner", message="is missing"),) if with_errors else ()
    want = stitching.stitch_entity(entity, rows, uid="u-1", orphan=orphan, errors=errors)
    got = stitching.stitch_stored(document, rows, ref=entity.ref, uid="u-1", orphan=orphan, errors=errors)
    assert got == want

    got["metadata"].setdefault("annotations", {})["changed"] = "yes"
    if isinstance(got["spec"], dict):
        got["spec"]["changed"] = True
    assert "changed" not in (document["metadata"].get("annotations") or {})
    assert "changed" not in (document.get("spec") or {})
