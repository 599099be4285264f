"""Entity validation reports every problem with its field path (schema, policies and naming rules).

Test design notes: each row breaks one rule from the spec sheet sections 1-2 on an otherwise valid
component (or a second kind where the rule is kind-specific) and names the paths that must be
reported, so a row fails both when a problem is missed and when a spurious one appears.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop.catalog import InvalidEntity, problems_in, validate_entity


def component(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "payment-service"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", **spec},
    }


def with_metadata(**metadata: Any) -> dict[str, Any]:
    document = component()
    document["metadata"].update(metadata)
    return document


def with_root(**root: Any) -> dict[str, Any]:
    document = component()
    document.update(root)
    return document


def without(path: str) -> dict[str, Any]:
    document = component()
    parts = path.split(".")
    parent = document
    for part in parts[:-1]:
        parent = parent[part]
    del parent[parts[-1]]
    return document


@dataclass(frozen=True)
class Case:
    document: Any
    want_paths: list[str] = field(default_factory=list)


CASES = {
    "minimal-valid": Case(component()),
    "missing-name": Case(without("metadata.name"), ["metadata.name"]),
    "missing-owner": Case(without("spec.owner"), ["spec.owner"]),
    "missing-spec": Case(without("spec"), ["spec"]),
    "missing-kind": Case(without("kind"), ["kind"]),
    "unknown-kind": Case(with_root(kind="Widget"), ["kind"]),
    "kind-with-dash": Case(with_root(kind="My-Kind"), ["kind"]),
    "wrong-api-version-for-kind": Case(with_root(apiVersion="backstage.io/v2"), ["apiVersion"]),
    "malformed-api-version": Case(with_root(apiVersion="a/b/v1"), ["apiVersion"]),
    "foreign-root-field": Case(with_root(relations=[]), ["relations"]),
    "status-is-server-made": Case(with_root(status={}), ["status"]),
    "name-too-long": Case(with_metadata(name="a" * 64), ["metadata.name"]),
    "name-63-ok": Case(with_metadata(name="a" * 63)),
    "name-ends-with-dash": Case(with_metadata(name="svc-"), ["metadata.name"]),
    "name-with-space": Case(with_metadata(name="my svc"), ["metadata.name"]),
    "name-upper-and-dots-ok": Case(with_metadata(name="My.Service_v2")),
    "name-not-a-string": Case(with_metadata(name=42), ["metadata.name"]),
    "namespace-upper": Case(with_metadata(namespace="Ops"), ["metadata.namespace"]),
    "namespace-underscore": Case(with_metadata(namespace="my_ns"), ["metadata.namespace"]),
    "namespace-ok": Case(with_metadata(namespace="team-ops")),
    "empty-title": Case(with_metadata(title=""), ["metadata.title"]),
    "tag-upper": Case(with_metadata(tags=["Java"]), ["metadata.tags[0]"]),
    "tag-plus-hash-colon-ok": Case(with_metadata(tags=["c++", "c#", "lang:go"])),
    "tag-double-dash": Case(with_metadata(tags=["ok", "a--b"]), ["metadata.tags[1]"]),
    "tag-not-string": Case(with_metadata(tags=[1]), ["metadata.tags[0]"]),
    "label-value-with-space": Case(with_metadata(labels={"tier": "gold plated"}), ["metadata.labels.tier"]),
    "label-empty-value-ok": Case(with_metadata(labels={"example.com/tier": ""})),
    "label-key-bad-prefix": Case(with_metadata(labels={"Example.com/tier": "a"}), ["metadata.labels.Example.com/tier"]),
    "annotation-number": Case(
        with_metadata(annotations={"pagerduty.com/service-id": 7}), ["metadata.annotations.pagerduty.com/service-id"]
    ),
    "annotation-long-value-ok": Case(with_metadata(annotations={"example.com/x": "any value at all " * 20})),
    "annotation-key-two-slashes": Case(with_metadata(annotations={"a/b/c": "x"}), ["metadata.annotations.a/b/c"]),
    "link-without-url": Case(with_metadata(links=[{"title": "Docs"}]), ["metadata.links[0].url"]),
    "link-not-a-url": Case(with_metadata(links=[{"url": "not a url"}]), ["metadata.links[0].url"]),
    "link-empty-title": Case(with_metadata(links=[{"url": "https://x.io", "title": ""}]), ["metadata.links[0].title"]),
    "owner-not-string": Case(component(owner=["team-a"]), ["spec.owner"]),
    "depends-on-item-not-string": Case(component(dependsOn=["resource:db", 3]), ["spec.dependsOn[1]"]),
    "several-problems-at-once": Case(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "x y", "tags": ["A"]},
            "spec": {"type": "service"},
        },
        ["metadata.name", "metadata.tags[0]", "spec.lifecycle", "spec.owner"],
    ),
    "group-children-required": Case(
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"}, "spec": {"type": "team"}},
        ["spec.children"],
    ),
    "api-definition-must-be-text": Case(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "a"},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "t", "definition": {"$text": "./x"}},
        },
        ["spec.definition"],
    ),
    "mcp-server-needs-remotes": Case(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "a"},
            "spec": {"type": "mcp-server", "lifecycle": "production", "owner": "t", "remotes": []},
        },
        ["spec.remotes"],
    ),
    "location-presence-enum": Case(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {"name": "l"},
            "spec": {"target": "./x.yaml", "presence": "maybe"},
        },
        ["spec.presence"],
    ),
    "template-needs-v1beta3": Case(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Template",
            "metadata": {"name": "t"},
            "spec": {"type": "service", "steps": []},
        },
        ["apiVersion"],
    ),
    "not-a-mapping": Case(["a"], [""]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validation_reports_every_problem_path(case: Case) -> None:
    assert sorted({p.path for p in problems_in(case.document)}) == sorted(case.want_paths)


def test_validate_entity_raises_once_with_all_problems() -> None:
    document = CASES["several-problems-at-once"].document
    with pytest.raises(InvalidEntity) as caught:
        validate_entity(document)
    assert [p.path for p in caught.value.problems] == [
        "metadata.name",
        "metadata.tags[0]",
        "spec.lifecycle",
        "spec.owner",
    ]
    assert "Component:x y" in str(caught.value)


def test_validate_entity_fills_default_namespace_and_keeps_input() -> None:
    document = component()
    before = copy.deepcopy(document)
    entity = validate_entity(document)
    assert entity.namespace == "default"
    assert entity.ref.key == "component:default/payment-service"
    assert document == before
