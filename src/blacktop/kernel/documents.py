"""Reading YAML and JSON documents that users hand us, safely.

Only safe loading is used, and every input passes resource limits before it is built into Python
objects: total size, nesting depth, node count and alias expansions. A "billion laughs" document
is refused after reading its events, without ever expanding it, so memory stays flat. Errors say
which file, which document and which line is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import InputError, Problem, TooLargeError

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """The safe loader, with YAML 1.1 timestamps kept as the text they were written as.

    Resources are JSON documents: Kubernetes (sigs.k8s.io/yaml) and Backstage read
    ``finishedAt: 2026-11-20T10:12:40Z`` as a string, and a ``datetime`` here could neither be
    validated against a ``format: date-time`` string schema nor stored.
    """


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one input; the defaults fit any real manifest with a wide margin."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 250_000
    max_aliases: int = 100
    max_documents: int = 5_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed document: its content, where it came from, its index and first line."""

    content: Any
    source: str
    index: int
    line: int

    @property
    def label(self) -> str:
        """``file.yaml`` for a lone document, ``file.yaml#2`` (1-based) within a stream."""
        return f"{self.source}#{self.index + 1}"


def _too_large(source: str, message: str, line: int | None = None) -> TooLargeError:
    return TooLargeError(
        f"{source}: {message}", problems=[Problem(path="", message=message, document=source, line=line)]
    )


def _check_events(text: str, source: str, limits: Limits) -> list[int]:
    """Walk parser events (no object construction) and enforce depth, node and alias limits.

    ``nodes`` counts values as they would be after alias expansion: an alias adds the size of the
    node its anchor names, so nested aliases that would expand exponentially are caught early.
    """
    depth = nodes = aliases = documents = 0
    anchor_sizes: dict[str, int] = {}
    open_anchors: list[tuple[str | None, int]] = []
    starts: list[int] = []
    awaiting_content = False
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            awaiting_content = True
            if documents > limits.max_documents:
                raise _too_large(source, f"more than {limits.max_documents} documents", line)
        elif awaiting_content and isinstance(event, yaml.NodeEvent):
            # A document's line is where its content starts, not its '---' marker.
            starts.append(line or 1)
            awaiting_content = False
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            nodes += anchor_sizes.get(str(event.anchor), 1)
            if aliases > limits.max_aliases:
                raise _too_large(
                    source, f"more than {limits.max_aliases} YAML aliases; write the values out instead", line
                )
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            open_anchors.append((event.anchor, nodes))
            nodes += 1
            if depth > limits.max_depth:
                raise _too_large(source, f"nesting deeper than {limits.max_depth} levels", line)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            anchor, start = open_anchors.pop()
            if anchor is not None:
                anchor_sizes[anchor] = nodes - start
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                anchor_sizes[event.anchor] = 1
        if nodes > limits.max_nodes:
            raise _too_large(
                source,
                f"more than {limits.max_nodes} values once aliases are expanded (a possible 'billion laughs' "
                "document); write the values out instead of using anchors",
                line,
            )
    return starts


def _syntax_error(source: str, exc: yaml.YAMLError) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    where = f"{source}:{line}" if line else source
    return InputError(f"{where}: {message}", problems=[Problem("", message, document=source, line=line)])


def load_documents(text: str | bytes, *, source: str = "<input>", limits: Limits = DEFAULT_LIMITS) -> list[Document]:
    """Parse a YAML (or JSON) stream into documents, skipping empty ones; raises InputError/TooLargeError."""
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            raise _too_large(source, f"input is {len(text)} bytes; the limit is {limits.max_bytes}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: input is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if len(text) > limits.max_bytes:
        raise _too_large(source, f"input is {len(text)} characters; the limit is {limits.max_bytes}")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        parsed = _try_json(stripped, source, limits)
        if parsed is not None:
            return parsed
    try:
        lines = _check_events(text, source, limits)
        contents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise _syntax_error(source, exc) from exc
    except RecursionError as exc:
        raise _too_large(source, "nesting too deep to read") from exc
    return [
        Document(content=content, source=source, index=i, line=lines[i] if i < len(lines) else 1)
        for i, content in enumerate(contents)
        if content is not None
    ]


def _try_json(text: str, source: str, limits: Limits) -> list[Document] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    except RecursionError as exc:
        raise _too_large(source, "nesting too deep to read") from exc
    _check_json_depth(value, source, limits)
    items = value.get("items") if isinstance(value, dict) and value.get("kind", "").endswith("List") else None
    if isinstance(value, list):
        items = value
    if isinstance(items, list):
        return [Document(content=v, source=source, index=i, line=1) for i, v in enumerate(items)]
    return [Document(content=value, source=source, index=0, line=1)]


def _check_json_depth(value: Any, source: str, limits: Limits) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        current, depth = stack.pop()
        nodes += 1
        if depth > limits.max_depth:
            raise _too_large(source, f"nesting deeper than {limits.max_depth} levels")
        if nodes > limits.max_nodes:
            raise _too_large(source, f"more than {limits.max_nodes} values")
        if isinstance(current, dict):
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            stack.extend((v, depth + 1) for v in current)


def iter_objects(documents: list[Document]) -> Iterator[tuple[Document, Any]]:
    """Yield each document's object, unpacking ``kind: List`` documents into their items."""
    for document in documents:
        content = document.content
        if isinstance(content, dict) and str(content.get("kind", "")).endswith("List") and "items" in content:
            for item in content.get("items") or []:
                yield document, item
        else:
            yield document, content


def dump_yaml(value: Any) -> str:
    """Render a value as block-style YAML with keys in their given order."""
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True)
