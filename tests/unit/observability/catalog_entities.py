"""Builders of catalog entity documents (Backstage JSON) for the zero-config tests and benchmark."""

from __future__ import annotations

from typing import Any


def group(
    name: str, *, slack: str | None = None, pagerduty: str | None = None, namespace: str = "default"
) -> dict[str, Any]:
    """A Group entity with optional alert-channel annotations."""
    annotations = {}
    if slack is not None:
        annotations["slack.com/channel"] = slack
    if pagerduty is not None:
        annotations["pagerduty.com/service-id"] = pagerduty
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {"type": "team", "children": []},
    }


def component(
    name: str,
    *,
    owner: str = "payments",
    type_: str = "service",
    lifecycle: str = "production",
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    """A Component entity."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}, "labels": labels or {}},
        "spec": {"type": type_, "lifecycle": lifecycle, "owner": owner},
    }
