"""Preview environments as values: the parsed spec of a ``PreviewEnvironment`` and the names derived from it.

Frozen dataclasses, built once per reconcile by ``parse_preview`` from the stored (defaulted)
object; the planner and the renderers read these instead of walking dicts. Derived names (the
preview's Kubernetes namespace, its claims, its Argo CD application) are functions here, so the
controller, the renderers and the docs agree on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from blacktop.kernel.clock import parse_timestamp
from blacktop.kernel.errors import InputError
from blacktop.kernel.kinds import validate_object

from . import durations, kinds, validation

PREVIEW_LABEL: Final = "environments.blacktop.dev/preview"
"""Label on everything made for a preview: its name (claims also carry ``PREVIEW_NAMESPACE_LABEL``)."""
PREVIEW_NAMESPACE_LABEL: Final = "environments.blacktop.dev/preview-namespace"
DEPENDENCY_LABEL: Final = "environments.blacktop.dev/dependency"
FIXTURE_ANNOTATION: Final = "environments.blacktop.dev/fixture"
"""The seed data set a database dependency asked for, recorded on its claim."""
GITOPS_ROOT: Final = "previews"
"""Folder of the GitOps repository holding every preview's manifests."""


@dataclass(frozen=True, slots=True)
class Source:
    """What to deploy: ``repository`` (owner/name) built at ``commit``."""

    repository: str
    commit: str
    branch: str | None = None
    pull_request: int | None = None


@dataclass(frozen=True, slots=True)
class Resources:
    """Requests (and limits) of the application container, as Kubernetes quantities."""

    cpu: str
    memory: str


@dataclass(frozen=True, slots=True)
class Dependency:
    """One dependency: a claim (database, cache), a catalog service or a mock."""

    name: str
    type: str
    fixture: str | None = None
    version: str | None = None
    config: Any = None
    engine: str | None = None
    image: str | None = None
    port: int | None = None


@dataclass(frozen=True, slots=True)
class Ingress:
    """Where the preview is served."""

    host: str
    tls: bool = True


@dataclass(frozen=True, slots=True)
class Notifications:
    """Who hears about the preview: a GitHub commit status, a Slack channel."""

    github_status: bool = False
    slack: str | None = None


@dataclass(frozen=True, slots=True)
class PreviewSpec:
    """The parsed ``spec``."""

    source: Source
    ttl: timedelta
    ttl_text: str
    resources: Resources
    dependencies: tuple[Dependency, ...] = ()
    ingress: Ingress | None = None
    notifications: Notifications = field(default_factory=Notifications)


@dataclass(frozen=True, slots=True)
class Preview:
    """A ``PreviewEnvironment`` as the planner reads it."""

    namespace: str
    name: str
    uid: str
    generation: int
    created: datetime | None
    labels: Mapping[str, str]
    spec: PreviewSpec

    @property
    def expires_at(self) -> datetime | None:
        """``creationTimestamp + ttl`` (None before the store stamped the object)."""
        return None if self.created is None else self.created + self.spec.ttl

    @property
    def pull_request(self) -> int | None:
        """The pull request number: ``spec.source.pullRequest``, else the label ``pr`` when it is a number."""
        if self.spec.source.pull_request is not None:
            return self.spec.source.pull_request
        label = str(self.labels.get("pr") or "")
        return int(label) if label.isascii() and label.isdigit() else None


def parse_preview(obj: Mapping[str, Any]) -> Preview:
    """The ``Preview`` of a stored object; ``InputError`` listing every problem when it is invalid."""
    problems = validation.problems_in(obj)
    if problems:
        name = (obj.get("metadata") or {}).get("name") or "(unnamed)"
        raise InputError(f"PreviewEnvironment {name} is invalid: {len(problems)} problem(s)", problems=problems)
    document = validate_object(kinds.PREVIEW_ENVIRONMENT, obj)
    meta = document.get("metadata") or {}
    spec = document["spec"]
    created = meta.get("creationTimestamp")
    return Preview(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta["name"]),
        uid=str(meta.get("uid") or ""),
        generation=int(meta.get("generation") or 1),
        created=parse_timestamp(str(created)) if created else None,
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        spec=_spec(spec),
    )


def _spec(spec: Mapping[str, Any]) -> PreviewSpec:
    source = spec["source"]
    resources = spec.get("resources") or {}
    ingress = spec.get("ingress")
    notifications = spec.get("notifications") or {}
    return PreviewSpec(
        source=Source(
            repository=str(source["repository"]),
            commit=str(source["commit"]),
            branch=source.get("branch"),
            pull_request=source.get("pullRequest"),
        ),
        ttl=durations.parse_duration(str(spec["ttl"])),
        ttl_text=str(spec["ttl"]),
        resources=Resources(
            cpu=str(resources.get("cpu", kinds.DEFAULT_CPU)), memory=str(resources.get("memory", kinds.DEFAULT_MEMORY))
        ),
        dependencies=tuple(
            Dependency(
                name=str(d["name"]),
                type=str(d["type"]),
                fixture=d.get("fixture"),
                version=d.get("version"),
                config=d.get("config"),
                engine=d.get("engine"),
                image=d.get("image"),
                port=d.get("port"),
            )
            for d in spec.get("dependencies") or []
        ),
        ingress=Ingress(host=str(ingress["host"]), tls=bool(ingress.get("tls", True))) if ingress else None,
        notifications=Notifications(
            github_status=bool(notifications.get("github-status", False)), slack=notifications.get("slack")
        ),
    )


def dns_label(text: str, *, limit: int = 63) -> str:
    """``text`` cut to ``limit`` characters; a cut name ends in 8 hex digits of its hash, so names stay distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9].rstrip('-')}-{digest}"


def label_value(name: str) -> str:
    """``name`` as a label value (names may be longer than the 63 characters a label value allows)."""
    return dns_label(name)


def preview_namespace(preview: Preview) -> str:
    """The Kubernetes namespace the preview runs in: ``preview-<namespace>-<name>`` (a DNS label)."""
    return namespace_for(preview.namespace, preview.name)


def namespace_for(namespace: str, name: str) -> str:
    """``preview_namespace`` from the preview's namespace and name (also for objects that do not parse)."""
    return dns_label(f"preview-{namespace}-{name}")


def claim_name(preview: Preview, dependency: Dependency) -> str:
    """The name of a dependency's claim, beside the preview in its namespace: ``<preview>-<dependency>``."""
    return dns_label(f"{preview.name}-{dependency.name}")


def app_name(preview: Preview) -> str:
    """The workload's name inside the preview namespace: the repository's name."""
    return dns_label(preview.spec.source.repository.split("/")[-1].lower().replace("_", "-").replace(".", "-"))


def gitops_folder(preview: Preview) -> str:
    """The GitOps folder with the preview's manifests (Argo CD's Application points here)."""
    return folder_for(preview.namespace, preview.name)


def folder_for(namespace: str, name: str) -> str:
    """``gitops_folder`` from the preview's namespace and name."""
    return f"{GITOPS_ROOT}/{namespace}/{name}"
