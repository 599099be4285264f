"""The declarative resource envelope: ``apiVersion/kind/metadata/spec/status``.

Resources travel through blacktop as plain JSON-shaped dicts (``Resource``), because their spec
schemas are registered at run time and a static model cannot know them. This module holds the
value objects that identify them, the rules for well-formed metadata, and the helpers for status
conditions that every controller uses.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import format_timestamp
from .errors import Problem

Resource = dict[str, Any]
"""A resource document as JSON: apiVersion, kind, metadata, spec and status."""

SERVER_MANAGED_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
)


@dataclass(frozen=True, slots=True, order=True)
class GroupVersion:
    """An API group and version, written ``group/version`` (or just ``version`` for the core group)."""

    group: str
    version: str

    @classmethod
    def parse(cls, api_version: str) -> GroupVersion:
        """Split ``platform.company.io/v1alpha1`` into group and version."""
        group, _, version = api_version.rpartition("/")
        return cls(group=group, version=version)

    def __str__(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True, order=True)
class ResourceKey:
    """Identifies one object: API group, kind, namespace (None when cluster-scoped) and name."""

    group: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ResourceKey:
        """The key of a resource document."""
        meta = obj.get("metadata") or {}
        return cls(
            group=GroupVersion.parse(str(obj.get("apiVersion", ""))).group,
            kind=str(obj.get("kind", "")),
            namespace=meta.get("namespace") or None,
            name=str(meta.get("name", "")),
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        group = f".{self.group}" if self.group else ""
        return f"{self.kind}{group} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class Condition:
    """One entry of ``status.conditions``, as Kubernetes defines it."""

    type: str
    status: str
    reason: str
    message: str = ""
    last_transition_time: str = ""
    observed_generation: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The condition as it appears in a resource document."""
        out: dict[str, Any] = {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": self.last_transition_time,
        }
        if self.observed_generation is not None:
            out["observedGeneration"] = self.observed_generation
        return out


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    *,
    type: str,
    status: bool | str,
    reason: str,
    message: str = "",
    now: datetime,
    observed_generation: int | None = None,
) -> list[dict[str, Any]]:
    """Return ``conditions`` with ``type`` set; ``lastTransitionTime`` only moves when the status flips."""
    status_text = status if isinstance(status, str) else ("True" if status else "False")
    result: list[dict[str, Any]] = []
    replaced = False
    for existing in conditions:
        if existing.get("type") != type:
            result.append(dict(existing))
            continue
        replaced = True
        changed = existing.get("status") != status_text
        transition = format_timestamp(now) if changed else existing.get("lastTransitionTime", "")
        result.append(Condition(type, status_text, reason, message, transition, observed_generation).to_json())
    if not replaced:
        result.append(
            Condition(type, status_text, reason, message, format_timestamp(now), observed_generation).to_json()
        )
    return result


def find_condition(obj: Mapping[str, Any], type: str) -> dict[str, Any] | None:
    """The condition of ``type`` in ``obj.status.conditions``, or None."""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type:
            return dict(condition)
    return None


def is_condition_true(obj: Mapping[str, Any], type: str) -> bool:
    """Whether ``obj`` has condition ``type`` with status True."""
    condition = find_condition(obj, type)
    return condition is not None and condition.get("status") == "True"


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)?$")


def validate_name(name: object, *, path: str = "metadata.name") -> list[Problem]:
    """Object names are DNS-1123 subdomains: lowercase alphanumerics, '-' and '.', at most 253 characters."""
    if not isinstance(name, str) or not name:
        return [Problem(path, "is required and must be a non-empty string")]
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return [
            Problem(
                path,
                f"{name!r} is not a valid name: use at most 253 lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit",
            )
        ]
    return []


def validate_namespace_name(name: object, *, path: str = "metadata.namespace") -> list[Problem]:
    """Namespaces are DNS-1123 labels: at most 63 lowercase alphanumerics and '-'."""
    if not isinstance(name, str) or not name:
        return [Problem(path, "is required for this kind and must be a non-empty string")]
    if len(name) > 63 or not _DNS_LABEL.match(name):
        return [
            Problem(
                path,
                f"{name!r} is not a valid namespace: use at most 63 lowercase letters, digits and '-', "
                "starting and ending with a letter or digit",
            )
        ]
    return []


def _validate_qualified_key(key: str, path: str) -> list[Problem]:
    prefix, _, name = key.rpartition("/")
    problems: list[Problem] = []
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        problems.append(Problem(path, f"key prefix {prefix!r} must be a DNS subdomain"))
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        problems.append(
            Problem(path, f"key {key!r} must be at most 63 alphanumerics, '-', '_' or '.' (optionally prefix/)")
        )
    return problems


def validate_labels(labels: object, *, path: str = "metadata.labels") -> list[Problem]:
    """Label keys are qualified names; values at most 63 alphanumerics, '-', '_', '.' or '/'.

    Kubernetes refuses '/' in label values, but platform resources are labelled with git refs
    (the design's PreviewEnvironment carries ``branch: feature/payment-refactor``), so blacktop
    accepts it inside a value. Code that renders Kubernetes manifests must therefore not copy
    platform labels verbatim.
    """
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [Problem(path, "must be a map of string keys to string values")]
    problems: list[Problem] = []
    for key, value in labels.items():
        field = f"{path}[{key}]"
        problems.extend(_validate_qualified_key(str(key), field))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.append(
                Problem(field, f"value {value!r} must be a string of at most 63 alphanumerics, '-', '_', '.' or '/'")
            )
    return problems


def validate_annotations(annotations: object, *, path: str = "metadata.annotations") -> list[Problem]:
    """Annotation keys are qualified names; values are strings (262,144 bytes in total at most)."""
    if annotations is None:
        return []
    if not isinstance(annotations, Mapping):
        return [Problem(path, "must be a map of string keys to string values")]
    problems: list[Problem] = []
    total = 0
    for key, value in annotations.items():
        field = f"{path}[{key}]"
        problems.extend(_validate_qualified_key(str(key), field))
        if not isinstance(value, str):
            problems.append(Problem(field, f"value must be a string, got {type(value).__name__}"))
        else:
            total += len(key) + len(value)
    if total > 262_144:
        problems.append(Problem(path, "annotations may hold at most 262144 bytes in total"))
    return problems


def deep_copy(obj: Resource) -> Resource:
    """An independent copy of a resource document."""
    return copy.deepcopy(obj)


def json_merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch: objects merge recursively, ``null`` deletes, the rest replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result
