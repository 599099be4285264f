"""Turning descriptor files into entities: parsing, the Location walk, conflicts and orphans.

``parse_descriptor`` reads multi-document YAML into documents with their line numbers.
``ingest_location`` walks a root location through nested ``Location`` entities, reading files only via
the ``ports.LocationReader`` it is given, and returns every accepted entity with its relations plus
every problem located by file, line and field. One broken file or entity never blocks the others.
``decide_claim`` and ``plan_orphans`` are the pure conflict and orphan decisions the store applies.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

from blacktop.kernel.errors import BlacktopError, Problem

from . import errors, locations, model, placeholders, ports, relations, stitching, validation


class _NoMergeLoader(yaml.SafeLoader):
    """SafeLoader with YAML merge keys off, as in Backstage: ``<<`` stays an ordinary key."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        return None


_NoMergeLoader.add_constructor("tag:yaml.org,2002:merge", lambda loader, node: "<<")


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One YAML document of a descriptor file, with the line it starts on and its node tree."""

    index: int
    line: int
    document: Any
    node: yaml.Node | None = None

    def line_of(self, path: str) -> int:
        """The 1-based line of the field at ``path`` (``spec.owner``), or the document's line."""
        return _line_of(self.node, path) if self.node is not None else self.line


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The documents of a file and the problems (YAML errors, non-mapping documents)."""

    documents: tuple[ParsedDocument, ...]
    problems: tuple[Problem, ...]


def parse_descriptor(text: str, *, source: str) -> ParseResult:
    """Parse ``text`` (multi-document YAML) from ``source``; null documents are skipped."""
    documents: list[ParsedDocument] = []
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_NoMergeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return ParseResult((), (Problem(path="", message=f"YAML syntax error: {exc}", document=source, line=line),))
    for index, node in enumerate(nodes):
        if node is None:
            continue
        line = node.start_mark.line + 1
        try:
            value = _NoMergeLoader("").construct_document(node)
        except yaml.YAMLError as exc:
            problems.append(Problem(path="", message=f"YAML error: {exc}", document=source, line=line))
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(
                Problem(path="", message=f"document {index} must be a mapping (an entity)", document=source, line=line)
            )
            continue
        documents.append(ParsedDocument(index=index, line=line, document=value, node=node))
    return ParseResult(tuple(documents), tuple(problems))


_INDEX = re.compile(r"^\[(\d+)\]")


def _line_of(node: yaml.Node, path: str) -> int:
    """Walk ``node`` along a rendered path; keys may contain dots, so match the longest key."""
    rest, current = path, node
    while rest:
        if isinstance(current, yaml.SequenceNode):
            match = _INDEX.match(rest)
            if not match or int(match.group(1)) >= len(current.value):
                break
            current = current.value[int(match.group(1))]
            rest = rest[match.end() :].removeprefix(".")
        elif isinstance(current, yaml.MappingNode):
            best: tuple[str, yaml.Node, yaml.Node] | None = None
            for key_node, value_node in current.value:
                key = str(key_node.value)
                if (rest == key or rest.startswith((key + ".", key + "["))) and (
                    best is None or len(key) > len(best[0])
                ):
                    best = (key, key_node, value_node)
            if best is None:
                break
            key, key_node, value_node = best
            rest = rest[len(key) :].removeprefix(".")
            if not rest:
                return int(key_node.start_mark.line) + 1
            current = value_node
        else:
            break
    return int(current.start_mark.line) + 1


@dataclass(frozen=True, slots=True)
class IngestedEntity:
    """An accepted entity, where it came from and the relations it emits."""

    entity: model.Entity
    location_key: str
    origin_key: str
    parent: model.EntityRef | None
    relations: tuple[model.Relation, ...]
    refresh_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ingestion:
    """Everything one walk of a root location produced."""

    root: locations.LocationSpec
    entities: tuple[IngestedEntity, ...]
    problems: tuple[Problem, ...]
    files_read: tuple[str, ...]

    def refs(self) -> list[str]:
        """The canonical refs of the accepted entities, in ingestion order."""
        return [e.entity.ref.key for e in self.entities]

    def all_relations(self) -> list[model.Relation]:
        """Every relation row emitted by every accepted entity."""
        return [r for e in self.entities for r in e.relations]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """The rules one ingestion runs under."""

    rules: Sequence[locations.AllowRule] = locations.DEFAULT_RULES
    placeholder_policy: placeholders.PlaceholderPolicy = placeholders.PlaceholderPolicy()  # noqa: RUF009
    max_files: int = 10_000


@dataclass(slots=True)
class _Pending:
    file: locations.LocationSpec
    parent: model.EntityRef | None
    optional: bool


@dataclass(slots=True)
class _Walk:
    root: locations.LocationSpec
    reader: ports.LocationReader
    options: IngestOptions
    entities: dict[model.EntityRef, IngestedEntity] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    queue: deque[_Pending] = field(default_factory=deque)


async def ingest_location(
    root: locations.LocationSpec,
    reader: ports.LocationReader,
    *,
    options: IngestOptions = IngestOptions(),
) -> Ingestion:
    """Read ``root`` and every Location it nests, returning accepted entities and all problems."""
    walk = _Walk(root=root, reader=reader, options=options)
    walk.queue.append(_Pending(file=root, parent=None, optional=False))
    seen: set[str] = set()
    while walk.queue:
        pending = walk.queue.popleft()
        for file in await _expand(walk, pending):
            if file.key in seen or len(seen) >= options.max_files:
                continue
            seen.add(file.key)
            await _read_file(walk, file, pending)
    return Ingestion(root, tuple(walk.entities.values()), tuple(walk.problems), tuple(walk.files_read))


async def _expand(walk: _Walk, pending: _Pending) -> list[locations.LocationSpec]:
    if not pending.file.is_glob:
        return [pending.file]
    try:
        return await walk.reader.list_matching(pending.file)
    except BlacktopError as exc:
        walk.problems.append(Problem(path="", message=str(exc), document=pending.file.key))
        return []


async def _read_file(walk: _Walk, file: locations.LocationSpec, pending: _Pending) -> None:
    try:
        locations.check_target(file)
        text = await walk.reader.fetch_text(file)
    except BlacktopError as exc:
        walk.problems.append(Problem(path="", message=f"could not read {file.key}: {exc}", document=file.key))
        return
    if text is None:
        if not pending.optional:
            walk.problems.append(
                Problem(
                    path="",
                    message=f"location {file.key} does not exist; mark it presence: optional if that is expected",
                    document=file.key,
                )
            )
        return
    walk.files_read.append(file.key)
    parsed = parse_descriptor(text, source=file.key)
    walk.problems.extend(parsed.problems)
    for doc in parsed.documents:
        await _process_document(walk, file, doc, pending.parent)


async def _process_document(
    walk: _Walk, file: locations.LocationSpec, doc: ParsedDocument, parent: model.EntityRef | None
) -> None:
    def problem(p: Problem) -> Problem:
        return Problem(path=p.path, message=p.message, document=file.key, line=doc.line_of(p.path))

    substituted = await placeholders.substitute(
        doc.document, base=file, reader=walk.reader, policy=walk.options.placeholder_policy
    )
    if substituted.problems:
        walk.problems.extend(problem(p) for p in substituted.problems)
        return
    document = substituted.document
    found = validation.problems_in(document)
    if found:
        walk.problems.extend(problem(p) for p in found)
        return
    if not locations.is_allowed(document, walk.root, walk.options.rules):
        walk.problems.append(
            problem(
                Problem(
                    path="kind",
                    message=f"entity {document['kind']}:{document['metadata']['name']} "
                    f"is not of an allowed kind for that location ({walk.root.key}); add an allow rule",
                )
            )
        )
        return
    entity = stitching.sort_spec_lists(model.Entity.from_dict(document)).with_annotations(
        {model.MANAGED_BY_LOCATION: file.key, model.MANAGED_BY_ORIGIN_LOCATION: walk.root.key}
    )
    derived = relations.derive_relations(entity)
    if derived.problems:
        walk.problems.extend(problem(p) for p in derived.problems)
        return
    claim = decide_claim(entity.ref, owner=_owner(walk, entity.ref), claimant=file.key)
    if not claim.accepted:
        walk.problems.append(problem(Problem(path="metadata.name", message=claim.message)))
        return
    walk.entities[entity.ref] = IngestedEntity(
        entity=entity, location_key=file.key, origin_key=walk.root.key, parent=parent,
        relations=derived.relations, refresh_keys=tuple(substituted.refresh_keys),
    )  # fmt: skip
    if entity.kind.lower() == "location":
        _enqueue_targets(walk, file, entity)


def _owner(walk: _Walk, ref: model.EntityRef) -> str | None:
    existing = walk.entities.get(ref)
    return existing.location_key if existing is not None else None


def _enqueue_targets(walk: _Walk, file: locations.LocationSpec, entity: model.Entity) -> None:
    spec = entity.spec
    targets = [spec["target"]] if isinstance(spec.get("target"), str) else []
    targets += [t for t in spec.get("targets", []) or [] if isinstance(t, str)]
    target_type = spec.get("type") if isinstance(spec.get("type"), str) else None
    optional = spec.get("presence") == "optional"
    for target in targets:
        resolved = locations.resolve_target(file, target, target_type=target_type)
        walk.queue.append(_Pending(file=resolved, parent=entity.ref, optional=optional))


@dataclass(frozen=True, slots=True)
class Claim:
    """Whether a location may write an entity ref, and the conflict message when not."""

    accepted: bool
    message: str = ""


def decide_claim(ref: model.EntityRef, *, owner: str | None, claimant: str) -> Claim:
    """First location wins: ``claimant`` may write ``ref`` if nobody (or itself) owns it.

    An empty stored key (``owner`` None or ``""``) can be claimed by anyone.
    """
    if not owner or owner == claimant:
        return Claim(accepted=True)
    return Claim(
        accepted=False,
        message=(
            f"entity {ref.key} is already provided by location {owner}; {claimant} also emits it and is "
            "ignored. Remove one copy, or delete the old location to move the entity"
        ),
    )


class OrphanStrategy(StrEnum):
    """What happens to entities no location emits any more (Backstage ``catalog.orphanStrategy``)."""

    DELETE = "delete"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class OrphanPlan:
    """Orphans to delete, or to keep annotated ``backstage.io/orphan: "true"``."""

    delete: tuple[model.EntityRef, ...] = ()
    mark: tuple[model.EntityRef, ...] = ()


def find_orphans(
    entities: Iterable[model.EntityRef],
    edges: Iterable[tuple[model.EntityRef | str, model.EntityRef]],
) -> list[model.EntityRef]:
    """Entities with no incoming edge (parent -> child, or provider/root key -> entity), sorted."""
    referenced = {child for _, child in edges}
    return sorted(ref for ref in set(entities) if ref not in referenced)


def plan_orphans(orphans: Iterable[model.EntityRef], *, strategy: OrphanStrategy) -> OrphanPlan:
    """Decide what to do with ``orphans`` under ``strategy``."""
    ordered = tuple(sorted(set(orphans)))
    return OrphanPlan(delete=ordered) if strategy is OrphanStrategy.DELETE else OrphanPlan(mark=ordered)


def mark_orphan(entity: model.Entity) -> model.Entity:
    """The entity as served when kept as an orphan."""
    return entity.with_annotations({model.ORPHAN_ANNOTATION: "true"})


def ingestion_edges(ingestion: Ingestion) -> list[tuple[model.EntityRef | str, model.EntityRef]]:
    """The parent -> child edges of one ingestion; root documents hang off the root location key."""
    return [(e.parent if e.parent is not None else ingestion.root.key, e.entity.ref) for e in ingestion.entities]


def validate_document(document: Mapping[str, Any]) -> model.Entity:
    """Validate one document and its relation refs, raising ``InvalidEntity`` with every problem."""
    entity = validation.validate_entity(document)
    derived = relations.derive_relations(entity)
    if derived.problems:
        raise errors.InvalidEntity(
            f"entity {entity.ref.key} has invalid references: " + "; ".join(p.describe() for p in derived.problems),
            problems=derived.problems,
        )
    return entity
