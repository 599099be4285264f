"""Every check an ingested descriptor must pass, each failure reported with its field path.

Backstage validates in stages (envelope, policies, kind schema) and stops at the first failure, which
hides the real problem (its issues #12333, #25622). blacktop runs every stage and returns *all*
problems at once: the kind schema (``kinds``), the "no foreign root fields" policy, and the field
formats of names, namespaces, kinds, apiVersions, tags, labels, annotations and links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from blacktop.kernel.errors import Problem

from . import errors, kinds, model

ROOT_FIELDS: Final = frozenset({"apiVersion", "kind", "metadata", "spec"})
"""The only root keys an ingested document may have."""

_NAME: Final = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_NAMESPACE: Final = re.compile(r"^[a-z0-9]+(-+[a-z0-9]+)*$")
_KIND: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*$")
_VERSION: Final = re.compile(r"^[a-zA-Z0-9]+$")
_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TAG: Final = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_SCHEME: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*$")
_MAX: Final = 63


def is_valid_name(value: object) -> bool:
    """Backstage entity name: 1-63 chars, alphanumeric runs joined by ``-``, ``_`` or ``.``."""
    return isinstance(value, str) and 1 <= len(value) <= _MAX and bool(_NAME.match(value))


def is_valid_namespace(value: object) -> bool:
    """A lower-case DNS label of 1-63 chars."""
    return isinstance(value, str) and 1 <= len(value) <= _MAX and bool(_NAMESPACE.match(value))


def is_valid_kind(value: object) -> bool:
    """A letter followed by letters or digits, 1-63 chars."""
    return isinstance(value, str) and 1 <= len(value) <= _MAX and bool(_KIND.match(value))


def is_valid_dns_subdomain(value: str) -> bool:
    """Dot-separated lower-case DNS labels, at most 253 chars."""
    return 1 <= len(value) <= 253 and all(
        1 <= len(label) <= _MAX and _DNS_LABEL.match(label) for label in value.split(".")
    )


def is_valid_api_version(value: object) -> bool:
    """``[dns-subdomain/]version`` with a 1-63 char alphanumeric version and at most one ``/``."""
    if not isinstance(value, str):
        return False
    prefix, slash, version = value.rpartition("/")
    if slash and (not prefix or "/" in prefix or not is_valid_dns_subdomain(prefix)):
        return False
    return 1 <= len(version) <= _MAX and bool(_VERSION.match(version))


def is_valid_key(value: str) -> bool:
    """A label or annotation key: ``[dns-subdomain/]name``."""
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or not is_valid_dns_subdomain(prefix)):
        return False
    return is_valid_name(name)


def is_valid_label_value(value: object) -> bool:
    """A label value: empty, or an entity-name-shaped string."""
    return value == "" or is_valid_name(value)


def is_valid_tag(value: object) -> bool:
    """1-63 chars of ``[a-z0-9:+#]`` runs joined by single ``-``."""
    return isinstance(value, str) and 1 <= len(value) <= _MAX and bool(_TAG.match(value))


def is_valid_url(value: object) -> bool:
    """Whether ``value`` parses as an absolute URL (a scheme and something after it)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and _SCHEME.match(parts.scheme) and (parts.netloc or parts.path))


def problems_in(document: object) -> list[Problem]:
    """Every problem with ``document`` as an ingested entity, sorted by path; empty means valid."""
    if not isinstance(document, Mapping):
        return [Problem(path="", message="an entity must be a mapping with apiVersion, kind, metadata, spec")]
    problems = kinds.schema_problems(document)
    problems += _root_problems(document)
    metadata = document.get("metadata")
    if isinstance(metadata, Mapping):
        problems += _metadata_problems(metadata)
    return _sorted_unique(problems)


def validate_entity(document: object) -> model.Entity:
    """Accept ``document`` as an ``Entity`` or raise ``InvalidEntity`` listing every problem."""
    problems = problems_in(document)
    if problems:
        name = _describe(document)
        raise errors.InvalidEntity(
            f"entity {name} is invalid: " + "; ".join(p.describe() for p in problems), problems=problems
        )
    assert isinstance(document, Mapping)
    return model.Entity.from_dict(document)


def _describe(document: object) -> str:
    if isinstance(document, Mapping):
        metadata = document.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return f"'{document.get('kind')}:{name}'"
    return "(not a mapping)"


def _root_problems(document: Mapping[str, Any]) -> list[Problem]:
    problems = [
        Problem(path=str(key), message=f"Unknown field {key!r}; an entity only has {', '.join(sorted(ROOT_FIELDS))}")
        for key in document
        if key not in ROOT_FIELDS
    ]
    api_version = document.get("apiVersion")
    if isinstance(api_version, str) and not is_valid_api_version(api_version):
        problems.append(
            Problem(path="apiVersion", message=f"{api_version!r} is not a valid apiVersion, e.g. backstage.io/v1alpha1")
        )
    kind = document.get("kind")
    if isinstance(kind, str) and not is_valid_kind(kind):
        problems.append(Problem(path="kind", message=f"{kind!r} is not a valid kind: a letter, then letters/digits"))
    return problems


def _metadata_problems(metadata: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    name = metadata.get("name")
    if isinstance(name, str) and not is_valid_name(name):
        problems.append(
            Problem(
                path="metadata.name",
                message=f"{name!r} is not a valid name: 1-63 chars of [a-zA-Z0-9] joined by -, _ or .",
            )
        )
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and not is_valid_namespace(namespace):
        problems.append(
            Problem(
                path="metadata.namespace",
                message=f"{namespace!r} is not a valid namespace: a lower-case DNS label of 1-63 chars",
            )
        )
    problems += _map_problems(metadata.get("labels"), "metadata.labels", values_are_names=True)
    problems += _map_problems(metadata.get("annotations"), "metadata.annotations", values_are_names=False)
    problems += _tag_problems(metadata.get("tags"))
    problems += _link_problems(metadata.get("links"))
    return problems


def _map_problems(value: object, path: str, *, values_are_names: bool) -> list[Problem]:
    if not isinstance(value, Mapping):
        return []
    problems: list[Problem] = []
    for key, item in value.items():
        where = f"{path}.{key}"
        if not isinstance(key, str) or not is_valid_key(key):
            problems.append(Problem(path=where, message=f"{key!r} is not a valid key: [dns-prefix/]name"))
        if not isinstance(item, str):
            problems.append(Problem(path=where, message=f"value {item!r} must be a string"))
        elif values_are_names and not is_valid_label_value(item):
            problems.append(Problem(path=where, message=f"value {item!r} must be empty or a valid name"))
    return problems


def _tag_problems(value: object) -> list[Problem]:
    if not isinstance(value, list):
        return []
    return [
        Problem(
            path=f"metadata.tags[{i}]",
            message=f"{tag!r} is not a valid tag: 1-63 chars of [a-z0-9:+#] joined by single -",
        )
        for i, tag in enumerate(value)
        if isinstance(tag, str) and not is_valid_tag(tag)
    ]


def _link_problems(value: object) -> list[Problem]:
    if not isinstance(value, list):
        return []
    problems: list[Problem] = []
    for i, link in enumerate(value):
        if not isinstance(link, Mapping):
            continue
        url = link.get("url")
        if isinstance(url, str) and url and not is_valid_url(url):
            problems.append(Problem(path=f"metadata.links[{i}].url", message=f"{url!r} is not a valid URL"))
        for key in ("title", "icon", "type"):
            if key in link and (not isinstance(link[key], str) or not link[key]):
                problems.append(Problem(path=f"metadata.links[{i}].{key}", message="must be a non-empty string"))
    return problems


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = {(p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: p.path)
