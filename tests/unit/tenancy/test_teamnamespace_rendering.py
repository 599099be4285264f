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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


labels_st = st.dictionaries(
    st.from_regex(r"[a-z]([a-z0-9-]{0,9}[a-z0-9])?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    max_size=2,
)
peer_st = st.one_of(
    labels_st.map(lambda m: {"namespaceSelector": {"matchLabels": m}}),
    st.tuples(st.integers(1, 254), st.integers(8, 32)).map(lambda t: {"ipBlock": {"cidr": f"10.{t[0]}.0.0/{t[1]}"}}),
    st.tuples(labels_st, labels_st).map(lambda t: {"namespaceSelector": {"matchLabels": t[0]},
                                                   "podSelector": {"matchLabels": t[1]}}),
)  # fmt: skip
rule_st = st.one_of(
    st.lists(peer_st, min_size=1, max_size=3).map(lambda p: {"allowIngressFrom": p}),
    st.lists(peer_st, min_size=1, max_size=3).map(lambda p: {"allowEgressTo": p}),
    st.tuples(st.lists(peer_st, min_size=1, max_size=2), st.lists(peer_st, min_size=1, max_size=2)).map(
        lambda t: {"allowIngressFrom": t[0], "allowEgressTo": t[1]}
    ),
)
subject_st = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True).map(lambda n: {"group": n}),
    st.from_regex(r"[a-z][a-z0-9.@-]{0,12}", fullmatch=True).map(lambda n: {"user": n}),
)
quantity_st = st.one_of(st.integers(0, 512), st.sampled_from(["100m", "1.5", "64Gi", "512Mi", "2", "1e3", "10k"]))
spec_st = st.fixed_dictionaries(
    {"team": st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)},
    optional={
        "environment": st.sampled_from(tns.kind.ENVIRONMENTS),
        "tier": st.sampled_from(tns.kind.TIERS),
        "resourceQuotas": st.dictionaries(st.sampled_from(["cpu", "memory", "pods", "requests.storage",
                                                           "count/configmaps"]), quantity_st, max_size=4),
        "limitRanges": st.fixed_dictionaries({}, optional={"maxLimit": st.fixed_dictionaries(
            {}, optional={"cpu": quantity_st, "memory": quantity_st})}),
        "networkPolicies": st.lists(rule_st, max_size=3),
        "rbac": st.fixed_dictionaries({}, optional={r: st.lists(subject_st, max_size=3)
                                                    for r in ("admins", "developers", "viewers")}),
        "monitoring": st.fixed_dictionaries({}, optional={k: st.booleans() for k in
                                                          ("prometheus", "costAllocation", "teamDashboard")}),
    },
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_st)
def test_any_valid_spec_renders_valid_kubernetes_with_peers_copied_exactly(spec: dict[str, Any]) -> None:
    team_ns = tns.parse_team_namespace(validate_object(tns.TEAM_NAMESPACE, document("generated", spec)))
    manifests = tns.rendering.render_manifests(team_ns)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.31", strict=True)
    policies = {m["metadata"]["name"]: m["spec"] for m in manifests if m["kind"] == "NetworkPolicy"}
    for index, rule in enumerate(spec.get("networkPolicies") or []):
        rendered = policies[f"allow-{index}"]
        assert rendered.get("ingress", [{}])[0].get("from") == rule.get("allowIngressFrom")
        assert rendered.get("egress", [{}])[0].get("to") == rule.get("allowEgressTo")
    subjects = {m["metadata"]["name"]: len(m["subjects"]) for m in manifests if m["kind"] == "RoleBinding"}
    assert subjects == {f"team-{r}": len(s) for r, s in (spec.get("rbac") or {}).items() if s}
    assert len(set(tns.rendering.render_files(team_ns))) == len(manifests), "one file per manifest"
