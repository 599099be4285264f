"""Cloud managed resources rendered to the platform's GitOps repository for a real Crossplane.

The claim lifecycle composes resources of kinds blacktop does not serve (``rds.aws.upbound.io``
Instance, ``ec2.aws.upbound.io`` SecurityGroup, ``kubernetes.crossplane.io`` Object, ...) and hands
them to ``GitOpsPublisher`` (the ``resources.ports.ExternalResourcePublisher`` seam). Each is
validated against its CRD schema where one is known (a provider-kubernetes Object's embedded
manifest too), rendered as YAML under a directory per claim, and committed in one commit per
publish, withdrawing files that are no longer composed. Readiness is not ours to know: every
observation says an external reconciler owns it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

from blacktop.kernel import schemas
from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.resources import GroupVersion

from ..ports import CompositeRef, ExternalObservation
from . import ports

ROOT: Final = "infrastructure"
EXTERNAL_REASON: Final = "ExternalReconciler"
TEMPLATE_NAME_ANNOTATION: Final = "crossplane.io/composition-resource-name"
_SAFE = re.compile(r"[^a-z0-9._-]+")


def owner_directory(owner: CompositeRef) -> str:
    """``infrastructure/<claim-namespace>/<claim-name>`` (or ``infrastructure/_composites/<name>``)."""
    if owner.claim_namespace and owner.claim_name:
        return f"{ROOT}/{_segment(owner.claim_namespace)}/{_segment(owner.claim_name)}"
    return f"{ROOT}/_composites/{_segment(owner.name)}"


def _segment(text: str) -> str:
    return _SAFE.sub("-", text.lower()).strip("-.") or "unnamed"


def template_name(resource: Mapping[str, Any], index: int) -> str:
    """The composition template name of a composed resource (its annotation), else ``resource-<index>``."""
    annotations = (resource.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(TEMPLATE_NAME_ANNOTATION) or f"resource-{index}")


def render_manifest(resource: Mapping[str, Any]) -> str:
    """The YAML a GitOps tool applies: name, namespace, labels, annotations, and everything but status.

    Server-set metadata is dropped, and so are ``ownerReferences`` and ``generateName``: the owner
    (the composite in blacktop) does not exist in the cluster, where an owner reference to an
    unknown uid would get the resource garbage-collected, and git needs the fixed name.
    """
    given = resource.get("metadata") or {}
    metadata = {k: given[k] for k in ("name", "namespace", "labels", "annotations") if given.get(k)}
    clean = {"apiVersion": resource.get("apiVersion"), "kind": resource.get("kind"), "metadata": metadata}
    clean.update({k: v for k, v in resource.items() if k not in {"apiVersion", "kind", "metadata", "status"}})
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=False)


def validate_managed(
    resource: Mapping[str, Any], source: ports.SchemaSource, *, path: str
) -> tuple[list[Problem], str]:
    """Every problem of ``resource`` against its CRD schema (and an Object's manifest against its own).

    Returns the problems and a note saying what it was checked against.
    """
    problems = _structural(resource, path)
    notes: list[str] = []
    for prefix, item in [("", resource), *_embedded(resource)]:
        gv = GroupVersion.parse(str(item.get("apiVersion") or ""))
        kind = str(item.get("kind") or "")
        schema = source.get(group=gv.group, version=gv.version, kind=kind)
        label = f"{kind}.{gv.group}/{gv.version}"
        if schema is None:
            notes.append(f"{label}: no CRD schema known, structural checks only")
            continue
        notes.append(f"{label}: {source.describe(group=gv.group, version=gv.version, kind=kind)}")
        for problem in schemas.validate(dict(item), schema, prefix=prefix):
            problems.append(Problem(path=problem.path, message=problem.message, document=path))
    return problems, "; ".join(notes)


def _embedded(resource: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    if GroupVersion.parse(str(resource.get("apiVersion") or "")).group != "kubernetes.crossplane.io":
        return []
    manifest = ((resource.get("spec") or {}).get("forProvider") or {}).get("manifest")
    return [("spec.forProvider.manifest", manifest)] if isinstance(manifest, Mapping) else []


def _structural(resource: Mapping[str, Any], path: str) -> list[Problem]:
    problems = []
    for field_path, value, why in (
        ("apiVersion", resource.get("apiVersion"), ""),
        ("kind", resource.get("kind"), ""),
        (
            "metadata.name",
            (resource.get("metadata") or {}).get("name"),
            " (a manifest in git needs a fixed name; generateName is not applied by GitOps tools)",
        ),
    ):
        if not isinstance(value, str) or not value:
            problems.append(Problem(path=field_path, message="is required" + why, document=path))
    if "/" not in str(resource.get("apiVersion") or ""):
        problems.append(
            Problem(path="apiVersion", message="must be group/version for a managed resource", document=path)
        )
    return problems


class GitOpsPublisher:
    """``resources.ports.ExternalResourcePublisher`` writing manifests to a git repository."""

    def __init__(self, repository: ports.ManifestRepository, schemas: ports.SchemaSource) -> None:
        self._repo = repository
        self._schemas = schemas

    async def publish(self, owner: CompositeRef, resources: Sequence[Mapping[str, Any]]) -> list[ExternalObservation]:
        """Validate, render and commit ``resources`` as the complete set for ``owner``."""
        directory = owner_directory(owner)
        files: dict[str, str | bytes | None] = {}
        problems: list[Problem] = []
        notes: dict[str, tuple[str, str]] = {}
        for index, resource in enumerate(resources):
            name = template_name(resource, index)
            path = f"{directory}/{_segment(name)}.yaml"
            found, note = validate_managed(resource, self._schemas, path=path)
            problems.extend(found)
            files[path] = render_manifest(resource)
            notes[name] = (path, note)
        if problems:
            raise InputError(
                f"composite {owner.kind}/{owner.name}: {len(problems)} problem(s) in the managed resources "
                "for the GitOps repository; fix the composition or the claim",
                problems=problems,
            )
        for stale in await self._repo.list_files(directory + "/"):
            if stale not in files:
                files[stale] = None
        commit = await self._repo.awrite(files, message=f"resources: publish {owner.kind}/{owner.name}")
        ref = commit or "HEAD"
        return [
            ExternalObservation(
                resource_name=name,
                ready=None,
                reason=EXTERNAL_REASON,
                message=(
                    f"written to the GitOps repository; an external reconciler (Crossplane) owns readiness ({note})"
                ),
                location=f"gitops:{self._repo.name}@{ref}:{path}",
            )
            for name, (path, note) in notes.items()
        ]

    async def withdraw(self, owner: CompositeRef) -> None:
        """Delete every file published for ``owner``."""
        directory = owner_directory(owner)
        stale = await self._repo.list_files(directory + "/")
        if stale:
            await self._repo.awrite(dict.fromkeys(stale), message=f"resources: withdraw {owner.kind}/{owner.name}")
