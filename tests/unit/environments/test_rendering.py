"""Rendered preview manifests: golden files, Argo CD's CRD schema and the invariants Kubernetes relies on.

Test design notes: each case renders every GitOps file of one preview and compares the lot with
``tests/golden/environments/<case>.yaml`` (regenerate with ``BLACKTOP_UPDATE_GOLDEN=1`` and review
the diff). The Application is validated against Argo CD's CRD schema from the shared corpus; the
corpus has no schemas for core kinds (Namespace, Deployment, Service, Ingress), so those are held
to the invariants a cluster would refuse or silently break on: DNS-label names, one namespace,
selectors matching pod labels, requests and limits from ``spec.resources``, Ingress backends and
TLS hosts that exist.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop import environments
from blacktop.environments import rendering
from blacktop.scaffolder.argocd import plan_application

from .conftest import preview, storable

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "environments"
SETTINGS = rendering.RenderSettings(gitops_url="http://127.0.0.1:7007/git/platform/gitops.git")
NOTIFICATIONS = rendering.ServiceTarget(
    "component:default/notification-service", "notification-service.default.svc.cluster.local"
)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def stored(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as the store returns it: namespace, uid and creationTimestamp set."""
    copied = copy.deepcopy(document)
    copied["metadata"].setdefault("namespace", "payments")
    copied["metadata"].update(uid="6f1c2a4e-0000-4000-8000-000000000001", creationTimestamp="2026-11-26T10:00:00Z")
    return copied


@dataclass
class Case:
    document: dict[str, Any]
    services: dict[str, rendering.ServiceTarget] = field(default_factory=dict)


LONG = preview(
    ingress={"host": "pr-7.preview.acme.io", "tls": False},
    dependencies=[
        {"name": "orders-db", "type": "database", "engine": "mysql", "version": "8.0"},
        {"name": "sessions", "type": "cache"},
        {"name": "payments-mock", "type": "mock", "image": "wiremock/wiremock:3.9.1", "port": 9090,
         "config": {"scenario": "declined-cards", "latencyMs": 200}},
    ],
)  # fmt: skip
LONG["metadata"]["name"] = "pr-7-" + "a-very-long-branch-name-that-goes-on-and-on-" * 2 + "end"

CASES = {
    "design-example": Case(storable(), {"notification-service": NOTIFICATIONS}),
    "design-example-service-unresolved": Case(storable()),
    "minimal": Case(preview()),
    "mysql-cache-custom-mock-no-tls-long-name": Case(LONG),
}


def _files(case: Case) -> dict[str, str]:
    parsed = environments.parse_preview(stored(case.document))
    return rendering.render_files(parsed, settings=SETTINGS, services=case.services, application=plan_application)


def _joined(files: dict[str, str]) -> str:
    return "".join(f"--- # {path}\n{text}" for path, text in files.items())


@pytest.mark.parametrize("name", CASES.keys())
def test_rendered_files_match_the_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.yaml"
    text = _joined(_files(CASES[name]))
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} is missing; regenerate with BLACKTOP_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_golden_folder_holds_only_the_cases() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.yaml")) == sorted(CASES)


@pytest.mark.parametrize("name", CASES.keys())
def test_the_application_is_valid_against_argo_cd_s_crd_schema(name: str) -> None:
    schema = json.loads(corpus_dir("k8s-crd-schemas", "argoproj.io", "application_v1alpha1.json").read_text())
    applications = [yaml.safe_load(t) for p, t in _files(CASES[name]).items() if p.startswith("argocd/")]
    assert len(applications) == 1
    jsonschema.Draft7Validator(schema).validate(applications[0])
    parsed = environments.parse_preview(stored(CASES[name].document))
    assert applications[0]["spec"]["source"]["path"] == environments.model.gitops_folder(parsed)
    assert applications[0]["spec"]["destination"]["namespace"] == environments.preview_namespace(parsed)


@pytest.mark.parametrize("name", CASES.keys())
def test_core_objects_hold_kubernetes_invariants(name: str) -> None:
    parsed = environments.parse_preview(stored(CASES[name].document))
    objects = rendering.render_objects(parsed, settings=SETTINGS, services=CASES[name].services)
    namespace = environments.preview_namespace(parsed)
    assert DNS_LABEL.match(namespace) and len(namespace) <= 63
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == namespace
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for obj in objects[1:]:
        assert obj["metadata"]["namespace"] == namespace
        assert DNS_LABEL.match(obj["metadata"]["name"]) and len(obj["metadata"]["name"]) <= 63
        for value in obj["metadata"]["labels"].values():
            assert len(value) <= 63 and re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", value)
        if obj["kind"] == "Deployment":
            template = obj["spec"]["template"]["metadata"]["labels"]
            assert obj["spec"]["selector"]["matchLabels"].items() <= template.items()
        if obj["kind"] == "Ingress":
            backend = obj["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
            assert backend["name"] in services
            assert parsed.spec.ingress is not None
            assert bool(obj["spec"].get("tls")) == parsed.spec.ingress.tls
    [app] = [
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == environments.model.app_name(parsed)
    ]
    container = app["spec"]["template"]["spec"]["containers"][0]
    wanted = {"cpu": parsed.spec.resources.cpu, "memory": parsed.spec.resources.memory}
    assert container["resources"] == {"requests": wanted, "limits": wanted}
    assert container["image"] == f"ghcr.io/{parsed.spec.source.repository}:{parsed.spec.source.commit}"


def test_a_long_name_is_cut_to_a_dns_label_with_a_hash() -> None:
    parsed = environments.parse_preview(stored(LONG))
    namespace = environments.preview_namespace(parsed)
    assert len(namespace) <= 63 and re.search(r"-[0-9a-f]{8}$", namespace)
    other = copy.deepcopy(LONG)
    other["metadata"]["name"] = LONG["metadata"]["name"].replace("on-", "ox-")
    assert environments.preview_namespace(environments.parse_preview(stored(other))) != namespace


def test_an_unresolved_service_is_not_linked() -> None:
    files = _files(CASES["design-example-service-unresolved"])
    assert not any("service-notification-service" in path for path in files)
    assert any("service-notification-service" in path for path in _files(CASES["design-example"]))
