"""Prometheus-facing outputs: rules files, PrometheusRule, ServiceMonitor and plain scrape configs.

Each output comes in two equivalent shapes, one for clusters running the Prometheus operator
(``monitoring.coreos.com/v1`` objects) and one for a plain Prometheus (``rule_files`` and
``scrape_configs`` entries), so local mode and operator-less clusters get the same behaviour.
Everything here returns JSON-shaped dicts or text; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

from . import model, rules

OPERATOR_API_VERSION: Final = "monitoring.coreos.com/v1"
MANAGED_BY: Final = "blacktop"
SERVICE_NAME_LABEL: Final = "app.kubernetes.io/name"
"""The label that selects a service's Kubernetes Service (ServiceMonitor) and endpoints (scrape)."""


# libyaml's emitter when PyYAML was built with it: the pure-Python one spent about 95% of rendering
# time (measured by bench/observability_regen.py); both emit the same text, which the golden files pin.
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe YAML with multi-line strings as ``|`` blocks, so PromQL stays readable in review."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(document: Any) -> str:
    """Serialise a JSON-shaped document as block YAML, keys in insertion order."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)


def render_rules_file(groups: Sequence[rules.RuleGroup], *, header: str | None = None) -> str:
    """A plain Prometheus rules file (``promtool check rules`` input) for the rule groups."""
    text = dump_yaml(rules.groups_to_dict(groups))
    if header:
        comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
        text = comment + "\n" + text
    return text


def _labels(service: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {SERVICE_NAME_LABEL: service, "app.kubernetes.io/managed-by": MANAGED_BY, **(extra or {})}


def render_prometheus_rule(
    groups: Sequence[rules.RuleGroup],
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``monitoring.coreos.com/v1 PrometheusRule`` holding the rule groups."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": OPERATOR_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": metadata,
        "spec": rules.groups_to_dict(groups),
    }


def render_slo_prometheus_rule(config: model.ObservabilityConfig, groups: Sequence[rules.RuleGroup]) -> dict[str, Any]:
    """The PrometheusRule of a service's SLOs, named ``<service>-slos`` beside the config."""
    service = config.spec.service
    return render_prometheus_rule(
        groups,
        name=f"{service}-slos",
        namespace=config.metadata.namespace,
        labels=_labels(service, {"app.kubernetes.io/component": "SLO"}),
    )


def render_service_monitor(config: model.ObservabilityConfig) -> dict[str, Any]:
    """A ``ServiceMonitor`` scraping the service's pods through its Kubernetes Service.

    The Service is selected by ``app.kubernetes.io/name: <service>``; the port is addressed by
    number (``targetPort``) because the design gives a number and Service port names vary.
    ``additionalLabels`` are attached to every series with relabelings.
    """
    metrics = config.spec.metrics
    service = config.spec.service
    endpoint: dict[str, Any] = {
        "targetPort": metrics.port,
        "path": metrics.path,
        "interval": metrics.scrape_interval,
        "scheme": "http",
    }
    if metrics.additional_labels:
        endpoint["relabelings"] = [
            {"action": "replace", "targetLabel": key, "replacement": value}
            for key, value in sorted(metrics.additional_labels.items())
        ]
    return {
        "apiVersion": OPERATOR_API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {
            "name": service,
            "namespace": config.metadata.namespace,
            "labels": _labels(service),
        },
        "spec": {
            "jobLabel": SERVICE_NAME_LABEL,
            "namespaceSelector": {"matchNames": [config.metadata.namespace]},
            "selector": {"matchLabels": {SERVICE_NAME_LABEL: service}},
            "endpoints": [endpoint],
        },
    }


def render_scrape_config(config: model.ObservabilityConfig, *, targets: Sequence[str] | None = None) -> dict[str, Any]:
    """A ``scrape_configs`` entry equivalent to the ServiceMonitor, for Prometheus without the operator.

    Without ``targets`` it discovers endpoints through Kubernetes service discovery and keeps those
    of the service's Service on the metrics port; with ``targets`` (``host:port``, e.g. services run
    locally) it scrapes them statically. Either way ``job`` is the service name.
    """
    metrics = config.spec.metrics
    service = config.spec.service
    entry: dict[str, Any] = {
        "job_name": service,
        "scrape_interval": metrics.scrape_interval,
        "metrics_path": metrics.path,
        "scheme": "http",
    }
    relabel: list[dict[str, Any]] = []
    if targets is not None:
        static: dict[str, Any] = {"targets": list(targets)}
        if metrics.additional_labels:
            static["labels"] = dict(sorted(metrics.additional_labels.items()))
        entry["static_configs"] = [static]
        return entry
    entry["kubernetes_sd_configs"] = [{"role": "endpoints", "namespaces": {"names": [config.metadata.namespace]}}]
    label_key = SERVICE_NAME_LABEL.replace(".", "_").replace("/", "_")
    relabel.extend(
        [
            {
                "source_labels": [f"__meta_kubernetes_service_label_{label_key}"],
                "regex": service,
                "action": "keep",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                "regex": str(metrics.port),
                "action": "keep",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
        ]
    )
    relabel.extend(
        {"target_label": key, "replacement": value, "action": "replace"}
        for key, value in sorted(metrics.additional_labels.items())
    )
    entry["relabel_configs"] = relabel
    return entry
