"""CompositeResourceDefinitions: corpus XRDs load or are refused by name, and serve the right kinds.

Test design notes:

* The walk parses every YAML document of the Crossplane corpus and picks each
  CompositeResourceDefinition. Docs snippets that elide parts (no apiVersion) are fragments: they
  must be refused with located problems, never crash. Every other XRD must load and its kinds
  must register in a fresh KindRegistry (their schemas are valid structural schemas).
* Table-driven cases pin the shape of the kinds (scope, injected Crossplane fields, printer
  columns, categories) and the refusals (every problem with its path; unsupported features named).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop.kernel.errors import InputError
from blacktop.kernel.kinds import KindRegistry, Scope, validate_object
from blacktop.resources.composition import UnsupportedFeatureError
from blacktop.resources.definitions import InvalidDefinitionError, load_definition

CROSSPLANE = corpus_dir("crossplane")


def corpus_definitions() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for path in sorted(CROSSPLANE.rglob("*.yaml")):
        rel = path.relative_to(CROSSPLANE).as_posix()
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError:
            continue
        for index, doc in enumerate(docs):
            if isinstance(doc, dict) and doc.get("kind") == "CompositeResourceDefinition":
                found.append((rel, index, doc))
    return found


DEFINITIONS = corpus_definitions()


def test_the_walk_finds_the_corpus_definitions() -> None:
    assert len(DEFINITIONS) >= 36


@pytest.mark.parametrize(("rel", "index", "doc"), DEFINITIONS, ids=[f"{r}#{i}" for r, i, _ in DEFINITIONS])
def test_every_corpus_definition_loads_and_registers_or_is_refused_with_paths(
    rel: str, index: int, doc: dict[str, Any]
) -> None:
    if "apiVersion" not in doc:
        assert rel.startswith("docs-snippets/")
        with pytest.raises(InvalidDefinitionError) as caught:
            load_definition(doc)
        assert caught.value.problems and all(p.path for p in caught.value.problems)
        return
    loaded = load_definition(doc)
    registry = KindRegistry()
    for info in loaded.kinds():
        registry.register(info)
    assert loaded.composite.origin == f"xrd:{doc['metadata']['name']}"
    if doc["spec"].get("claimNames"):
        assert loaded.claim is not None and loaded.claim.scope is Scope.NAMESPACED


def xrd(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": "xdatabases.platform.company.io"},
        "spec": {
            "group": "platform.company.io",
            "names": {"kind": "XDatabase", "plural": "xdatabases"},
            "claimNames": {"kind": "Database", "plural": "databases", "shortNames": ["db"]},
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "referenceable": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["engine"],
                                    "properties": {
                                        "engine": {"type": "string", "enum": ["postgresql", "mysql"]},
                                        "size": {"type": "string", "default": "small"},
                                        "compositionRef": {"type": "integer"},
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    base_spec = base["spec"]
    assert isinstance(base_spec, dict)
    base_spec.update(spec)
    return base


@dataclass
class Refusal:
    document: dict[str, Any]
    paths: list[str] = field(default_factory=list)
    unsupported: str = ""


def _without(key: str) -> dict[str, Any]:
    doc = xrd()
    doc["spec"].pop(key)
    return doc


def _renamed() -> dict[str, Any]:
    doc = xrd()
    doc["metadata"]["name"] = "databases.platform.company.io"
    return doc


def _two_referenceable() -> dict[str, Any]:
    doc = xrd()
    doc["spec"]["versions"].append({**copy.deepcopy(doc["spec"]["versions"][0]), "name": "v1beta1"})
    return doc


REFUSALS = {
    "no-group": Refusal(_without("group"), ["spec.group"]),
    "no-names": Refusal(_without("names"), ["spec.names"]),
    "name-not-plural-dot-group": Refusal(_renamed(), ["metadata.name"]),
    "two-referenceable-versions": Refusal(_two_referenceable(), ["spec.versions"]),
    "bad-policy-and-unknown-field": Refusal(
        xrd(defaultCompositionUpdatePolicy="Sometimes", colour="blue"),
        ["spec.colour", "spec.defaultCompositionUpdatePolicy"],
    ),
    "conversion-webhook": Refusal(xrd(conversion={"strategy": "Webhook"}), unsupported="spec.conversion"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_malformed_definitions_report_every_problem_path(case: Refusal) -> None:
    with pytest.raises(InputError) as caught:
        load_definition(case.document)
    if case.unsupported:
        assert isinstance(caught.value, UnsupportedFeatureError)
        assert case.unsupported in str(caught.value) or case.unsupported in caught.value.feature
    else:
        assert sorted(p.path for p in caught.value.problems) == case.paths


def test_v1_definition_serves_a_cluster_scoped_composite_and_a_namespaced_claim() -> None:
    loaded = load_definition(xrd(connectionSecretKeys=["password"], defaultCompositionRef={"name": "local"}))
    assert loaded.claim is not None
    assert (loaded.composite.scope, loaded.claim.scope) == (Scope.CLUSTER, Scope.NAMESPACED)
    assert (loaded.claim.kind, loaded.claim.plural, loaded.claim.short_names) == ("Database", "databases", ("db",))
    assert "claim" in loaded.claim.categories and "composite" in loaded.composite.categories
    assert loaded.connection_secret_keys == ("password",)
    assert loaded.default_composition == "local"
    assert loaded.composite_api_version == "platform.company.io/v1alpha1"
    assert [c.name for c in loaded.claim.printer_columns] == ["Composition"]


def test_crossplane_fields_replace_user_definitions_and_defaults_apply() -> None:
    loaded = load_definition(xrd())
    assert loaded.claim is not None
    claim: dict[str, Any] = {
        "apiVersion": "platform.company.io/v1alpha1",
        "kind": "Database",
        "metadata": {"name": "db", "namespace": "team"},
        "spec": {"engine": "mysql", "compositionRef": {"name": "local"}, "compositeDeletePolicy": "Foreground"},
    }
    defaulted = validate_object(loaded.claim, claim)
    assert defaulted["spec"]["size"] == "small"
    bad = copy.deepcopy(claim)
    bad["spec"].update(engine="oracle", compositionUpdatePolicy="Never")
    with pytest.raises(InputError) as caught:
        validate_object(loaded.claim, bad)
    assert sorted(p.path for p in caught.value.problems) == ["spec.compositionUpdatePolicy", "spec.engine"]
    composite_spec = loaded.composite.schema["properties"]["spec"]["properties"]
    assert {"claimRef", "resourceRefs", "writeConnectionSecretToRef"} <= set(composite_spec)
    assert "compositeDeletePolicy" not in composite_spec


def test_v2_namespaced_definition_keeps_crossplane_fields_under_spec_crossplane() -> None:
    doc = xrd(scope="Namespaced")
    doc["apiVersion"] = "apiextensions.crossplane.io/v2"
    doc["spec"].pop("claimNames")
    loaded = load_definition(doc)
    assert loaded.claim is None and loaded.composite.scope is Scope.NAMESPACED and not loaded.legacy
    assert "crossplane" in loaded.composite.schema["properties"]["spec"]["properties"]


def test_cel_rules_are_collected_with_their_location_and_optionality() -> None:
    doc = xrd()
    spec_schema = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["x-kubernetes-validations"] = [{"rule": "self.size != 'huge'", "message": "too big"}]
    spec_schema["properties"]["replicas"] = {
        "type": "array",
        "items": {"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0"}]},
    }
    loaded = load_definition(doc)
    assert [(r.path, r.optional, r.rule) for r in loaded.rules] == [
        (("spec",), (True,), "self.size != 'huge'"),
        (("spec", "replicas", "[]"), (True, True, False), "self > 0"),
    ]
