"""EnvironmentConfigs are chosen and merged as Crossplane 1.x does, then read by environment patches.

Test design notes: the cases are the corpus e2e ``environment`` suites (Crossplane v1.20). Each
composition patches ``complex.c.f`` of the merged environment into an annotation; the expected
value follows from the configs by the documented rules (references and selections merged in
order, later configs winning; ``Multiple`` selections sorted by ``sortByFieldPath`` and cut to
``maxMatch``; ``resolution: Optional`` skips missing configs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop.resources.composition import load_composition, render_composite
from blacktop.resources.composition.environment_configs import resolve_environment
from blacktop.resources.composition.errors import EnvironmentConfigNotFoundError

E2E = corpus_dir("crossplane", "crossplane-v1.20-e2e", "environment")


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def composite_for(suite: str) -> dict[str, Any]:
    claim = docs(E2E / suite / "00-claim.yaml")[0]
    definition = docs(E2E / "setup" / "definition.yaml")[0]
    return {
        "apiVersion": claim["apiVersion"],
        "kind": definition["spec"]["names"]["kind"],
        "metadata": {"name": "example-x7k2p", "labels": dict(claim["metadata"]["labels"])},
        "spec": claim["spec"],
    }


SUITES = {
    "default": ("2", ("example-environment-1", "example-environment-2")),
    "multipleModeMaxMatch1": ("2", ("example-environment-1", "example-environment-2")),
    "multipleModeMaxMatchNil": ("3", ("example-environment-1", "example-environment-2", "example-environment-3")),
    "resolutionOptional": ("1", ("example-environment-1",)),
}


@pytest.mark.parametrize(("suite", "want", "refs"), [(k, *v) for k, v in SUITES.items()], ids=SUITES.keys())
def test_e2e_environment_suites(suite: str, want: str, refs: tuple[str, ...]) -> None:
    composition = docs(E2E / suite / "setup" / "composition.yaml")[0]
    configs = docs(E2E / suite / "setup" / "environmentConfigs.yaml")
    xr = composite_for(suite)
    loaded = load_composition(composition)
    resolved = resolve_environment(loaded.environment, xr, configs)
    assert resolved.refs == refs
    assert resolved.environment["complex"]["a"] == "b"
    result = render_composite(xr, loaded, environment=resolved.environment)
    (composed,) = result.resources
    assert composed.resource["metadata"]["annotations"]["valueFromEnv"] == want
    assert composed.source_of("metadata.annotations[valueFromEnv]").patch_type == "FromEnvironmentFieldPath"  # type: ignore[union-attr]


def test_if_not_present_keeps_the_configs_chosen_first() -> None:
    spec = {
        "environmentConfigs": [
            {
                "type": "Selector",
                "selector": {"mode": "Multiple", "matchLabels": [{"key": "stage", "type": "Value", "value": "prod"}]},
            }
        ]
    }
    configs = docs(E2E / "resolveIfNotPresent" / "setup" / "environmentConfigs.yaml")
    added = docs(E2E / "resolveIfNotPresent" / "01-addedEnvironmentConfig.yaml")
    xr = composite_for("resolveIfNotPresent")
    first = resolve_environment(spec, xr, configs)
    xr["spec"]["environmentConfigRefs"] = [{"name": n} for n in first.refs]
    again = resolve_environment(spec, xr, configs + added)
    assert again.refs == first.refs
    always = resolve_environment({**spec, "policy": {"resolve": "Always"}}, xr, configs + added)
    assert len(always.refs) == len(first.refs) + 1


def test_default_data_is_overridden_by_configs() -> None:
    spec = {"defaultData": {"a": 1, "nested": {"x": 1, "y": 1}}, "environmentConfigs": [{"ref": {"name": "one"}}]}
    configs = [{"metadata": {"name": "one"}, "data": {"nested": {"y": 2}}}]
    env = resolve_environment(spec, {"metadata": {"name": "xr"}}, configs).environment
    assert env == {
        "apiVersion": "internal.crossplane.io/v1alpha1",
        "kind": "Environment",
        "a": 1,
        "nested": {"x": 1, "y": 2},
    }


REFUSALS = {
    "missing-reference": ({"environmentConfigs": [{"ref": {"name": "nope"}}]}, "'nope' referenced"),
    "single-selector-matches-two": (
        {
            "environmentConfigs": [
                {"type": "Selector", "selector": {"matchLabels": [{"key": "stage", "type": "Value", "value": "prod"}]}}
            ]
        },
        "exactly one",
    ),
    "single-selector-matches-none": (
        {
            "environmentConfigs": [
                {"type": "Selector", "selector": {"matchLabels": [{"key": "stage", "type": "Value", "value": "qa"}]}}
            ]
        },
        "selects no EnvironmentConfig",
    ),
    "required-label-source-missing": (
        {
            "environmentConfigs": [
                {
                    "type": "Selector",
                    "selector": {"matchLabels": [{"key": "stage", "valueFromFieldPath": "metadata.labels[nope]"}]},
                }
            ]
        },
        "does not have",
    ),
}


@pytest.mark.parametrize(("spec", "fragment"), REFUSALS.values(), ids=REFUSALS.keys())
def test_unresolvable_environments_are_refused(spec: dict[str, Any], fragment: str) -> None:
    configs = docs(E2E / "multipleModeMaxMatch1" / "setup" / "environmentConfigs.yaml")
    with pytest.raises(EnvironmentConfigNotFoundError, match=fragment):
        resolve_environment(spec, composite_for("default"), configs)
