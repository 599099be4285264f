"""Location refs, target resolution, same-repository checks and the ingestion allow rules.

A location is ``<type>:<target>`` (``url:https://...``, ``file:/abs/path``). Relative targets of a
Location entity resolve against the file that entity came from, when the types match. Allow rules
decide which kinds may come from which origin; Backstage by default only lets ``Component``, ``API``
and ``Location`` in, everything else must be allowed explicitly.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urljoin, urlsplit

from . import errors

LOCATION_TYPES: Final = frozenset({"url", "file"})
"""Types blacktop can read; others (``bootstrap``) are internal."""

GLOB_CHARS: Final = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class LocationSpec:
    """Where descriptors are read from: a type and a target (URL or path)."""

    type: str
    target: str

    @property
    def key(self) -> str:
        """``type:target``, the location key stored with each entity read from here."""
        return f"{self.type}:{self.target}"

    @property
    def is_glob(self) -> bool:
        """Whether the target names several files by pattern."""
        return any(c in GLOB_CHARS for c in self.target)

    def __str__(self) -> str:
        return self.key


def parse_location_ref(value: str) -> LocationSpec:
    """Split ``type:target`` at the first ``:``; refuse ``http(s):`` as a type and ``javascript:``."""
    location_type, colon, target = value.partition(":")
    if not colon or not location_type or not target:
        raise errors.InvalidLocation(f"location ref {value!r} must be written as type:target, e.g. url:https://...")
    if location_type in ("http", "https"):
        raise errors.InvalidLocation(
            f"location ref {value!r} uses {location_type!r} as a type; write it as url:{value}"
        )
    check_target(LocationSpec(location_type, target))
    return LocationSpec(location_type, target)


def check_target(location: LocationSpec) -> None:
    """Raise ``InvalidLocation`` for targets Backstage refuses (``javascript:``, file dirs)."""
    if location.target.strip().lower().startswith("javascript:"):
        raise errors.InvalidLocation(f"location {location.key!r} has a javascript: target, which is never read")
    if location.type == "file" and location.target.endswith(("/", "\\")):
        raise errors.InvalidLocation(f"location {location.key!r} ends with a path separator; name a file or glob")


def is_absolute_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def resolve_target(base: LocationSpec, target: str, *, target_type: str | None = None) -> LocationSpec:
    """Resolve a Location entity's ``target`` read from the file ``base``.

    When the target's type equals ``base.type``, a relative target resolves against ``base``: URL
    joining for ``url``, joining with the file's directory for ``file`` targets starting with ``.``.
    Otherwise the target is used verbatim.
    """
    location_type = target_type or base.type
    if location_type != base.type:
        return LocationSpec(location_type, target)
    if location_type == "url":
        return LocationSpec("url", target if is_absolute_url(target) else urljoin(base.target, target))
    if location_type == "file" and target.startswith("."):
        directory = posixpath.dirname(base.target)
        return LocationSpec("file", posixpath.normpath(posixpath.join(directory, target)))
    return LocationSpec(location_type, target)


SCM_HOSTS: Final = frozenset({"github.com", "gitlab.com", "bitbucket.org", "dev.azure.com"})
"""Hosts whose URLs name a repository, where the same-repository placeholder rule applies."""


def repository_of(url: str) -> str | None:
    """The repository a URL points into (``host/owner/repo``), or None when it cannot tell.

    GitHub and Bitbucket use two path segments; Azure DevOps ``org/project/_git/repo``; GitLab
    groups nest, so its repository path is everything before ``/-/``.
    """
    parts = urlsplit(url)
    host = parts.netloc.lower()
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if host == "dev.azure.com" and "_git" in segments:
        i = segments.index("_git")
        return "/".join([host, *segments[: i + 2]]) if len(segments) > i + 1 else None
    if host == "gitlab.com" or host.startswith("gitlab."):
        if "-" in segments:
            segments = segments[: segments.index("-")]
        return "/".join([host, *segments]) if len(segments) >= 2 else None
    if len(segments) < 2:
        return None
    repo = segments[1].removesuffix(".git")
    return f"{host}/{segments[0]}/{repo}".lower()


_SLUG_ANNOTATION_PREFIXES: Final = (
    ("github", "github.com"),
    ("gitlab", "gitlab.com"),
    ("bitbucket", "bitbucket.org"),
    ("dev.azure.com", "dev.azure.com"),
)


def suggested_component(target: str) -> dict[str, Any] | None:
    """The Component Backstage's import wizard proposes for a repository without descriptors, or None.

    Named after the repository, ``type: other`` and ``lifecycle: unknown`` (the user fills in the
    rest, an owner first), with the host's ``<host>/project-slug`` annotation when the host is known.
    """
    repository = repository_of(target)
    if repository is None:
        return None
    host, _, path = repository.partition("/")
    name = path.rsplit("/", 1)[-1].removesuffix(".git")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in name).strip("-_.")[:63]
    if not safe:
        return None
    entity: dict[str, Any] = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": safe},
        "spec": {"type": "other", "lifecycle": "unknown"},
    }
    for marker, prefix in _SLUG_ANNOTATION_PREFIXES:
        if marker in host:
            slug = path if marker == "gitlab" else "/".join(path.split("/")[-2:])
            entity["metadata"]["annotations"] = {f"{prefix}/project-slug": slug}
            break
    return entity


def is_same_repository(base: str, target: str, *, scm_hosts: frozenset[str] = SCM_HOSTS) -> bool:
    """Whether ``target`` lives in the same repository as ``base`` (always true off SCM hosts)."""
    target_host = urlsplit(target).netloc.lower()
    if target_host not in scm_hosts:
        return True
    base_repo, target_repo = repository_of(base), repository_of(target)
    return base_repo is not None and base_repo == target_repo


@dataclass(frozen=True, slots=True)
class KindMatcher:
    """An allowed kind, optionally narrowed to one ``spec.type`` (both case-insensitive)."""

    kind: str
    spec_type: str | None = None

    def matches(self, document: Mapping[str, Any]) -> bool:
        """Whether the document has this kind (and spec.type)."""
        kind = document.get("kind")
        if not isinstance(kind, str) or kind.lower() != self.kind.lower():
            return False
        if self.spec_type is None:
            return True
        spec = document.get("spec")
        spec_type = spec.get("type") if isinstance(spec, Mapping) else None
        return isinstance(spec_type, str) and spec_type.lower() == self.spec_type.lower()


@dataclass(frozen=True, slots=True)
class LocationMatcher:
    """An origin location, matched exactly or by glob pattern."""

    type: str
    exact: str | None = None
    pattern: str | None = None

    def matches(self, origin: LocationSpec) -> bool:
        """Whether ``origin`` is this location."""
        if origin.type != self.type:
            return False
        target = _canonical(origin.target)
        if self.exact is not None:
            return target == _canonical(self.exact)
        return self.pattern is not None and fnmatch.fnmatchcase(target, _canonical(self.pattern))


def _canonical(target: str) -> str:
    return unquote(target)


@dataclass(frozen=True, slots=True)
class AllowRule:
    """``{allow: [kinds], locations?: [...]}``: these kinds may come from these origins (any if None)."""

    allow: tuple[KindMatcher, ...]
    locations: tuple[LocationMatcher, ...] | None = None

    def permits(self, document: Mapping[str, Any], origin: LocationSpec) -> bool:
        """Whether this rule lets ``document`` in from ``origin``."""
        if self.locations is not None and not any(m.matches(origin) for m in self.locations):
            return False
        return any(m.matches(document) for m in self.allow)


DEFAULT_RULES: Final[tuple[AllowRule, ...]] = (
    AllowRule(allow=(KindMatcher("Component"), KindMatcher("API"), KindMatcher("Location"))),
)
"""Backstage's default: only Component, API and Location entities from any location."""


def allow_rule(*kinds: str, origin: LocationSpec | None = None) -> AllowRule:
    """A rule allowing ``kinds`` from ``origin`` only (or from everywhere when None)."""
    locations = None if origin is None else (LocationMatcher(origin.type, exact=origin.target),)
    return AllowRule(allow=tuple(KindMatcher(k) for k in kinds), locations=locations)


def is_allowed(document: Mapping[str, Any], origin: LocationSpec, rules: Sequence[AllowRule]) -> bool:
    """Whether any rule permits ``document`` to come from the root location ``origin``."""
    return any(rule.permits(document, origin) for rule in rules)
