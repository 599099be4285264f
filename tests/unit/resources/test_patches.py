"""Every patch type, both fromFieldPath policies and every toFieldPath policy, through a full render.

Test design notes: each case is a one-template Composition, rendered in the pipeline dialect and
(where the dialect allows it) the legacy one, against a fixed XR, observed resource and
environment. Cases state the value expected at one path of the desired composed resource, the
desired XR or the environment, and which patch the provenance says produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop.resources.composition import (
    FieldSource,
    InvalidCompositionError,
    PatchError,
    TransformError,
    fieldpaths,
    patches,
    render_composite,
)
from blacktop.resources.composition.errors import FieldNotFoundError

XR: dict[str, Any] = {
    "apiVersion": "example.org/v1",
    "kind": "XThing",
    "metadata": {"name": "thing-abcde", "uid": "u-1", "labels": {"stage": "prod"}},
    "spec": {"size": "small", "region": "eu", "tags": {"team": "a", "env": "prod"}, "count": 3, "list": [2, 3]},
    "status": {"observed": "yes"},
}
OBSERVED: dict[str, Any] = {
    "apiVersion": "example.org/v1",
    "kind": "Thing",
    "metadata": {"name": "thing-abcde-x2z4q", "annotations": {"crossplane.io/composition-resource-name": "thing"}},
    "spec": {"forProvider": {"region": "eu"}},
    "status": {
        "atProvider": {"arn": "arn:aws:thing/42", "id": "42"},
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "True"}],
    },
}
ENVIRONMENT: dict[str, Any] = {"region": "us-east-1", "tier": {"name": "gold"}}
BASE: dict[str, Any] = {
    "apiVersion": "example.org/v1",
    "kind": "Thing",
    "spec": {"forProvider": {"tags": {"team": "base", "fixed": "x"}, "list": [1, 2]}},
}


def pipeline(
    *patch_list: dict[str, Any],
    env_patches: tuple[dict[str, Any], ...] = (),
    patch_sets: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    pt_input: dict[str, Any] = {
        "apiVersion": "pt.fn.crossplane.io/v1beta1",
        "kind": "Resources",
        "resources": [{"name": "thing", "base": BASE, "patches": list(patch_list)}],
    }
    if env_patches:
        pt_input["environment"] = {"patches": list(env_patches)}
    if patch_sets:
        pt_input["patchSets"] = list(patch_sets)
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": "things"},
        "spec": {
            "compositeTypeRef": {"apiVersion": "example.org/v1", "kind": "XThing"},
            "mode": "Pipeline",
            "pipeline": [{"step": "pt", "functionRef": {"name": "function-patch-and-transform"}, "input": pt_input}],
        },
    }


def legacy(*patch_list: dict[str, Any], patch_sets: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "compositeTypeRef": {"apiVersion": "example.org/v1", "kind": "XThing"},
        "resources": [{"name": "thing", "base": BASE, "patches": list(patch_list)}],
    }
    if patch_sets:
        spec["patchSets"] = list(patch_sets)
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": "things"},
        "spec": spec,
    }


@dataclass(frozen=True)
class Case:
    patch: dict[str, Any]
    where: str  # "composed", "composite" or "environment"
    path: str
    want: Any
    observed: bool = True
    dialects: tuple[str, ...] = ("pipeline", "legacy")
    env_patch: bool = False
    patch_sets: tuple[dict[str, Any], ...] = ()
    want_source: str | None = "patch 0"
    absent: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "from-composite": Case(
        {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.region"},
        "composed",
        "spec.forProvider.region",
        "eu",
    ),
    "type-defaults-to-from-composite": Case(
        {"fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.r"}, "composed", "spec.forProvider.r", "eu"
    ),
    "to-path-defaults-to-from-path": Case({"fromFieldPath": "spec.size"}, "composed", "spec.size", "small"),
    "from-composite-label-key": Case(
        {"fromFieldPath": "metadata.labels[stage]", "toFieldPath": "metadata.labels[example.org/stage]"},
        "composed",
        "metadata.labels[example.org/stage]",
        "prod",
    ),
    "from-composite-with-transform": Case(
        {
            "fromFieldPath": "spec.size",
            "toFieldPath": "spec.forProvider.class",
            "transforms": [{"type": "map", "map": {"small": "t3.micro"}}],
        },
        "composed",
        "spec.forProvider.class",
        "t3.micro",
    ),
    "from-composite-missing-optional-is-skipped": Case(
        {"fromFieldPath": "spec.nope", "toFieldPath": "spec.forProvider.nope"},
        "composed",
        "spec.forProvider.nope",
        None,
        absent=True,
        want_source=None,
    ),
    "to-composite-status": Case(
        {"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.arn", "toFieldPath": "status.arn"},
        "composite",
        "status.arn",
        "arn:aws:thing/42",
    ),
    "to-composite-without-observed-is-skipped": Case(
        {"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.arn", "toFieldPath": "status.arn"},
        "composite",
        "status.arn",
        None,
        observed=False,
        absent=True,
        want_source=None,
    ),
    "combine-from-composite": Case(
        {
            "type": "CombineFromComposite",
            "toFieldPath": "spec.forProvider.name",
            "combine": {
                "strategy": "string",
                "variables": [{"fromFieldPath": "spec.region"}, {"fromFieldPath": "spec.count"}],
                "string": {"fmt": "%s-%d"},
            },
        },
        "composed",
        "spec.forProvider.name",
        "eu-3",
    ),
    "combine-with-a-missing-variable-is-skipped": Case(
        {
            "type": "CombineFromComposite",
            "toFieldPath": "spec.forProvider.name",
            "combine": {
                "strategy": "string",
                "variables": [{"fromFieldPath": "spec.region"}, {"fromFieldPath": "spec.nope"}],
                "string": {"fmt": "%s-%s"},
            },
        },
        "composed",
        "spec.forProvider.name",
        None,
        absent=True,
        want_source=None,
    ),
    "combine-to-composite": Case(
        {
            "type": "CombineToComposite",
            "toFieldPath": "status.summary",
            "combine": {
                "strategy": "string",
                "variables": [{"fromFieldPath": "status.atProvider.id"}, {"fromFieldPath": "metadata.name"}],
                "string": {"fmt": "%s@%s"},
            },
        },
        "composite",
        "status.summary",
        "42@thing-abcde-x2z4q",
    ),
    "from-environment": Case(
        {"type": "FromEnvironmentFieldPath", "fromFieldPath": "tier.name", "toFieldPath": "spec.forProvider.tier"},
        "composed",
        "spec.forProvider.tier",
        "gold",
    ),
    "combine-from-environment": Case(
        {
            "type": "CombineFromEnvironment",
            "toFieldPath": "spec.forProvider.where",
            "combine": {
                "strategy": "string",
                "variables": [{"fromFieldPath": "region"}, {"fromFieldPath": "tier.name"}],
                "string": {"fmt": "%s/%s"},
            },
        },
        "composed",
        "spec.forProvider.where",
        "us-east-1/gold",
    ),
    "to-environment": Case(
        {"type": "ToEnvironmentFieldPath", "fromFieldPath": "status.atProvider.id", "toFieldPath": "thingId"},
        "environment",
        "thingId",
        "42",
        want_source=None,
    ),
    "combine-to-environment": Case(
        {
            "type": "CombineToEnvironment",
            "toFieldPath": "ref",
            "combine": {
                "strategy": "string",
                "variables": [{"fromFieldPath": "status.atProvider.id"}],
                "string": {"fmt": "id-%s"},
            },
        },
        "environment",
        "ref",
        "id-42",
        want_source=None,
    ),
    "patch-set-expands-in-place-with-its-transforms": Case(
        {"type": "PatchSet", "patchSetName": "common"},
        "composed",
        "spec.forProvider.region",
        "EU",
        patch_sets=(
            {
                "name": "common",
                "patches": [
                    {
                        "fromFieldPath": "spec.region",
                        "toFieldPath": "spec.forProvider.region",
                        "transforms": [{"type": "string", "string": {"type": "Convert", "convert": "ToUpper"}}],
                    }
                ],
            },
        ),
        want_source="patch 0 (patch set 'common' patch 0)",
    ),
    "replace-policy-overwrites-objects": Case(
        {"fromFieldPath": "spec.tags", "toFieldPath": "spec.forProvider.tags"},
        "composed",
        "spec.forProvider.tags",
        {"team": "a", "env": "prod"},
    ),
    "merge-objects-keeps-existing": Case(
        {
            "fromFieldPath": "spec.tags",
            "toFieldPath": "spec.forProvider.tags",
            "policy": {"toFieldPath": "MergeObjects"},
        },
        "composed",
        "spec.forProvider.tags",
        {"team": "base", "fixed": "x", "env": "prod"},
        dialects=("pipeline",),
    ),
    "force-merge-objects-incoming-wins": Case(
        {
            "fromFieldPath": "spec.tags",
            "toFieldPath": "spec.forProvider.tags",
            "policy": {"toFieldPath": "ForceMergeObjects"},
        },
        "composed",
        "spec.forProvider.tags",
        {"team": "a", "fixed": "x", "env": "prod"},
        dialects=("pipeline",),
    ),
    "append-array-dedups": Case(
        {
            "fromFieldPath": "spec.list",
            "toFieldPath": "spec.forProvider.list",
            "policy": {"toFieldPath": "ForceMergeObjectsAppendArrays"},
        },
        "composed",
        "spec.forProvider.list",
        [1, 2, 3],
        dialects=("pipeline",),
    ),
    "legacy-merge-options-keep-map-values": Case(
        {
            "fromFieldPath": "spec.tags",
            "toFieldPath": "spec.forProvider.tags",
            "policy": {"mergeOptions": {"keepMapValues": True}},
        },
        "composed",
        "spec.forProvider.tags",
        {"team": "base", "fixed": "x", "env": "prod"},
        dialects=("legacy",),
    ),
    "legacy-merge-options-append-slice": Case(
        {
            "fromFieldPath": "spec.list",
            "toFieldPath": "spec.forProvider.list",
            "policy": {"mergeOptions": {"appendSlice": True}},
        },
        "composed",
        "spec.forProvider.list",
        [1, 2, 3],
        dialects=("legacy",),
    ),
    "env-patch-composite-to-environment": Case(
        {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.size", "toFieldPath": "size"},
        "environment",
        "size",
        "small",
        env_patch=True,
        dialects=("pipeline",),
        want_source=None,
    ),
    "env-patch-environment-to-composite-status": Case(
        {"type": "FromEnvironmentFieldPath", "fromFieldPath": "tier.name", "toFieldPath": "status.tier"},
        "composite",
        "status.tier",
        "gold",
        env_patch=True,
        dialects=("pipeline",),
    ),
}

RUNS = [(name, dialect) for name, case in CASES.items() for dialect in case.dialects]


@pytest.mark.parametrize(("name", "dialect"), RUNS, ids=[f"{n}-{d}" for n, d in RUNS])
def test_patch(name: str, dialect: str) -> None:
    case = CASES[name]
    if case.env_patch:
        composition = pipeline(env_patches=(case.patch,))
    elif dialect == "pipeline":
        composition = pipeline(case.patch, patch_sets=case.patch_sets)
    else:
        composition = legacy(case.patch, patch_sets=case.patch_sets)
    result = render_composite(XR, composition, observed=[OBSERVED] if case.observed else [], environment=ENVIRONMENT)
    target = {
        "composed": result.resource("thing").resource,
        "composite": result.composite,
        "environment": result.environment,
    }[case.where]
    if case.absent:
        assert not fieldpaths.has_value(target, case.path)
    else:
        assert fieldpaths.get_value(target, case.path) == case.want
    source: FieldSource | None = None
    if case.where == "composed":
        source = result.resource("thing").source_of(case.path)
    elif case.where == "composite":
        source = result.composite_provenance.get(case.path)
    if case.want_source is None:
        assert source is None or source.origin != "patch"
    else:
        assert source is not None
        assert source.patch == case.want_source


def test_pipeline_mode_keeps_only_the_composites_status() -> None:
    patch = {"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.id", "toFieldPath": "spec.thingId"}
    result = render_composite(XR, pipeline(patch), observed=[OBSERVED])
    assert "spec" not in result.composite
    assert any("only the composite's status is applied" in e.message for e in result.events)
    native = render_composite(XR, legacy(patch), observed=[OBSERVED])
    assert native.composite["spec"]["thingId"] == "42"


def test_required_patch_drops_a_resource_that_does_not_exist_yet() -> None:
    patch = {"fromFieldPath": "spec.nope", "toFieldPath": "spec.x", "policy": {"fromFieldPath": "Required"}}
    result = render_composite(XR, pipeline(patch))
    assert result.resources == ()
    assert result.dropped == ("thing",)
    assert not result.ready
    assert any("not adding new composed resource 'thing'" in e.message for e in result.events)


def test_required_patch_on_an_existing_resource_warns_and_keeps_it() -> None:
    patch = {"fromFieldPath": "spec.nope", "toFieldPath": "spec.x", "policy": {"fromFieldPath": "Required"}}
    result = render_composite(XR, pipeline(patch), observed=[OBSERVED])
    assert [r.name for r in result.resources] == ["thing"]
    assert any(e.severity == "Warning" and "required field spec.nope is missing" in e.message for e in result.events)


def test_a_failing_transform_is_fatal_and_its_error_names_composition_patch_and_transform() -> None:
    patch = {
        "fromFieldPath": "spec.size",
        "toFieldPath": "spec.x",
        "transforms": [
            {"type": "string", "string": {"type": "Convert", "convert": "ToUpper"}},
            {"type": "map", "map": {"large": "x"}},
        ],
    }
    with pytest.raises(TransformError) as caught:
        render_composite(XR, pipeline(patch, patch))
    assert str(caught.value) == (
        "composition 'things' step 'pt': patch 0 of resource 'thing': transform 1: key 'SMALL' is not found in map"
    )


def test_an_unknown_patch_set_is_refused_with_its_path() -> None:
    with pytest.raises(InvalidCompositionError, match="patch set 'missing' is not defined") as caught:
        render_composite(XR, pipeline({"type": "PatchSet", "patchSetName": "missing"}))
    assert [p.path for p in caught.value.problems] == ["spec.pipeline[0].input.resources[0].patches[0]"]


def test_a_patch_set_may_not_nest_patch_sets() -> None:
    nested = (
        {"name": "outer", "patches": [{"type": "PatchSet", "patchSetName": "inner"}]},
        {"name": "inner", "patches": []},
    )
    with pytest.raises(InvalidCompositionError, match="may not contain a PatchSet"):
        render_composite(XR, pipeline({"type": "PatchSet", "patchSetName": "outer"}, patch_sets=nested))


def test_validation_reports_every_bad_patch_at_once() -> None:
    composition = pipeline(
        {"type": "Sideways", "fromFieldPath": "a"},
        {"type": "CombineFromComposite", "toFieldPath": "x", "combine": {"strategy": "string", "variables": []}},
        {"fromFieldPath": "a..b"},
        {"fromFieldPath": "a", "transforms": [{"type": "string", "string": {"fmt": "%s"}}]},
        {"fromFieldPath": "spec.a[*]"},
    )
    with pytest.raises(InvalidCompositionError) as caught:
        render_composite(XR, composition)
    base = "spec.pipeline[0].input.resources[0].patches"
    assert [p.path for p in caught.value.problems] == [
        f"{base}[0]",
        f"{base}[1]",
        f"{base}[2]",
        f"{base}[3].transforms[0]",
        f"{base}[4]",
    ]


def test_apply_patch_reports_a_missing_source_as_not_found() -> None:
    patch = patches.normalise_patch({"fromFieldPath": "spec.nope"}, index=0, label="patch 0", native=False)
    with pytest.raises(FieldNotFoundError):
        patches.apply_patch(patch, source=XR, target={})


@pytest.mark.parametrize("dialect", [pipeline, legacy], ids=["pipeline", "legacy"])
def test_wildcard_writes_every_existing_element(dialect: Any) -> None:
    patch = {"fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.list[*]"}
    thing = render_composite(XR, dialect(patch)).resource("thing")
    assert thing.resource["spec"]["forProvider"]["list"] == ["eu", "eu"]
    for path in ("spec.forProvider.list[0]", "spec.forProvider.list[1]"):
        assert thing.source_of(path) == thing.source_of("spec.forProvider.list[0]")
        assert thing.source_of(path).patch == "patch 0"  # type: ignore[union-attr]


def test_wildcard_with_nothing_to_expand_is_an_error() -> None:
    patch = patches.normalise_patch(
        {"fromFieldPath": "spec.region", "toFieldPath": "spec.items[*].region"}, index=0, label="patch 0", native=False
    )
    with pytest.raises(PatchError, match="cannot expand ToFieldPath"):
        patches.apply_patch(patch, source=XR, target={})


@pytest.mark.parametrize("dialect", [pipeline, legacy], ids=["pipeline", "legacy"])
def test_patches_of_different_types_run_in_list_order(dialect: Any) -> None:
    from_env = {"type": "FromEnvironmentFieldPath", "fromFieldPath": "region", "toFieldPath": "spec.forProvider.r"}
    from_xr = {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.r"}
    first = render_composite(XR, dialect(from_env, from_xr), environment=ENVIRONMENT).resource("thing")
    second = render_composite(XR, dialect(from_xr, from_env), environment=ENVIRONMENT).resource("thing")
    assert first.resource["spec"]["forProvider"]["r"] == "eu"
    assert first.source_of("spec.forProvider.r").patch == "patch 1"  # type: ignore[union-attr]
    assert second.resource["spec"]["forProvider"]["r"] == "us-east-1"


def test_a_required_environment_patch_with_a_missing_source_is_fatal() -> None:
    patch = {
        "type": "FromCompositeFieldPath",
        "fromFieldPath": "spec.nope",
        "toFieldPath": "x",
        "policy": {"fromFieldPath": "Required"},
    }
    with pytest.raises(PatchError, match=r"environment patch 0: required field spec\.nope is missing"):
        render_composite(XR, pipeline(env_patches=(patch,)))
