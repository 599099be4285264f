"""Impact analysis: transitive dependencies and dependents over the relation graph.

"What breaks if resource:orders-db goes down?" is a breadth-first walk from that entity along the
*dependent* edges (``dependencyOf``, ``apiConsumedBy``, ``providesApi``); "what does payment-service
need?" walks the *dependency* edges (``dependsOn``, ``consumesApi``, ``apiProvidedBy``). An API counts
as depending on the component that provides it, so an outage propagates provider -> API -> consumer.

The graph is an in-memory adjacency that the caller builds from whatever relations it holds (the
store, a test, a dry-run ingestion); this module does no IO. Kind filters select which reached
entities are reported; the walk still passes through other kinds so chains are not cut.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from . import model, relations

DEPENDENCY_TYPES: Final[frozenset[str]] = frozenset(
    {relations.DEPENDS_ON, relations.CONSUMES_API, relations.API_PROVIDED_BY}
)
"""Edges from an entity to something it needs."""

DEPENDENT_TYPES: Final[frozenset[str]] = frozenset(relations.INVERSE[t] for t in DEPENDENCY_TYPES)
"""Edges from an entity to something that needs it."""


class Direction(StrEnum):
    """Which way to walk: towards what an entity needs, or towards what needs it."""

    DEPENDENCIES = "dependencies"
    DEPENDENTS = "dependents"


@dataclass(slots=True)
class RelationGraph:
    """Adjacency lists keyed by source ref: ``{source: [(type, target), ...]}``."""

    edges: dict[model.EntityRef, list[tuple[str, model.EntityRef]]] = field(default_factory=dict)

    @classmethod
    def from_relations(cls, rows: Iterable[model.Relation]) -> RelationGraph:
        """Build the graph from relation rows (duplicates are kept once)."""
        graph = cls()
        seen: set[tuple[model.EntityRef, str, model.EntityRef]] = set()
        for row in rows:
            key = (row.source, row.type, row.target)
            if key not in seen:
                seen.add(key)
                graph.edges.setdefault(row.source, []).append((row.type, row.target))
        return graph

    def outgoing(self, ref: model.EntityRef, types: Collection[str]) -> list[model.EntityRef]:
        """Targets reachable from ``ref`` by one edge of one of ``types``, sorted."""
        return sorted({target for t, target in self.edges.get(ref, ()) if t in types})


@dataclass(frozen=True, slots=True)
class ImpactNode:
    """An entity reached by the walk, how far away it is and the entity it was reached from."""

    ref: model.EntityRef
    depth: int
    via: model.EntityRef


@dataclass(frozen=True, slots=True)
class Impact:
    """The result of one impact query."""

    root: model.EntityRef
    direction: Direction
    nodes: tuple[ImpactNode, ...]

    def refs(self) -> list[str]:
        """The reached refs as canonical strings, in walk order."""
        return [n.ref.key for n in self.nodes]


def compute_impact(
    graph: RelationGraph,
    root: model.EntityRef,
    *,
    direction: Direction = Direction.DEPENDENTS,
    max_depth: int | None = None,
    kinds: Collection[str] | None = None,
    relation_types: Collection[str] | None = None,
) -> Impact:
    """Walk breadth-first from ``root``; each reached entity is reported once at its shortest depth.

    ``max_depth`` bounds the hops (None = unbounded); ``kinds`` (case-insensitive) filters reported
    nodes; ``relation_types`` overrides the edge set implied by ``direction``.
    """
    types = set(relation_types) if relation_types is not None else _types_for(direction)
    wanted = {k.lower() for k in kinds} if kinds is not None else None
    seen = {root}
    queue: deque[tuple[model.EntityRef, int]] = deque([(root, 0)])
    found: list[ImpactNode] = []
    while queue:
        current, depth = queue.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for target in graph.outgoing(current, types):
            if target in seen:
                continue
            seen.add(target)
            if wanted is None or target.kind.lower() in wanted:
                found.append(ImpactNode(ref=target, depth=depth + 1, via=current))
            queue.append((target, depth + 1))
    return Impact(root=root, direction=direction, nodes=tuple(found))


def _types_for(direction: Direction) -> set[str]:
    return set(DEPENDENCY_TYPES if direction is Direction.DEPENDENCIES else DEPENDENT_TYPES)


def adjacency(graph: RelationGraph) -> Mapping[str, list[tuple[str, str]]]:
    """The graph as plain strings (``{source: [(type, target)]}``), for JSON output and debugging."""
    return {src.key: [(t, dst.key) for t, dst in targets] for src, targets in graph.edges.items()}
