"""Rendering: Crossplane metadata, names, connection details, readiness, function steps and errors.

Test design notes: compositions here are small pipelines built in the test; expected values come
from the spec sheet (sections 1.7 to 1.9) and the render example in the corpus (Creating condition
text, generateName, controller ownerReference).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from blacktop.kernel.errors import NotFoundError
from blacktop.resources.composition import (
    InvalidCompositionError,
    PatchError,
    StepFailedError,
    UnsupportedFeatureError,
    compose_name,
    load_composition,
    render_composite,
)
from blacktop.resources.composition.readiness import is_ready

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
XR: dict[str, Any] = {
    "apiVersion": "platform.example.org/v1alpha1",
    "kind": "XDatabase",
    "metadata": {
        "name": "orders-db-7xk2p",
        "uid": "uid-1",
        "labels": {
            "crossplane.io/composite": "orders-db-7xk2p",
            "crossplane.io/claim-name": "orders-db",
            "crossplane.io/claim-namespace": "orders-team",
        },
    },
    "spec": {"size": "small", "password": "s3cret"},
}


def composition(*resources: dict[str, Any], extra_steps: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": "databases"},
        "spec": {
            "compositeTypeRef": {"apiVersion": "platform.example.org/v1alpha1", "kind": "XDatabase"},
            "mode": "Pipeline",
            "pipeline": [
                {
                    "step": "pt",
                    "functionRef": {"name": "function-patch-and-transform"},
                    "input": {
                        "apiVersion": "pt.fn.crossplane.io/v1beta1",
                        "kind": "Resources",
                        "resources": list(resources),
                    },
                },
                *extra_steps,
            ],
        },
    }


def template(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "base": {"apiVersion": "example.org/v1", "kind": "Thing", "spec": {"a": 1}}, **fields}


def observed(name: str, *, ready: str = "True", **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.org/v1",
        "kind": "Thing",
        "metadata": {
            "name": f"orders-db-7xk2p-{name}",
            "annotations": {"crossplane.io/composition-resource-name": name},
        },
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
        **fields,
    }


def test_composed_resources_carry_crossplane_names_labels_annotation_and_owner() -> None:
    result = render_composite(XR, composition(template("db")))
    meta = result.resource("db").resource["metadata"]
    assert meta == {
        "generateName": "orders-db-7xk2p-",
        "labels": {
            "crossplane.io/composite": "orders-db-7xk2p",
            "crossplane.io/claim-name": "orders-db",
            "crossplane.io/claim-namespace": "orders-team",
        },
        "annotations": {"crossplane.io/composition-resource-name": "db"},
        "ownerReferences": [
            {
                "apiVersion": "platform.example.org/v1alpha1",
                "blockOwnerDeletion": True,
                "controller": True,
                "kind": "XDatabase",
                "name": "orders-db-7xk2p",
                "uid": "uid-1",
            }
        ],
    }
    assert result.resource("db").source_of("metadata.labels[crossplane.io/claim-name]").origin == "crossplane"  # type: ignore[union-attr]


def test_the_composite_label_of_a_nested_xr_names_the_root() -> None:
    nested = {**XR, "metadata": {**XR["metadata"], "name": "child-x", "labels": {"crossplane.io/composite": "root"}}}
    meta = render_composite(nested, composition(template("db"))).resource("db").resource["metadata"]
    assert meta["generateName"] == "root-"
    assert meta["labels"] == {"crossplane.io/composite": "root"}


def test_an_existing_resource_keeps_its_observed_name() -> None:
    result = render_composite(XR, composition(template("db")), observed=[observed("db")])
    db = result.resource("db")
    assert db.resource["metadata"]["name"] == "orders-db-7xk2p-db"
    assert db.exists
    assert db.source_of("metadata.name").origin == "observed"  # type: ignore[union-attr]


def test_a_name_set_in_the_template_is_kept() -> None:
    named = template("db")
    named["base"]["metadata"] = {"name": "fixed-name"}
    assert render_composite(XR, composition(named)).resource("db").resource["metadata"]["name"] == "fixed-name"


COMPOSE_NAMES = {
    "short": ("orders-db-", "b2x4z", "orders-db-b2x4z"),
    "cut-to-58": ("x" * 70, "bcdfg", "x" * 58 + "bcdfg"),
}


@pytest.mark.parametrize(("prefix", "suffix", "want"), COMPOSE_NAMES.values(), ids=COMPOSE_NAMES.keys())
def test_generated_names_follow_the_kubernetes_algorithm(prefix: str, suffix: str, want: str) -> None:
    assert compose_name(prefix, suffix) == want


def test_generated_name_suffix_must_use_the_kubernetes_alphabet() -> None:
    with pytest.raises(PatchError, match="5 characters"):
        compose_name("a-", "aeiou")


# -- connection details ---------------------------------------------------------------------------


def test_connection_details_of_every_type_are_aggregated_later_templates_winning() -> None:
    details_a = [
        {"name": "password", "type": "FromConnectionSecretKey", "fromConnectionSecretKey": "attribute.password"},
        {"name": "endpoint", "type": "FromFieldPath", "fromFieldPath": "status.atProvider.endpoint"},
        {"name": "port", "type": "FromFieldPath", "fromFieldPath": "status.atProvider.port"},
        {"name": "engine", "type": "FromValue", "value": "postgres"},
        {"name": "missing-key", "type": "FromConnectionSecretKey", "fromConnectionSecretKey": "nope"},
        {"name": "missing-field", "type": "FromFieldPath", "fromFieldPath": "status.nope"},
    ]
    details_b = [{"name": "engine", "type": "FromValue", "value": "postgresql"}]
    result = render_composite(
        XR,
        composition(template("a", connectionDetails=details_a), template("b", connectionDetails=details_b)),
        observed=[observed("a", status={"atProvider": {"endpoint": "db.local", "port": 5432}}), observed("b")],
        observed_connection_details={"a": {"attribute.password": b"pw"}},
    )
    assert result.connection_details == {
        "password": b"pw",
        "endpoint": b"db.local",
        "port": b"5432",
        "engine": b"postgresql",
    }


def test_published_connection_details_follow_the_xrds_keys() -> None:
    details = [{"name": k, "type": "FromValue", "value": k.upper()} for k in ("host", "port", "extra")]
    result = render_composite(XR, composition(template("a", connectionDetails=details)), observed=[observed("a")])
    assert result.published_connection_details(["host", "port"]) == {"host": b"HOST", "port": b"PORT"}
    assert result.published_connection_details([]) == {"host": b"HOST", "port": b"PORT", "extra": b"EXTRA"}


def test_connection_details_need_an_observed_resource() -> None:
    details = [{"name": "engine", "type": "FromValue", "value": "postgres"}]
    assert render_composite(XR, composition(template("a", connectionDetails=details))).connection_details == {}


def test_legacy_connection_details_infer_type_and_name() -> None:
    doc = {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": "legacy"},
        "spec": {
            "compositeTypeRef": {"apiVersion": "platform.example.org/v1alpha1", "kind": "XDatabase"},
            "resources": [
                template(
                    "a",
                    connectionDetails=[
                        {"fromConnectionSecretKey": "username"},
                        {"name": "host", "fromFieldPath": "status.host"},
                        {"name": "kind", "value": "pg"},
                    ],
                )
            ],
        },
    }
    result = render_composite(
        XR, doc, observed=[observed("a", status={"host": "h"})], observed_connection_details={"a": {"username": b"u"}}
    )
    assert result.connection_details == {"username": b"u", "host": b"h", "kind": b"pg"}


def test_pipeline_connection_details_need_type_and_name() -> None:
    with pytest.raises(InvalidCompositionError, match="needs 'type'") as caught:
        load_composition(composition(template("a", connectionDetails=[{"fromConnectionSecretKey": "x"}])))
    assert caught.value.problems[0].path == "spec.pipeline[0].input.resources[0].connectionDetails[0]"


def test_a_v2_composite_gets_its_connection_secret_composed() -> None:
    xr = {**XR, "metadata": {"name": "db", "namespace": "orders-team"}, "spec": {"crossplane": {}}}
    details = [{"name": "password", "type": "FromConnectionSecretKey", "fromConnectionSecretKey": "pw"}]
    result = render_composite(
        xr,
        composition(template("a", connectionDetails=details)),
        observed=[observed("a")],
        observed_connection_details={"a": {"pw": b"hunter2"}},
    )
    secret = result.resource("db-connection-secret")
    assert secret.ready
    assert secret.resource["metadata"]["name"] == "db-connection"
    assert secret.resource["metadata"]["namespace"] == "orders-team"
    assert secret.resource["data"] == {"password": "aHVudGVyMg=="}


# -- readiness ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyCase:
    checks: list[dict[str, Any]]
    resource: dict[str, Any] | None
    want: bool
    warns: bool = False


OBS = {
    "status": {
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}],
        "phase": "Running",
        "replicas": 3,
        "enabled": True,
        "off": False,
    }
}
READY = {
    "default-ready-condition": ReadyCase([], OBS, True),
    "default-without-condition": ReadyCase([], {"status": {}}, False),
    "not-yet-observed": ReadyCase([{"type": "None"}], None, False),
    "none": ReadyCase([{"type": "None"}], {"status": {}}, True),
    "non-empty-present": ReadyCase([{"type": "NonEmpty", "fieldPath": "status.phase"}], OBS, True),
    "non-empty-missing": ReadyCase([{"type": "NonEmpty", "fieldPath": "status.nope"}], OBS, False),
    "match-string": ReadyCase(
        [{"type": "MatchString", "fieldPath": "status.phase", "matchString": "Running"}], OBS, True
    ),
    "match-string-differs": ReadyCase(
        [{"type": "MatchString", "fieldPath": "status.phase", "matchString": "Up"}], OBS, False
    ),
    "match-integer": ReadyCase(
        [{"type": "MatchInteger", "fieldPath": "status.replicas", "matchInteger": 3}], OBS, True
    ),
    "match-integer-type-error-warns": ReadyCase(
        [{"type": "MatchInteger", "fieldPath": "status.phase", "matchInteger": 3}], OBS, False, warns=True
    ),
    "match-true": ReadyCase([{"type": "MatchTrue", "fieldPath": "status.enabled"}], OBS, True),
    "match-false": ReadyCase([{"type": "MatchFalse", "fieldPath": "status.off"}], OBS, True),
    "match-true-on-false": ReadyCase([{"type": "MatchTrue", "fieldPath": "status.off"}], OBS, False),
    "match-condition-custom": ReadyCase(
        [{"type": "MatchCondition", "matchCondition": {"type": "Synced", "status": "False"}}], OBS, True
    ),
    "match-condition-missing-is-unknown": ReadyCase(
        [{"type": "MatchCondition", "matchCondition": {"type": "Healthy", "status": "Unknown"}}], OBS, True
    ),
    "checks-are-anded": ReadyCase(
        [{"type": "MatchTrue", "fieldPath": "status.enabled"}, {"type": "MatchTrue", "fieldPath": "status.off"}],
        OBS,
        False,
    ),
}


@pytest.mark.parametrize("case", READY.values(), ids=READY.keys())
def test_readiness_checks(case: ReadyCase) -> None:
    outcome = is_ready(case.resource, case.checks)
    assert outcome.ready is case.want
    assert bool(outcome.warnings) is case.warns


def test_composite_readiness_lists_unready_resources() -> None:
    result = render_composite(
        XR,
        composition(template("a"), template("b"), template("c"), template("d"), template("e")),
        observed=[observed("a"), observed("b", ready="False")],
    )
    assert [r.ready for r in result.resources] == [True, False, False, False, False]
    assert not result.ready
    assert result.ready_condition(now=NOW) == {
        "lastTransitionTime": "2026-11-26T12:00:00Z",
        "message": "Unready resources: b, c, d, and 1 more",
        "reason": "Creating",
        "status": "False",
        "type": "Ready",
    }


def test_composite_is_available_when_every_resource_is_ready() -> None:
    result = render_composite(XR, composition(template("a")), observed=[observed("a")])
    assert result.ready
    assert result.ready_condition(now=NOW)["reason"] == "Available"
    xr_manifest = result.manifests(now=NOW)[0]
    assert xr_manifest["status"]["conditions"][-1]["status"] == "True"


def test_auto_ready_marks_resources_with_a_ready_condition() -> None:
    never = [{"type": "NonEmpty", "fieldPath": "status.never"}]
    auto = ({"step": "ready", "functionRef": {"name": "crossplane-contrib-function-auto-ready"}},)
    without = render_composite(XR, composition(template("a", readinessChecks=never)), observed=[observed("a")])
    with_auto = render_composite(
        XR, composition(template("a", readinessChecks=never), extra_steps=auto), observed=[observed("a")]
    )
    assert not without.ready
    assert with_auto.ready


# -- function steps and refusals ------------------------------------------------------------------


def test_an_unknown_function_is_refused_naming_it() -> None:
    step = ({"step": "kcl", "functionRef": {"name": "function-kcl"}, "input": {"kind": "KCLInput"}},)
    with pytest.raises(UnsupportedFeatureError, match="function-kcl") as caught:
        render_composite(XR, composition(template("a"), extra_steps=step))
    assert caught.value.feature == "composition function 'function-kcl'"


def test_a_runner_can_run_other_functions_and_sees_desired_state() -> None:
    seen: list[Mapping[str, Any]] = []

    def runner(request: Mapping[str, Any]) -> Mapping[str, Any]:
        seen.append(request)
        desired = dict(request["desired"])
        desired["composite"] = {"resource": {**desired["composite"]["resource"], "status": {"note": "hi"}}}
        return {"desired": desired, "results": [{"severity": "SEVERITY_WARNING", "message": "careful"}]}

    step = ({"step": "custom", "functionRef": {"name": "function-custom"}, "input": {"x": 1}},)
    result = render_composite(XR, composition(template("a"), extra_steps=step), functions={"function-custom": runner})
    assert seen[0]["input"] == {"x": 1}
    assert seen[0]["desired"]["resources"]["a"]["resource"]["spec"] == {"a": 1}
    assert result.composite["status"] == {"note": "hi"}
    assert result.composite_provenance["status.note"].step == "custom"
    assert [e.message for e in result.events if e.severity == "Warning"] == ["careful"]


def test_a_fatal_function_result_fails_the_render() -> None:
    step = ({"step": "custom", "functionRef": {"name": "function-custom"}},)

    def runner(request: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"results": [{"severity": "SEVERITY_FATAL", "message": "boom"}]}

    with pytest.raises(StepFailedError, match=re.escape("step 'custom' (function 'function-custom') failed: boom")):
        render_composite(XR, composition(template("a"), extra_steps=step), functions={"function-custom": runner})


def test_a_resource_without_base_needs_an_earlier_step() -> None:
    with pytest.raises(PatchError, match="has no base template"):
        render_composite(XR, composition({"name": "ghost", "patches": []}))


def test_a_composite_of_another_type_is_refused() -> None:
    other = {**XR, "kind": "XCache"}
    with pytest.raises(PatchError, match=re.escape("composes platform.example.org/v1alpha1 XDatabase, not")):
        render_composite(other, composition(template("a")))


def test_result_lookup_of_an_unknown_resource_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        render_composite(XR, composition(template("a"))).resource("b")


def test_rendering_does_not_mutate_its_inputs() -> None:
    doc = composition(template("a", patches=[{"fromFieldPath": "spec.size", "toFieldPath": "spec.a"}]))
    before_doc, before_xr = copy.deepcopy(doc), copy.deepcopy(XR)
    render_composite(XR, doc, observed=[observed("a")])
    assert doc == before_doc
    assert before_xr == XR


def test_legacy_anonymous_templates_are_keyed_by_index_without_the_name_annotation() -> None:
    anonymous = {"base": {"apiVersion": "example.org/v1", "kind": "Thing"}}
    doc = {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": "legacy"},
        "spec": {
            "compositeTypeRef": {"apiVersion": "platform.example.org/v1alpha1", "kind": "XDatabase"},
            "resources": [anonymous, anonymous],
        },
    }
    result = render_composite(XR, doc)
    assert [r.name for r in result.resources] == ["0", "1"]
    assert all("annotations" not in r.resource["metadata"] for r in result.resources)


def test_pipeline_templates_need_names() -> None:
    with pytest.raises(InvalidCompositionError, match="resource name is required") as caught:
        load_composition(composition({"base": {"apiVersion": "v1", "kind": "Thing"}}))
    assert caught.value.problems[0].path == "spec.pipeline[0].input.resources[0].name"


def test_v1_connection_secret_ref_defaults_to_the_uid_in_the_compositions_namespace() -> None:
    doc = composition(template("a"))
    doc["spec"]["writeConnectionSecretsToNamespace"] = "crossplane-system"
    assert render_composite(XR, doc).connection_secret_ref == {"name": "uid-1", "namespace": "crossplane-system"}
    own = {**XR, "spec": {"writeConnectionSecretToRef": {"name": "mine", "namespace": "ns"}}}
    assert render_composite(own, doc).connection_secret_ref == {"name": "mine", "namespace": "ns"}
    assert render_composite(XR, composition(template("a"))).connection_secret_ref is None
