"""Impact analysis walks dependencies and dependents with depth and kind filters.

Test design notes: the graph is built from relations derived from small hand-written entities, so
the test also exercises that both directions exist. The scenario is the design's question "what breaks
if resource:orders-db goes down?": payment-service depends on it, provides payment-api, which
checkout consumes, and web depends on checkout.
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.catalog import Direction, EntityRef, RelationGraph, compute_impact, derive_relations, validate_entity


def component(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", **spec},
    }


ENTITIES = [
    component("payment-service", dependsOn=["resource:orders-db"], providesApis=["payment-api"]),
    component("checkout", consumesApis=["payment-api"]),
    component("web", dependsOn=["component:checkout"]),
    # A cycle must not loop: batch depends on web, web's dependency chain never returns here.
    component("batch", dependsOn=["component:web"], dependencyOf=["component:checkout"]),
]


@pytest.fixture
def graph() -> RelationGraph:
    rows = [r for doc in ENTITIES for r in derive_relations(validate_entity(doc)).relations]
    return RelationGraph.from_relations(rows)


ORDERS_DB = EntityRef("Resource", "default", "orders-db")
WEB = EntityRef("Component", "default", "web")

CASES = {
    "all-dependents-of-orders-db": (
        ORDERS_DB,
        Direction.DEPENDENTS,
        None,
        None,
        [
            ("component:default/payment-service", 1),
            ("api:default/payment-api", 2),
            ("component:default/checkout", 3),
            ("component:default/web", 4),
            ("component:default/batch", 5),
        ],
    ),
    "depth-two": (
        ORDERS_DB,
        Direction.DEPENDENTS,
        2,
        None,
        [("component:default/payment-service", 1), ("api:default/payment-api", 2)],
    ),
    "only-components-walk-through-apis": (
        ORDERS_DB,
        Direction.DEPENDENTS,
        None,
        ["component"],
        [
            ("component:default/payment-service", 1),
            ("component:default/checkout", 3),
            ("component:default/web", 4),
            ("component:default/batch", 5),
        ],
    ),
    "dependencies-of-web": (
        WEB,
        Direction.DEPENDENCIES,
        None,
        None,
        [
            ("component:default/checkout", 1),
            ("api:default/payment-api", 2),
            ("component:default/batch", 2),
            ("component:default/payment-service", 3),
            ("resource:default/orders-db", 4),
        ],
    ),
    "dependencies-kind-filter-case-insensitive": (
        WEB,
        Direction.DEPENDENCIES,
        None,
        ["Resource"],
        [("resource:default/orders-db", 4)],
    ),
    "depth-zero-is-empty": (WEB, Direction.DEPENDENCIES, 0, None, []),
    "unknown-root-is-empty": (EntityRef("Component", "default", "ghost"), Direction.DEPENDENTS, None, None, []),
}


@pytest.mark.parametrize(("root", "direction", "depth", "kinds", "want"), CASES.values(), ids=CASES.keys())
def test_impact(
    graph: RelationGraph,
    root: EntityRef,
    direction: Direction,
    depth: int | None,
    kinds: list[str] | None,
    want: list[tuple[str, int]],
) -> None:
    impact = compute_impact(graph, root, direction=direction, max_depth=depth, kinds=kinds)
    assert [(n.ref.key, n.depth) for n in impact.nodes] == want


def test_each_node_records_the_entity_it_was_reached_from(graph: RelationGraph) -> None:
    impact = compute_impact(graph, ORDERS_DB)
    via = {n.ref.key: n.via.key for n in impact.nodes}
    assert via["api:default/payment-api"] == "component:default/payment-service"
    assert via["component:default/checkout"] == "api:default/payment-api"


def test_custom_relation_types_walk_ownership(graph: RelationGraph) -> None:
    impact = compute_impact(graph, EntityRef("Group", "default", "team-a"), relation_types=["ownerOf"])
    assert sorted(impact.refs()) == [
        "component:default/batch",
        "component:default/checkout",
        "component:default/payment-service",
        "component:default/web",
    ]
