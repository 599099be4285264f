"""Tenancy scoping of cluster-wide ESO kinds: ClusterExternalSecret namespace selection and
ClusterSecretStore conditions, plus store resolution for an ExternalSecret.
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.secrets import eso, scoping
from blacktop.secrets.errors import SyncError

NAMESPACES = {
    "payments": {"team": "payments", "env": "prod"},
    "search": {"team": "search", "env": "prod"},
    "sandbox": {"env": "dev"},
}
ES_SPEC = {"secretStoreRef": {"name": "shared", "kind": "ClusterSecretStore"}, "data": []}


def ces(**spec: Any) -> eso.ClusterExternalSecret:
    parsed = eso.parse_eso_document(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterExternalSecret",
            "metadata": {"name": "db"},
            "spec": {"externalSecretSpec": ES_SPEC, **spec},
        }
    )
    assert isinstance(parsed, eso.ClusterExternalSecret)
    return parsed


CES_CASES = {
    "nothing-selected-by-default": ({}, []),
    "explicit-namespaces-that-exist": ({"namespaces": ["payments", "ghost"]}, ["payments"]),
    "match-labels": ({"namespaceSelectors": [{"matchLabels": {"env": "prod"}}]}, ["payments", "search"]),
    "selectors-are-or-ed": (
        {"namespaceSelectors": [{"matchLabels": {"team": "search"}}, {"matchLabels": {"env": "dev"}}]},
        ["sandbox", "search"],
    ),
    "match-expressions": (
        {"namespaceSelectors": [{"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["search"]}]}]},
        ["payments", "sandbox"],
    ),
    "deprecated-single-selector": ({"namespaceSelector": {"matchLabels": {"env": "dev"}}}, ["sandbox"]),
    "empty-selector-matches-all": ({"namespaceSelectors": [{}]}, ["payments", "sandbox", "search"]),
}


@pytest.mark.parametrize(("spec", "want"), CES_CASES.values(), ids=CES_CASES.keys())
def test_cluster_external_secret_namespaces(spec: dict[str, Any], want: list[str]) -> None:
    assert scoping.target_namespaces(ces(**spec), NAMESPACES) == want


def test_stamped_external_secrets_carry_name_and_metadata() -> None:
    stamped = scoping.stamp_external_secrets(
        ces(
            namespaces=["payments", "search"],
            externalSecretName="db-creds",
            externalSecretMetadata={"labels": {"app": "x"}},
        ),
        NAMESPACES,
    )
    assert [(e.metadata.namespace, e.metadata.name, e.metadata.labels) for e in stamped] == [
        ("payments", "db-creds", {"app": "x"}),
        ("search", "db-creds", {"app": "x"}),
    ]


def cluster_store(conditions: list[dict[str, Any]]) -> eso.SecretStore:
    parsed = eso.parse_eso_document(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared"},
            "spec": {"provider": {"blacktop": {}}, "conditions": conditions},
        }
    )
    assert isinstance(parsed, eso.SecretStore)
    return parsed


STORE_CASES = {
    "no-conditions-allow-all": ([], "sandbox", True),
    "namespace-list": ([{"namespaces": ["payments"]}], "payments", True),
    "namespace-list-excludes": ([{"namespaces": ["payments"]}], "search", False),
    "regex": ([{"namespaceRegexes": ["^pay"]}], "payments", True),
    "selector": ([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}], "sandbox", False),
}


@pytest.mark.parametrize(("conditions", "namespace", "want"), STORE_CASES.values(), ids=STORE_CASES.keys())
def test_cluster_store_conditions(conditions: list[dict[str, Any]], namespace: str, want: bool) -> None:
    store = cluster_store(conditions)
    assert scoping.is_store_usable_from(store, namespace, NAMESPACES[namespace]) is want


def test_resolve_store_refuses_a_namespace_outside_the_conditions() -> None:
    es = eso.parse_eso_document(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "x", "namespace": "search"},
            "spec": ES_SPEC,
        }
    )
    assert isinstance(es, eso.ExternalSecret)
    stores: dict[tuple[str, str | None, str], eso.SecretStore] = {
        ("ClusterSecretStore", None, "shared"): cluster_store([{"namespaces": ["payments"]}])
    }
    with pytest.raises(SyncError, match="does not allow namespace 'search'"):
        scoping.resolve_store(es, stores, namespace_labels=NAMESPACES["search"])
    with pytest.raises(SyncError, match="could not get ClusterSecretStore 'shared'"):
        scoping.resolve_store(es, {}, namespace_labels={})
