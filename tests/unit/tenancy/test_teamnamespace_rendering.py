"""TeamNamespace manifests: golden files per case, Kubernetes schema validity, exact peer translation.

Test design: each case is rendered to the files the controller commits, joined in path order and
compared with ``tests/golden/tenancy/<case>.yaml`` (regenerate with ``BLACKTOP_UPDATE_GOLDEN=1``
and review the diff). Every manifest is validated against the Kubernetes 1.31 schemas shipped with
``kubernetes-validate`` (strict: unknown fields fail), since the corpus holds CRD schemas only.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from tests.corpus import examples_dir

from blacktop.kernel.kinds import validate_object
from blacktop.tenancy import teamnamespaces as tns

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "tenancy"
EXAMPLE: dict[str, Any] = yaml.safe_load((examples_dir() / "team-namespace-payments.yaml").read_text())


def document(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": tns.kind.API_VERSION, "kind": "TeamNamespace", "metadata": {"name": name}, "spec": spec}


CASES: dict[str, dict[str, Any]] = {
    "payments-production": copy.deepcopy(EXAMPLE),
    "minimal": document("search-dev", {"team": "search"}),
    "users-ipblocks-no-monitoring": document("ml-staging", {
        "team": "ml",
        "environment": "staging",
        "tier": "high",
        "resourceQuotas": {"requests.storage": "500Gi", "count/deployments.apps": 20, "limits.cpu": "64"},
        "limitRanges": {"maxLimit": {"cpu": "16", "memory": "64Gi", "ephemeral-storage": "10Gi"}},
        "networkPolicies": [
            {"allowIngressFrom": [{"namespaceSelector": {"matchExpressions": [
                {"key": "team", "operator": "In", "values": ["ml", "data"]}]},
                "podSelector": {"matchLabels": {"app": "gateway"}}}],
             "allowEgressTo": [{"ipBlock": {"cidr": "172.16.0.0/12", "except": ["172.16.5.0/24"]}},
                               {"ipBlock": {"cidr": "fd00::/8"}}]},
        ],
        "rbac": {"admins": [{"user": "ada"}], "viewers": [{"group": "ml-readers"}, {"user": "bob"}]},
        "monitoring": {"prometheus": False, "costAllocation": False, "teamDashboard": True},
    }),
}  # fmt: skip


def parsed(case: str) -> tns.TeamNamespace:
    return tns.parse_team_namespace(validate_object(tns.TEAM_NAMESPACE, CASES[case]))


def joined(files: dict[str, str]) -> str:
    return "".join(f"---\n# path: {path}\n{text}" for path, text in sorted(files.items()))


@pytest.mark.parametrize("case", CASES.keys())
def test_rendered_files_match_golden(case: str, request: pytest.FixtureRequest) -> None:
    text = joined(tns.rendering.render_files(parsed(case)))
    path = GOLDEN / f"{case}.yaml"
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} is missing; regenerate with BLACKTOP_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_golden_folder_holds_only_cases() -> None:
    assert sorted(p.stem for p in GOLDEN.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("case", CASES.keys())
def test_every_manifest_is_valid_kubernetes(case: str) -> None:
    for manifest in tns.rendering.render_manifests(parsed(case)):
        kubernetes_validate.validate(manifest, "1.31", strict=True)


def test_peers_are_copied_exactly_and_deny_comes_first() -> None:
    team_ns = parsed("payments-production")
    policies = {p["metadata"]["name"]: p["spec"] for p in tns.rendering.render_network_policies(team_ns)}
    assert list(policies) == ["default-deny", "allow-dns", "allow-0", "allow-1"]
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    spec = EXAMPLE["spec"]["networkPolicies"]
    assert policies["allow-0"]["ingress"] == [{"from": spec[0]["allowIngressFrom"]}]
    assert policies["allow-1"]["egress"] == [{"to": spec[1]["allowEgressTo"]}]
    assert "egress" not in policies["allow-0"] and "ingress" not in policies["allow-1"]


ROLE_MAP = {
    "team-admins": ("admin", ["payments-leads"]),
    "team-developers": ("edit", ["payments-engineers"]),
    "team-viewers": ("view", ["payments-stakeholders"]),
}


def test_kubernetes_role_bindings_grant_cluster_roles_to_the_groups() -> None:
    bindings = tns.rendering.render_role_bindings(parsed("payments-production"))
    got = {b["metadata"]["name"]: (b["roleRef"]["name"], [s["name"] for s in b["subjects"]]) for b in bindings}
    assert got == ROLE_MAP
    assert {s["kind"] for b in bindings for s in b["subjects"]} == {"Group"}


PROMETHEUS, COST = tns.rendering.PROMETHEUS_LABEL, tns.rendering.COST_LABEL
MONITORING = {
    "payments-production": ({PROMETHEUS: "payments", COST: "payments"}, 3, True),
    "minimal": ({PROMETHEUS: "search", COST: "search"}, 2, False),
    "users-ipblocks-no-monitoring": ({}, 1, True),
}


@pytest.mark.parametrize("case", MONITORING.keys())
def test_monitoring_switches_add_labels_dashboard_and_say_what_they_did(case: str) -> None:
    want_labels, notes, dashboard = MONITORING[case]
    team_ns = parsed(case)
    labels = tns.rendering.namespace_labels(team_ns)
    assert {k: v for k, v in labels.items() if k in (PROMETHEUS, COST)} == want_labels
    assert len(tns.rendering.monitoring_notes(team_ns)) == notes
    maps = [m for m in tns.rendering.render_manifests(team_ns) if m["kind"] == "ConfigMap"]
    assert len(maps) == int(dashboard)
    if dashboard:
        assert maps[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
        model = json.loads(maps[0]["data"][f"{team_ns.name}.json"])
        exprs = [t["expr"] for p in model["panels"] for t in p["targets"]]
        assert len(model["panels"]) == 4 and all(f'namespace="{team_ns.namespace}"' in e for e in exprs)
