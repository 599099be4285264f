"""Rendering a preview into Kubernetes manifests for the platform's GitOps repository.

One file per object under ``previews/<namespace>/<name>/`` plus an Argo CD ``Application`` that
points at that folder. Everything is pure: the same preview, service targets and settings always
render the same bytes (golden files pin them), so the controller commits only when something
changed. The Argo CD document comes from a function the composition root passes in (the
scaffolder's ``argocd:create-app`` planner), so both features write Applications the same way.

Image naming convention: ``<registry>/<owner>/<repo>:<commit>`` with the repository lowercased,
the tag a CI pipeline pushes for every commit (``ghcr.io/acme-corp/payment-service:abc123def``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from . import model

ApplicationRenderer = Callable[[Mapping[str, Any]], dict[str, Any]]
"""``argocd:create-app``'s planner: an input mapping (appName, repoUrl, path, namespace, labels) to a document."""

APPLICATIONS_FOLDER: Final = "argocd/applications"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "blacktop"}


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """Platform conventions the manifests follow (the composition root fills them in)."""

    gitops_url: str
    """Clone URL of the GitOps repository Argo CD syncs."""
    registry: str = "ghcr.io"
    """Registry of the images CI pushes, one tag per commit."""
    container_port: int = 8080
    """Port the application and the mocks listen on."""
    cluster_issuer: str = "letsencrypt"
    """cert-manager ClusterIssuer for TLS certificates."""
    mock_registry: str = "ghcr.io/blacktop-dev/mocks"
    """Where a mock's image comes from when the dependency names none: ``<mock_registry>/<name>:latest``."""


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """Where a ``service`` dependency resolved in the catalog runs: an in-cluster host and port."""

    component: str
    host: str
    port: int = 80


def image_of(preview: model.Preview, settings: RenderSettings) -> str:
    """The application image at the preview's commit (the naming convention above)."""
    source = preview.spec.source
    return f"{settings.registry.rstrip('/')}/{source.repository.lower()}:{source.commit}"


def url_of(preview: model.Preview) -> str | None:
    """The preview's URL, or None without an ingress."""
    ingress = preview.spec.ingress
    if ingress is None:
        return None
    return f"{'https' if ingress.tls else 'http'}://{ingress.host}"


def application_path(preview: model.Preview) -> str:
    """The GitOps path of the preview's Argo CD Application."""
    return application_path_for(preview.namespace, preview.name)


def application_path_for(namespace: str, name: str) -> str:
    """``application_path`` from the preview's namespace and name (the Application is named like its namespace)."""
    return f"{APPLICATIONS_FOLDER}/{model.namespace_for(namespace, name)}.yaml"


def _labels(preview: model.Preview, **extra: str) -> dict[str, str]:
    labels = {
        **MANAGED_BY,
        model.PREVIEW_LABEL: model.label_value(preview.name),
        model.PREVIEW_NAMESPACE_LABEL: preview.namespace,
    }
    if preview.labels.get("team"):
        labels["team"] = preview.labels["team"]
    labels.update(extra)
    return labels


def _meta(preview: model.Preview, name: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": model.preview_namespace(preview), "labels": _labels(preview, **labels)}


def env_name(dependency: str, suffix: str) -> str:
    """An environment variable name for a dependency (``orders-db``, ``URL`` → ``ORDERS_DB_URL``)."""
    return f"{dependency.upper().replace('-', '_')}_{suffix}"


def render_objects(
    preview: model.Preview, *, settings: RenderSettings, services: Mapping[str, ServiceTarget]
) -> list[dict[str, Any]]:
    """Namespace, the app's Deployment and Service, its Ingress, mocks and service links, in apply order.

    ``services`` holds the ``service`` dependencies resolved in the catalog; the others are left out
    (the status says why).
    """
    namespace = model.preview_namespace(preview)
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": _labels(preview),
                "annotations": _namespace_annotations(preview),
            },
        }
    ]
    app = model.app_name(preview)
    objects.append(_app_deployment(preview, app, settings=settings, services=services))
    objects.append(_service(preview, app, port=80, target=settings.container_port))
    if preview.spec.ingress is not None:
        objects.append(_ingress(preview, app, settings=settings))
    for dependency in preview.spec.dependencies:
        if dependency.type == "mock":
            port = dependency.port or settings.container_port
            objects.append(_mock_deployment(preview, dependency, settings=settings, port=port))
            objects.append(_service(preview, dependency.name, port=port, target=port, component="mock"))
        elif dependency.type == "service" and dependency.name in services:
            objects.append(_service_link(preview, dependency, services[dependency.name]))
    return objects


def _namespace_annotations(preview: model.Preview) -> dict[str, str]:
    source = preview.spec.source
    annotations = {
        "environments.blacktop.dev/repository": source.repository,
        "environments.blacktop.dev/commit": source.commit,
    }
    if source.branch:
        annotations["environments.blacktop.dev/branch"] = source.branch
    if preview.expires_at is not None:
        annotations["environments.blacktop.dev/expires-at"] = preview.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return annotations


def _app_env(preview: model.Preview, services: Mapping[str, ServiceTarget], port: int) -> list[dict[str, str]]:
    source = preview.spec.source
    env = [{"name": "PREVIEW_ENVIRONMENT", "value": preview.name}, {"name": "GIT_COMMIT", "value": source.commit}]
    if source.branch:
        env.append({"name": "GIT_BRANCH", "value": source.branch})
    for dependency in preview.spec.dependencies:
        if dependency.type in ("database", "cache"):
            path = f"{preview.namespace}/connections/{model.claim_name(preview, dependency)}"
            env.append({"name": env_name(dependency.name, "SECRET_PATH"), "value": path})
        elif dependency.type == "mock":
            url = f"http://{dependency.name}:{dependency.port or port}"
            env.append({"name": env_name(dependency.name, "URL"), "value": url})
        elif dependency.name in services:
            env.append(
                {
                    "name": env_name(dependency.name, "URL"),
                    "value": f"http://{dependency.name}:{services[dependency.name].port}",
                }
            )
    return env


def _app_deployment(
    preview: model.Preview, app: str, *, settings: RenderSettings, services: Mapping[str, ServiceTarget]
) -> dict[str, Any]:
    quantities = {"cpu": preview.spec.resources.cpu, "memory": preview.spec.resources.memory}
    selector = {"app.kubernetes.io/name": app}
    container = {
        "name": app,
        "image": image_of(preview, settings),
        "ports": [{"name": "http", "containerPort": settings.container_port}],
        "env": _app_env(preview, services, settings.container_port),
        "resources": {"requests": dict(quantities), "limits": dict(quantities)},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(preview, app, **selector),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": _labels(preview, **selector)}, "spec": {"containers": [container]}},
        },
    }


def _service(preview: model.Preview, name: str, *, port: int, target: int, component: str = "app") -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(preview, name, **selector, **{"app.kubernetes.io/component": component}),
        "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": target}]},
    }


def _ingress(preview: model.Preview, app: str, *, settings: RenderSettings) -> dict[str, Any]:
    ingress = preview.spec.ingress
    assert ingress is not None
    metadata = _meta(preview, app)
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": ingress.host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": app, "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if ingress.tls:
        metadata["annotations"] = {"cert-manager.io/cluster-issuer": settings.cluster_issuer}
        spec["tls"] = [{"hosts": [ingress.host], "secretName": f"{app}-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}


def _mock_deployment(
    preview: model.Preview, dependency: model.Dependency, *, settings: RenderSettings, port: int
) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": dependency.name}
    config = dependency.config
    text = config if isinstance(config, str) else json.dumps(config, sort_keys=True) if config is not None else ""
    container: dict[str, Any] = {
        "name": dependency.name,
        "image": dependency.image or f"{settings.mock_registry.rstrip('/')}/{dependency.name}:latest",
        "ports": [{"name": "http", "containerPort": port}],
        "env": [{"name": "MOCK_CONFIG", "value": text}, {"name": "PORT", "value": str(port)}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}},
    }
    labels = {**selector, "app.kubernetes.io/component": "mock"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(preview, dependency.name, **labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": _labels(preview, **labels)}, "spec": {"containers": [container]}},
        },
    }


def _service_link(preview: model.Preview, dependency: model.Dependency, target: ServiceTarget) -> dict[str, Any]:
    metadata = _meta(preview, dependency.name, **{"app.kubernetes.io/component": "dependency"})
    metadata["annotations"] = {
        "backstage.io/component": target.component,
        "environments.blacktop.dev/pinned-version": dependency.version or "",
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "type": "ExternalName",
            "externalName": target.host,
            "ports": [{"name": "http", "port": target.port}],
        },
    }


def render_application(
    preview: model.Preview, *, settings: RenderSettings, application: ApplicationRenderer
) -> dict[str, Any]:
    """The preview's Argo CD Application (through ``argocd:create-app``'s planner)."""
    return application(
        {
            "appName": model.preview_namespace(preview),
            "repoUrl": settings.gitops_url,
            "path": model.gitops_folder(preview),
            "namespace": model.preview_namespace(preview),
            "labels": {
                model.PREVIEW_LABEL: model.label_value(preview.name),
                model.PREVIEW_NAMESPACE_LABEL: preview.namespace,
            },
        }
    )


def object_path(preview: model.Preview, obj: Mapping[str, Any]) -> str:
    """Where ``obj`` is written: ``previews/<ns>/<name>/<kind>-<name>.yaml``."""
    return f"{model.gitops_folder(preview)}/{str(obj['kind']).lower()}-{obj['metadata']['name']}.yaml"


def render_files(
    preview: model.Preview,
    *,
    settings: RenderSettings,
    services: Mapping[str, ServiceTarget],
    application: ApplicationRenderer,
) -> dict[str, str]:
    """Every file the preview needs in the GitOps repository, path to YAML text, sorted by path."""
    files = {
        object_path(preview, obj): dump(obj) for obj in render_objects(preview, settings=settings, services=services)
    }
    files[application_path(preview)] = dump(render_application(preview, settings=settings, application=application))
    return dict(sorted(files.items()))


def dump(document: Mapping[str, Any]) -> str:
    """One YAML document as the repository stores it (key order kept, block style)."""
    return yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False)
