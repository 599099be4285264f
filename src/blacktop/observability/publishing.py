"""Putting one ObservabilityConfig's outputs into the GitOps repository, and taking them out again.

Each config owns one folder, ``observability/<namespace>/<service>/``: the files of
``rendering.render_files`` plus ``source.json`` naming the config that owns the folder, so a second
config claiming the same service in the same namespace is refused instead of overwriting the
first. The status a controller keeps (``OutputsStatus``) records the folder, the commit and a
digest per file; a re-render that changes nothing therefore touches no git at all, and one that
changes a single file (say, the alert routing after a team renamed its Slack channel) commits that
file only. Planning (``plan_publication``) is pure; ``OutputPublisher`` performs it through the
``OutputRepository`` port.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from blacktop import __version__
from blacktop.kernel.errors import ConflictError

from . import dashboards, model, ports, rendering

ROOT: Final = "observability"
SOURCE_FILE: Final = "source.json"


def output_folder(namespace: str, service: str) -> str:
    """The repository folder holding a service's outputs."""
    return f"{ROOT}/{namespace}/{service}"


def digest(text: str) -> str:
    """A file's content digest as kept in status (sha256, hex)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OutputsStatus:
    """What is published for one config: ``status.outputs`` of the ObservabilityConfig."""

    folder: str
    commit: str | None
    files: Mapping[str, str] = field(default_factory=dict)
    """Repository path → sha256 of its content."""
    inputs: str | None = None
    """Digest of what the files were rendered from (``input_digest``)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON shape kept in status."""
        return {
            "folder": self.folder,
            "commit": self.commit,
            "inputs": self.inputs,
            "files": [{"path": p, "sha256": d} for p, d in sorted(self.files.items())],
        }

    @classmethod
    def from_status(cls, status: Mapping[str, Any] | None) -> OutputsStatus | None:
        """Read ``status.outputs`` back; None when absent or malformed."""
        outputs = (status or {}).get("outputs")
        if not isinstance(outputs, Mapping) or not isinstance(outputs.get("folder"), str):
            return None
        files = {
            str(f["path"]): str(f["sha256"])
            for f in outputs.get("files") or []
            if isinstance(f, Mapping) and "path" in f and "sha256" in f
        }
        commit = outputs.get("commit")
        inputs = outputs.get("inputs")
        return cls(
            folder=outputs["folder"],
            commit=str(commit) if commit else None,
            files=files,
            inputs=str(inputs) if inputs else None,
        )


@dataclass(frozen=True, slots=True)
class Publication:
    """The writes that bring the repository to a config's current outputs."""

    folder: str
    files: Mapping[str, str]
    """Every published path → its content."""
    writes: Mapping[str, str | None]
    """Only the paths to change: new content, or None to delete."""


def source_document(config: model.ObservabilityConfig) -> dict[str, str]:
    """What ``source.json`` says: the config owning the folder."""
    return {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "namespace": config.metadata.namespace,
        "name": config.metadata.name,
        "service": config.spec.service,
    }


def input_digest(config: model.ObservabilityConfig, *, version: str = __version__) -> str:
    """A digest of everything the files are rendered from: the config (spec, identity, annotations) and version.

    Equal digests mean equal files, so a periodic resync of an unchanged config renders nothing.
    """
    meta = config.metadata
    annotations = (meta.model_extra or {}).get("annotations") or {}
    source = {
        "spec": config.spec.model_dump(mode="json"),
        "metadata": {"namespace": meta.namespace, "name": meta.name, "annotations": annotations},
        "version": version,
    }
    return digest(json.dumps(source, sort_keys=True))


def compute_files(
    config: model.ObservabilityConfig,
    *,
    templates: dashboards.TemplateRegistry | None = None,
    version: str = __version__,
) -> dict[str, str]:
    """Every file of a config's folder, by repository path."""
    folder = output_folder(config.metadata.namespace, config.spec.service)
    files = rendering.render_files(rendering.render_outputs(config, templates=templates, version=version))
    files[SOURCE_FILE] = json.dumps(source_document(config), indent=2, sort_keys=True) + "\n"
    return {f"{folder}/{name}": text for name, text in sorted(files.items())}


def plan_publication(
    config: model.ObservabilityConfig, files: Mapping[str, str], previous: OutputsStatus | None
) -> Publication:
    """The writes from what ``previous`` says is published to ``files``: changed files and removals only."""
    folder = output_folder(config.metadata.namespace, config.spec.service)
    old = dict(previous.files) if previous is not None else {}
    writes: dict[str, str | None] = {p: t for p, t in files.items() if old.get(p) != digest(t)}
    writes.update({p: None for p in old if p not in files})
    return Publication(folder=folder, files=dict(files), writes=writes)


def owner_conflict(config: model.ObservabilityConfig, source_text: str | None) -> str | None:
    """Why a config may not take over a folder whose ``source.json`` reads ``source_text``; None when it may."""
    if source_text is None:
        return None
    try:
        owner = json.loads(source_text)
    except ValueError:
        return None
    mine = source_document(config)
    if (owner.get("namespace"), owner.get("name")) == (mine["namespace"], mine["name"]):
        return None
    return (
        f"ObservabilityConfig {mine['namespace']}/{mine['name']}: service {mine['service']!r} is already observed by "
        f"ObservabilityConfig {owner.get('namespace')}/{owner.get('name')}; remove one of them or pick another "
        "spec.service"
    )


class OutputPublisher:
    """Publishes and withdraws configs' outputs through an ``OutputRepository``."""

    def __init__(
        self,
        repository: ports.OutputRepository,
        *,
        templates: dashboards.TemplateRegistry | None = None,
        version: str = __version__,
    ) -> None:
        self.repository = repository
        self.templates = templates or dashboards.default_templates()
        self.version = version

    def render(self, config: model.ObservabilityConfig) -> dict[str, str]:
        """The files a config publishes, by repository path."""
        return compute_files(config, templates=self.templates, version=self.version)

    async def publish(self, config: model.ObservabilityConfig, previous: OutputsStatus | None) -> OutputsStatus:
        """Commit what changed since ``previous``; ``ConflictError`` when another config owns the folder.

        When the inputs are those of ``previous`` and its files are all still in the repository,
        nothing is rendered or written and ``previous`` is returned.
        """
        inputs = input_digest(config, version=self.version)
        folder = output_folder(config.metadata.namespace, config.spec.service)
        unchanged = previous is not None and previous.inputs == inputs and previous.folder == folder
        if previous is not None and unchanged and set(await self.repository.list_files(folder)) == set(previous.files):
            return previous
        files = self.render(config)
        publication = plan_publication(config, files, previous)
        if previous is None or previous.folder != publication.folder:
            reason = owner_conflict(config, await self.repository.read(f"{publication.folder}/{SOURCE_FILE}"))
            if reason:
                raise ConflictError(reason)
        published = {p: digest(t) for p, t in files.items()}
        present = set(await self.repository.list_files(publication.folder))
        writes = dict(publication.writes)
        # Files removed from the repository behind the platform's back are written again.
        writes.update({p: files[p] for p in files if p not in present})
        commit = previous.commit if previous is not None else None
        if writes:
            message = (
                f"observability: {config.metadata.namespace}/{config.spec.service} from ObservabilityConfig "
                f"{config.metadata.namespace}/{config.metadata.name}"
            )
            commit = await self.repository.write(writes, message=message) or await self.repository.head()
        return OutputsStatus(folder=publication.folder, commit=commit, files=published, inputs=inputs)

    async def withdraw(self, config_name: str, namespace: str, previous: OutputsStatus | None) -> str | None:
        """Delete a config's published folder; returns the commit (None when there was nothing to delete)."""
        if previous is None:
            return None
        present = await self.repository.list_files(previous.folder)
        source = await self.repository.read(f"{previous.folder}/{SOURCE_FILE}")
        if source is not None:
            owner = json.loads(source)
            if (owner.get("namespace"), owner.get("name")) != (namespace, config_name):
                return None  # another config owns the folder now; its files are not ours to delete
        if not present:
            return None
        message = f"observability: remove {previous.folder} (ObservabilityConfig {namespace}/{config_name} deleted)"
        return await self.repository.write(dict.fromkeys(present), message=message)
