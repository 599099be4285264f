"""Incremental location walks: re-read every file, re-process only the files whose content changed.

``processing.ingest_location`` is the reference walk; this one follows the same rules (nested
Locations, relative targets, ``presence: optional``, placeholders, validation, allow rules, first
file wins) but works file by file so a refresh of 100,000 entities stays fast and small:

- each file's text is hashed; when it (and every placeholder file it read) is unchanged since the
  last walk, the file's cached *summary* (refs, entity hashes, child targets, problems) is reused and
  nothing is parsed;
- changed files are parsed with libyaml's composer (the node tree keeps line numbers) and handed to
  ``on_file`` as soon as they are processed, so entities never pile up in memory.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from blacktop.kernel.errors import BlacktopError, Problem

from . import locations, model, placeholders, ports, processing, relations, stitching, validation

_CLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Constructor(yaml.SafeLoader):
    """Builds Python values from nodes with YAML merge keys off (``<<`` stays a key), as Backstage."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        return None


_Constructor.add_constructor("tag:yaml.org,2002:merge", lambda loader, node: "<<")


def parse_fast(text: str, *, source: str) -> processing.ParseResult:
    """``processing.parse_descriptor`` with the C composer: same documents, lines and problems, ~8x faster."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_CLoader))
    except yaml.YAMLError:
        return processing.parse_descriptor(text, source=source)
    documents: list[processing.ParsedDocument] = []
    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        line = node.start_mark.line + 1
        try:
            value = _Constructor("").construct_document(node)
        except yaml.YAMLError as exc:
            problems.append(Problem(path="", message=f"YAML error: {exc}", document=source, line=line))
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            message = f"document {index} must be a mapping (an entity)"
            problems.append(Problem(path="", message=message, document=source, line=line))
            continue
        documents.append(processing.ParsedDocument(index=index, line=line, document=value, node=node))
    return processing.ParseResult(tuple(documents), tuple(problems))


def entity_hash(entity: model.Entity) -> str:
    """The hash that decides whether a stored entity must be rewritten."""
    return stitching.compute_etag(entity.to_dict())


@dataclass(frozen=True, slots=True)
class Child:
    """A target a Location entity names, to be walked next."""

    file: locations.LocationSpec
    parent: model.EntityRef | None
    optional: bool


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What a file produced last time, enough to skip it when nothing changed."""

    digest: str
    refs: tuple[str, ...]
    children: tuple[Child, ...]
    problems: tuple[Problem, ...]
    reads: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """One processed file: its accepted entities (only when it changed) and its problems."""

    file: locations.LocationSpec
    changed: bool
    entities: tuple[processing.IngestedEntity, ...]
    problems: tuple[Problem, ...]


@dataclass(slots=True)
class WalkResult:
    """Everything a walk saw: refs per file, problems, files read and which changed."""

    refs: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(slots=True)
class _Walk:
    root: locations.LocationSpec
    reader: ports.LocationReader
    options: processing.IngestOptions
    cache: dict[str, FileSummary]
    on_file: Callable[[FileOutcome], Awaitable[None]]
    result: WalkResult = field(default_factory=WalkResult)
    queue: deque[Child] = field(default_factory=deque)


async def walk_location(
    root: locations.LocationSpec,
    reader: ports.LocationReader,
    *,
    options: processing.IngestOptions,
    cache: dict[str, FileSummary],
    on_file: Callable[[FileOutcome], Awaitable[None]],
) -> WalkResult:
    """Walk ``root`` and its nested Locations; ``cache`` is read and updated in place."""
    walk = _Walk(root, reader, options, cache, on_file)
    walk.queue.append(Child(root, None, False))
    seen: set[str] = set()
    while walk.queue:
        pending = walk.queue.popleft()
        for file in await _expand(walk, pending):
            if file.key in seen or len(seen) >= options.max_files:
                continue
            seen.add(file.key)
            await _visit(walk, file, pending)
    for key in [k for k in cache if k not in seen]:
        del cache[key]
    return walk.result


async def _expand(walk: _Walk, pending: Child) -> list[locations.LocationSpec]:
    if not pending.file.is_glob:
        return [pending.file]
    try:
        return await walk.reader.list_matching(pending.file)
    except BlacktopError as exc:
        walk.result.problems.append(Problem(path="", message=str(exc), document=pending.file.key))
        return []


async def _visit(walk: _Walk, file: locations.LocationSpec, pending: Child) -> None:
    try:
        locations.check_target(file)
        text = await walk.reader.fetch_text(file)
    except BlacktopError as exc:
        walk.result.problems.append(Problem(path="", message=f"could not read {file.key}: {exc}", document=file.key))
        return
    if text is None:
        if not pending.optional:
            message = f"location {file.key} does not exist; mark it presence: optional if that is expected"
            walk.result.problems.append(Problem(path="", message=message, document=file.key))
        return
    walk.result.files.append(file.key)
    digest = _digest(text)
    cached = walk.cache.get(file.key)
    if cached is not None and cached.digest == digest and await _reads_unchanged(walk, cached):
        _claim_cached(walk, file, cached)
        await walk.on_file(FileOutcome(file, False, (), ()))
        return
    summary, outcome = await _process_file(walk, file, text, digest, pending.parent)
    walk.cache[file.key] = summary
    walk.result.changed_files.append(file.key)
    walk.result.problems.extend(outcome.problems)
    walk.queue.extend(summary.children)
    await walk.on_file(outcome)


async def _reads_unchanged(walk: _Walk, cached: FileSummary) -> bool:
    for key, digest in cached.reads:
        spec = locations.parse_location_ref(key)
        try:
            text = await walk.reader.fetch_text(spec)
        except BlacktopError:
            return False
        if text is None or _digest(text) != digest:
            return False
    return True


def _claim_cached(walk: _Walk, file: locations.LocationSpec, cached: FileSummary) -> None:
    for ref in cached.refs:
        walk.result.refs.setdefault(ref, file.key)
    walk.result.problems.extend(cached.problems)
    walk.queue.extend(cached.children)


async def _process_file(
    walk: _Walk, file: locations.LocationSpec, text: str, digest: str, parent: model.EntityRef | None
) -> tuple[FileSummary, FileOutcome]:
    parsed = parse_fast(text, source=file.key)
    problems = list(parsed.problems)
    accepted: list[processing.IngestedEntity] = []
    children: list[Child] = []
    reads: dict[str, str] = {}
    for doc in parsed.documents:
        ingested, found, read_keys = await process_document(
            doc, file=file, root=walk.root, reader=walk.reader, options=walk.options, parent=parent
        )
        problems += found
        for key in read_keys:
            reads[key] = await _read_digest(walk.reader, key)
        if ingested is None:
            continue
        ref = ingested.entity.ref.key
        owner = walk.result.refs.get(ref)
        claim = processing.decide_claim(ingested.entity.ref, owner=owner, claimant=file.key)
        if not claim.accepted:
            problems.append(Problem(path="metadata.name", message=claim.message, document=file.key, line=doc.line))
            continue
        walk.result.refs[ref] = file.key
        accepted.append(ingested)
        children += _children_of(file, ingested.entity)
    summary = FileSummary(
        digest=digest, refs=tuple(e.entity.ref.key for e in accepted), children=tuple(children),
        problems=tuple(problems), reads=tuple(sorted(reads.items())),
    )  # fmt: skip
    return summary, FileOutcome(file, True, tuple(accepted), tuple(problems))


async def _read_digest(reader: ports.LocationReader, key: str) -> str:
    try:
        text = await reader.fetch_text(locations.parse_location_ref(key))
    except BlacktopError:
        return ""
    return _digest(text) if text is not None else ""


async def process_document(
    doc: processing.ParsedDocument,
    *,
    file: locations.LocationSpec,
    root: locations.LocationSpec,
    reader: ports.LocationReader,
    options: processing.IngestOptions,
    parent: model.EntityRef | None = None,
) -> tuple[processing.IngestedEntity | None, list[Problem], list[str]]:
    """Substitute, validate, allow-check and derive relations for one document of ``file``."""

    def located(p: Problem) -> Problem:
        return Problem(path=p.path, message=p.message, document=file.key, line=doc.line_of(p.path))

    substituted = await placeholders.substitute(
        doc.document, base=file, reader=reader, policy=options.placeholder_policy
    )
    if substituted.problems:
        return None, [located(p) for p in substituted.problems], substituted.refresh_keys
    document = substituted.document
    found = validation.problems_in(document)
    if found:
        return None, [located(p) for p in found], substituted.refresh_keys
    if not locations.is_allowed(document, root, options.rules):
        message = (
            f"entity {document['kind']}:{document['metadata']['name']} is not of an allowed kind for that "
            f"location ({root.key}); add an allow rule"
        )
        return None, [located(Problem(path="kind", message=message))], substituted.refresh_keys
    entity = stitching.sort_spec_lists(model.Entity.from_dict(document)).with_annotations(
        {model.MANAGED_BY_LOCATION: file.key, model.MANAGED_BY_ORIGIN_LOCATION: root.key}
    )
    derived = relations.derive_relations(entity)
    if derived.problems:
        return None, [located(p) for p in derived.problems], substituted.refresh_keys
    ingested = processing.IngestedEntity(
        entity=entity, location_key=file.key, origin_key=root.key, parent=parent, relations=derived.relations,
        refresh_keys=tuple(substituted.refresh_keys),
    )  # fmt: skip
    return ingested, [], substituted.refresh_keys


def _children_of(file: locations.LocationSpec, entity: model.Entity) -> list[Child]:
    if entity.kind.lower() != "location":
        return []
    spec = entity.spec
    targets = [spec["target"]] if isinstance(spec.get("target"), str) else []
    targets += [t for t in spec.get("targets", []) or [] if isinstance(t, str)]
    target_type = spec.get("type") if isinstance(spec.get("type"), str) else None
    optional = spec.get("presence") == "optional"
    return [Child(locations.resolve_target(file, t, target_type=target_type), entity.ref, optional) for t in targets]
