"""Pure planners of the claim lifecycle (``resources.reconcile``).

Test design notes: planners are called with dicts shaped like stored objects; no store, no engine.
The merge-patch helper that turns desired composed resources into updates is checked by a
hypothesis property (applying the patch to the old value yields the new one), since every
composed-resource update depends on it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.resources import json_merge_patch
from blacktop.resources import definitions, reconcile
from blacktop.resources.composition import plan_revision

XRD: dict[str, Any] = {
    "apiVersion": "apiextensions.crossplane.io/v1",
    "kind": "CompositeResourceDefinition",
    "metadata": {"name": "xbuckets.test.io"},
    "spec": {
        "group": "test.io",
        "names": {"kind": "XBucket", "plural": "xbuckets"},
        "claimNames": {"kind": "Bucket", "plural": "buckets"},
        "versions": [{"name": "v1", "served": True, "referenceable": True}],
    },
}
DEFINITION = definitions.load_definition(XRD)
COMPOSITION: dict[str, Any] = {
    "apiVersion": "apiextensions.crossplane.io/v1",
    "kind": "Composition",
    "metadata": {"name": "bucket", "labels": {"provider": "local"}},
    "spec": {
        "compositeTypeRef": {"apiVersion": "test.io/v1", "kind": "XBucket"},
        "resources": [
            {"name": "first", "base": {"apiVersion": "local.io/v1", "kind": "Thing", "spec": {"n": 1}},
             "patches": [{"fromFieldPath": "spec.size", "toFieldPath": "spec.n"}]},
            {"name": "second", "base": {"apiVersion": "cloud.io/v1", "kind": "Remote", "spec": {}}},
        ],
    },
}  # fmt: skip


def claim(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.io/v1",
        "kind": "Bucket",
        "metadata": {"name": "photos", "namespace": "team", "uid": "u-1", "labels": {"app.kubernetes.io/x": "y"}},
        "spec": {"size": 3, "compositeDeletePolicy": "Foreground", **spec},
    }


def composite(**spec: Any) -> dict[str, Any]:
    planned = reconcile.plan_claim(claim(**spec), definition=DEFINITION, composite=None)
    assert planned.create_composite is not None
    xr = copy.deepcopy(dict(planned.create_composite))
    xr["metadata"]["uid"] = "xr-1"
    return xr


def served(api_version: str, kind: str) -> bool:
    return api_version.startswith("local.io/")


def plan(xr: dict[str, Any], observed: list[dict[str, Any]] = ()) -> reconcile.CompositePlan:  # type: ignore[assignment]
    revisions = [plan_revision(COMPOSITION, []).revision]
    return reconcile.plan_composite(
        xr, definition=DEFINITION, compositions=[COMPOSITION], revisions=revisions, observed=observed, served=served
    )


def test_a_new_claim_creates_its_composite_with_crossplane_naming_and_labels() -> None:
    planned = reconcile.plan_claim(claim(), definition=DEFINITION, composite=None)
    xr = planned.create_composite
    assert xr is not None
    name = xr["metadata"]["name"]
    assert name.startswith("photos-") and len(name) == len("photos-") + 5
    assert name == reconcile.composite_name(claim()), "the name is stable across retries"
    assert xr["metadata"]["labels"] == {
        "crossplane.io/claim-name": "photos",
        "crossplane.io/claim-namespace": "team",
        "crossplane.io/composite": name,
    }
    assert "compositeDeletePolicy" not in xr["spec"] and xr["spec"]["claimRef"]["name"] == "photos"
    assert planned.claim_patch == {
        "spec": {"resourceRef": {"apiVersion": "test.io/v1", "kind": "XBucket", "name": name}}
    }


def test_a_claim_change_patches_its_composite_and_keeps_what_the_composite_owns() -> None:
    xr = composite()
    xr["spec"]["resourceRefs"] = [{"apiVersion": "local.io/v1", "kind": "Thing", "name": "t"}]
    xr["spec"]["compositionRef"] = {"name": "bucket"}
    synced = {"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}
    xr["status"] = {"conditions": [synced, {"type": "Ready", "status": "False", "reason": "Creating", "message": "x"}]}
    planned = reconcile.plan_claim(claim(size=5), definition=DEFINITION, composite=xr)
    assert planned.create_composite is None
    assert planned.composite_patch == {"spec": {"size": 5}}
    assert [(c.type, c.status, c.reason) for c in planned.conditions] == [
        ("Synced", True, "ReconcileSuccess"),
        ("Ready", False, "Creating"),
    ]


def test_composite_plan_splits_platform_and_external_resources_and_records_refs() -> None:
    decided = plan(composite())
    assert decided.error is None
    (write,) = decided.writes
    assert write.observed is None and write.desired["spec"] == {"n": 3}
    assert write.desired["metadata"]["namespace"] == "team", "namespaced composed resources go to the claim's namespace"
    (external,) = decided.external
    assert external["kind"] == "Remote"
    refs = decided.spec_patch["spec"]["resourceRefs"]
    assert [r["kind"] for r in refs] == ["Thing", "Remote"]
    assert decided.spec_patch["spec"]["compositionRef"] == {"name": "bucket"}


def test_an_unchanged_composed_resource_is_not_written_and_a_changed_one_is_patched() -> None:
    xr = composite()
    (write,) = plan(xr).writes
    stored = {**copy.deepcopy(dict(write.desired)), "status": {"conditions": []}}
    assert plan(xr, [stored]).writes == ()
    xr["spec"]["size"] = 4
    (update,) = plan(xr, [stored]).writes
    assert update.patch == {"spec": {"n": 4}}


def test_a_template_removed_from_the_composition_deletes_its_resource() -> None:
    xr = composite()
    xr["spec"]["resourceRefs"] = [{"apiVersion": "local.io/v1", "kind": "Gone", "name": "old", "namespace": "team"}]
    assert [r["name"] for r in plan(xr).deletes] == ["old"]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param({"compositionRef": {"name": "nope"}}, "CompositionNotFound", id="unknown-composition"),
        pytest.param({"compositionSelector": {"matchLabels": {"provider": "gcp"}}}, "CompositionNotFound",
                     id="selector-matches-nothing"),
        pytest.param({"compositionUpdatePolicy": "Manual", "compositionRevisionRef": {"name": "bucket-0000000"}},
                     "RevisionNotFound", id="pinned-revision-missing"),
    ],
)  # fmt: skip
def test_errors_of_selection_and_revision_become_synced_false(spec: dict[str, Any], reason: str) -> None:
    decided = plan(composite(**spec))
    (synced,) = decided.conditions
    assert (synced.type, synced.status, synced.reason) == ("Synced", False, reason)
    assert decided.writes == () and decided.error


def test_ready_is_aggregated_and_external_resources_are_owned_elsewhere() -> None:
    decided = plan(composite())
    _, conditions = reconcile.composite_status(decided, now=__import__("datetime").datetime(2026, 1, 1))
    ready = next(c for c in conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == (False, "Creating")
    assert ready.message == "Unready resources: first, second"


DELETIONS = {
    "protected-refuses": (True, None, False, False, "DeletionProtected"),
    "no-composite-finishes": (False, None, False, True, None),
    "background-deletes-and-finishes": (False, {"x": 1}, False, True, "Deleting"),
    "foreground-waits": (False, {"x": 1}, True, False, "Deleting"),
}


@pytest.mark.parametrize(("protected", "xr", "foreground", "done", "reason"), DELETIONS.values(), ids=DELETIONS.keys())
def test_claim_deletion(protected: bool, xr: Any, foreground: bool, done: bool, reason: str | None) -> None:
    existing = composite() if xr else None
    decided = reconcile.plan_claim_deletion(claim(), composite=existing, protected=protected, foreground=foreground)
    assert decided.done is done
    assert [c.reason for c in decided.conditions] == ([reason] if reason else [])
    if protected:
        assert decided.delete == () and "spec.deletionProtection: false" in decided.conditions[0].message


def test_deletion_protection_defaults_and_explicit_values() -> None:
    assert reconcile.is_deletion_protected(claim(), default=True)
    assert not reconcile.is_deletion_protected(claim(deletionProtection=False), default=True)
    assert reconcile.is_deletion_protected(claim(deletionProtection=True))


def test_composed_resources_are_deleted_last_template_first() -> None:
    def thing(name: str, template: str) -> dict[str, Any]:
        return {"apiVersion": "local.io/v1", "kind": "Thing", "metadata": {
            "name": name, "annotations": {"crossplane.io/composition-resource-name": template}}}  # fmt: skip

    existing = [thing("a", "first"), thing("b", "second")]
    decided = reconcile.plan_composite_deletion(composite(), existing=existing, order=["first", "second"])
    assert [r["name"] for r in decided.delete] == ["b"] and not decided.done
    assert reconcile.plan_composite_deletion(composite(), existing=[]).done


def test_definition_removal_lists_its_instances() -> None:
    decided = reconcile.plan_definition_deletion(XRD, instances=[claim()])
    assert not decided.done
    assert "Bucket team/photos" in decided.conditions[0].message
    assert reconcile.plan_definition_deletion(XRD, instances=[]).done


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=12,
)
OBJECTS = st.dictionaries(st.text(max_size=3), JSON, max_size=4)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


@given(OBJECTS, OBJECTS)
def test_merge_patch_turns_old_into_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    new = _without_nulls(new)  # merge patches cannot express null values
    assert json_merge_patch(copy.deepcopy(old), reconcile.merge_patch(old, new)) == new


@given(st.text(min_size=1, max_size=40))
def test_name_suffix_is_five_characters_of_the_kubernetes_alphabet(seed: str) -> None:
    suffix = reconcile.name_suffix(seed)
    assert len(suffix) == 5 and set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert suffix == reconcile.name_suffix(seed)


def test_status_records_this_reconciles_selection_over_the_stored_one() -> None:
    xr = composite()
    xr["status"] = {"compositionSelection": {"composition": "bucket", "revisionNumber": 0}, "note": "kept"}
    decided = plan(xr)
    fields, _ = reconcile.composite_status(decided, now=__import__("datetime").datetime(2026, 1, 1))
    assert fields["compositionSelection"]["revisionNumber"] == 1
    assert fields["note"] == "kept"
