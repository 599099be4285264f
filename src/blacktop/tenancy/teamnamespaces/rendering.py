"""Rendering a TeamNamespace as Kubernetes manifests for the platform's GitOps repository.

Argo CD (or any GitOps agent) applies the folder ``tenancy/teamnamespaces/<name>/``: one file per
object, so a change shows as a small diff. What is rendered:

* ``Namespace`` ``<name>`` labelled ``team``, ``environment`` and ``tier`` (plus the monitoring
  labels below);
* ``ResourceQuota`` ``team-quota`` whose ``spec.hard`` is ``spec.resourceQuotas`` as written;
* ``LimitRange`` ``team-limits``: one ``Container`` limit with ``defaultRequest``, ``default``
  (from ``defaultLimit``) and ``max`` (from ``maxLimit``);
* ``NetworkPolicy`` ``default-deny`` (all ingress and egress), ``allow-dns`` (egress to kube-dns
  in kube-system on port 53, without which nothing in the namespace resolves a name), and
  ``allow-<i>`` for ``spec.networkPolicies[i]``, whose peers are copied exactly;
* ``RoleBinding`` ``team-admins``/``team-developers``/``team-viewers`` to the ClusterRoles
  ``admin``/``edit``/``view``.

Monitoring adds ``platform.company.io/prometheus: <team>`` for a team Prometheus's namespace
selectors, ``platform.company.io/cost-center: <team>`` for label-based cost allocation (OpenCost,
Kubecost), and with ``teamDashboard`` the ConfigMap ``team-dashboard`` of ``dashboards``. Nothing
else is deployed: no Prometheus, ServiceMonitor or cost tool (see ``monitoring_notes``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

import yaml

from . import dashboards, kind, model

ROOT: Final = "tenancy/teamnamespaces"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "blacktop"}
OWNER_LABEL: Final = "platform.company.io/team-namespace"
PROMETHEUS_LABEL: Final = "platform.company.io/prometheus"
COST_LABEL: Final = "platform.company.io/cost-center"
CLUSTER_ROLES: Final = {"admins": "admin", "developers": "edit", "viewers": "view"}
"""``spec.rbac`` list → the Kubernetes ClusterRole its RoleBinding grants."""
RBAC_API: Final = "rbac.authorization.k8s.io"


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the dashboard JSON) as literal blocks, so diffs stay readable."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def folder_for(name: str) -> str:
    """The GitOps folder holding a TeamNamespace's manifests."""
    return f"{ROOT}/{name}"


def binding_name(section: str) -> str:
    """The name of the binding (platform and Kubernetes) for an ``spec.rbac`` list."""
    return f"team-{section}"


def namespace_labels(team_ns: model.TeamNamespace) -> dict[str, str]:
    """The Namespace's labels: team, environment, tier, the monitoring labels and managed-by."""
    labels = {"team": team_ns.team, "environment": team_ns.environment, "tier": team_ns.tier}
    if team_ns.monitoring.prometheus:
        labels[PROMETHEUS_LABEL] = team_ns.team
    if team_ns.monitoring.cost_allocation:
        labels[COST_LABEL] = team_ns.team
    return {**labels, **MANAGED_BY, OWNER_LABEL: team_ns.name}


def _meta(team_ns: model.TeamNamespace, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": team_ns.namespace, "labels": {**MANAGED_BY, OWNER_LABEL: team_ns.name}}


def render_namespace(team_ns: model.TeamNamespace) -> dict[str, Any]:
    """The Namespace object."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": team_ns.namespace, "labels": namespace_labels(team_ns)}}  # fmt: skip


def render_quota(team_ns: model.TeamNamespace) -> dict[str, Any] | None:
    """The ResourceQuota, or None without ``spec.resourceQuotas``."""
    if not team_ns.quotas:
        return None
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(team_ns, "team-quota"),
            "spec": {"hard": dict(team_ns.quotas)}}  # fmt: skip


def render_limit_range(team_ns: model.TeamNamespace) -> dict[str, Any] | None:
    """The LimitRange for containers, or None without ``spec.limitRanges``."""
    fields = {"defaultRequest": "defaultRequest", "defaultLimit": "default", "maxLimit": "max"}
    limit: dict[str, Any] = {"type": "Container"}
    for section, target in fields.items():
        if team_ns.limits.get(section):
            limit[target] = dict(team_ns.limits[section])
    if len(limit) == 1:
        return None
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(team_ns, "team-limits"),
            "spec": {"limits": [limit]}}  # fmt: skip


def _policy(team_ns: model.TeamNamespace, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(team_ns, name),
            "spec": {"podSelector": {}, **spec}}  # fmt: skip


def render_network_policies(team_ns: model.TeamNamespace) -> list[dict[str, Any]]:
    """Default deny, DNS egress, then one policy per ``spec.networkPolicies`` item (peers copied exactly)."""
    policies = [
        _policy(team_ns, "default-deny", {"policyTypes": ["Ingress", "Egress"]}),
        _policy(team_ns, "allow-dns", {
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }],
        }),
    ]  # fmt: skip
    for rule in team_ns.network:
        spec: dict[str, Any] = {"policyTypes": []}
        if rule.ingress_from:
            spec["policyTypes"].append("Ingress")
            spec["ingress"] = [{"from": [copy.deepcopy(dict(p)) for p in rule.ingress_from]}]
        if rule.egress_to:
            spec["policyTypes"].append("Egress")
            spec["egress"] = [{"to": [copy.deepcopy(dict(p)) for p in rule.egress_to]}]
        policies.append(_policy(team_ns, f"allow-{rule.index}", spec))
    return policies


def render_role_bindings(team_ns: model.TeamNamespace) -> list[dict[str, Any]]:
    """One Kubernetes RoleBinding per non-empty ``spec.rbac`` list, to ClusterRole admin, edit or view."""
    return [
        {
            "apiVersion": f"{RBAC_API}/v1",
            "kind": "RoleBinding",
            "metadata": _meta(team_ns, binding_name(section)),
            "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": CLUSTER_ROLES[section]},
            "subjects": [{"kind": s.kind, "apiGroup": RBAC_API, "name": s.name} for s in subjects],
        }
        for section, subjects in team_ns.rbac.items()
    ]


def render_manifests(team_ns: model.TeamNamespace) -> list[dict[str, Any]]:
    """Every Kubernetes object of the namespace, Namespace first."""
    optional = [render_quota(team_ns), render_limit_range(team_ns)]
    dashboard = (
        [dashboards.render_config_map(team_ns, _meta(team_ns, "")["labels"])]
        if team_ns.monitoring.team_dashboard
        else []
    )
    return [
        render_namespace(team_ns),
        *[o for o in optional if o is not None],
        *render_network_policies(team_ns),
        *render_role_bindings(team_ns),
        *dashboard,
    ]


def file_name(manifest: Mapping[str, Any]) -> str:
    """A manifest's file name in the folder: ``<kind>-<name>.yaml`` (``namespace.yaml`` for the Namespace)."""
    if manifest["kind"] == "Namespace":
        return "namespace.yaml"
    return f"{str(manifest['kind']).lower()}-{manifest['metadata']['name']}.yaml"


def render_files(team_ns: model.TeamNamespace) -> dict[str, str]:
    """Repository path → YAML text for every manifest, under ``folder_for(name)``."""
    folder = folder_for(team_ns.name)
    header = f"# Generated by blacktop from {kind.KIND} {team_ns.name}; edit the {kind.KIND}, not this file.\n"
    return {
        f"{folder}/{file_name(m)}": header + yaml.dump(m, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
        for m in render_manifests(team_ns)
    }


def monitoring_notes(team_ns: model.TeamNamespace) -> list[str]:
    """What the monitoring switches produced, in words, for status and docs (honest about what is not done)."""
    notes = []
    if team_ns.monitoring.prometheus:
        notes.append(f"prometheus: namespace labelled {PROMETHEUS_LABEL}={team_ns.team} for the team Prometheus's "
                     "namespace selectors")  # fmt: skip
    if team_ns.monitoring.cost_allocation:
        notes.append(f"costAllocation: namespace labelled {COST_LABEL}={team_ns.team} for label-based cost allocation")
    if team_ns.monitoring.team_dashboard:
        notes.append(f"teamDashboard: ConfigMap {dashboards.CONFIG_MAP} labelled grafana_dashboard=1 holds a Grafana "
                     "dashboard of CPU, memory and pods against the quota (loaded by Grafana's dashboard sidecar "
                     "when it watches this namespace)")  # fmt: skip
    return notes
