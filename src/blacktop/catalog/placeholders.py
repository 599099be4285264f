"""``$text``, ``$json`` and ``$yaml`` placeholder substitution with Backstage's same-repository rule.

Any object in an entity with exactly one key, that key being a known resolver, is replaced by the
contents of the file it names: a string (``$text``), parsed JSON (``$json``) or a single YAML document
(``$yaml``). Paths are relative to the entity's own file. Since catalog-backend 4.0 a placeholder read
from a repository may only reference files in that same repository. Every URL read is returned as a
refresh key so a change to the referenced file can re-trigger processing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from blacktop.kernel.errors import BlacktopError, Problem

from . import kinds, locations, ports

RESOLVERS: Final = frozenset({"$text", "$json", "$yaml"})


@dataclass(frozen=True, slots=True)
class PlaceholderPolicy:
    """How placeholders may reach out: the same-repository rule and which hosts it covers."""

    same_repository: bool = True
    scm_hosts: frozenset[str] = locations.SCM_HOSTS


@dataclass(slots=True)
class Substitution:
    """The document after substitution, what went wrong and which locations were read."""

    document: Any
    problems: list[Problem] = field(default_factory=list)
    refresh_keys: list[str] = field(default_factory=list)


def placeholder_target(base: locations.LocationSpec, value: str) -> locations.LocationSpec:
    """Where a placeholder value points: an absolute URL as is, else relative to the entity's file."""
    if locations.is_absolute_url(value):
        return locations.LocationSpec("url", value)
    if base.type == "file" and not value.startswith("/"):
        # Placeholders are always relative to the entity's own file, with or without a leading "./".
        return locations.resolve_target(base, value if value.startswith(".") else "./" + value)
    return locations.resolve_target(base, value)


def check_same_repository(
    base: locations.LocationSpec, target: locations.LocationSpec, policy: PlaceholderPolicy
) -> str | None:
    """The refusal message when ``target`` breaks the same-repository rule, else None."""
    if not policy.same_repository or base.type != "url" or target.type != "url":
        return None
    if locations.is_same_repository(base.target, target.target, scm_hosts=policy.scm_hosts):
        return None
    return (
        f"Placeholder may only reference files from the same repository as the entity; "
        f"{target.target} is outside the repository of {base.target}"
    )


async def substitute(
    document: Any,
    *,
    base: locations.LocationSpec,
    reader: ports.LocationReader,
    policy: PlaceholderPolicy = PlaceholderPolicy(),
) -> Substitution:
    """Replace every placeholder in ``document`` (nested ones too); problems name the field path."""
    result = Substitution(document=None)
    result.document = await _walk(document, [], base=base, reader=reader, policy=policy, out=result)
    return result


async def _walk(
    node: Any,
    path: list[str | int],
    *,
    base: locations.LocationSpec,
    reader: ports.LocationReader,
    policy: PlaceholderPolicy,
    out: Substitution,
) -> Any:
    if isinstance(node, Mapping):
        if len(node) == 1:
            ((key, value),) = node.items()
            if isinstance(key, str) and key in RESOLVERS:
                return await _resolve(key, value, path, base=base, reader=reader, policy=policy, out=out)
        return {
            k: await _walk(v, [*path, str(k)], base=base, reader=reader, policy=policy, out=out)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [
            await _walk(v, [*path, i], base=base, reader=reader, policy=policy, out=out) for i, v in enumerate(node)
        ]
    return node


async def _resolve(
    resolver: str,
    value: Any,
    path: list[str | int],
    *,
    base: locations.LocationSpec,
    reader: ports.LocationReader,
    policy: PlaceholderPolicy,
    out: Substitution,
) -> Any:
    where = kinds.format_path(path)
    original = {resolver: value}
    if not isinstance(value, str) or not value:
        out.problems.append(Problem(path=where, message=f"placeholder {resolver} must be a non-empty string"))
        return original
    target = placeholder_target(base, value)
    refusal = check_same_repository(base, target, policy)
    if refusal is not None:
        out.problems.append(Problem(path=where, message=refusal))
        return original
    try:
        text = await reader.fetch_text(target)
    except BlacktopError as exc:
        out.problems.append(Problem(path=where, message=f"placeholder {resolver} could not read {target.key}: {exc}"))
        return original
    out.refresh_keys.append(target.key)
    if text is None:
        out.problems.append(Problem(path=where, message=f"placeholder {resolver} target {target.key} does not exist"))
        return original
    try:
        return _PARSERS[resolver](text)
    except (ValueError, yaml.YAMLError) as exc:
        out.problems.append(Problem(path=where, message=f"placeholder {resolver} could not parse {target.key}: {exc}"))
        return original


def _parse_yaml(text: str) -> Any:
    documents = list(yaml.safe_load_all(text))
    if len(documents) != 1:
        raise ValueError(f"expected exactly one YAML document, found {len(documents)}")
    return documents[0]


_PARSERS: Final[Mapping[str, Callable[[str], Any]]] = {
    "$text": lambda text: text,
    "$json": json.loads,
    "$yaml": _parse_yaml,
}
