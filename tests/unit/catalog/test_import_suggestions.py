"""What the import wizard (``POST /analyze-location``) proposes for a repository without descriptors.

Test design notes: expected entities are written from Backstage's ``RepoLocationAnalyzer`` (a
Component named after the repository, ``type: other``, ``lifecycle: unknown``, and the host's
``<host>/project-slug`` annotation), not by running blacktop.
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.catalog import validation
from blacktop.catalog.locations import suggested_component


def component(name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": {"type": "other", "lifecycle": "unknown"},
    }


CASES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "github repository": (
        "https://github.com/acme-corp/payment-service",
        component("payment-service", {"github.com/project-slug": "acme-corp/payment-service"}),
    ),
    "github file in a repository": (
        "https://github.com/acme-corp/payment-service/blob/main/README.md",
        component("payment-service", {"github.com/project-slug": "acme-corp/payment-service"}),
    ),
    "github .git suffix": (
        "https://github.com/acme-corp/orders.git",
        component("orders", {"github.com/project-slug": "acme-corp/orders"}),
    ),
    "gitlab nested group": (
        "https://gitlab.com/acme/platform/ledger/-/blob/main/catalog-info.yaml",
        component("ledger", {"gitlab.com/project-slug": "acme/platform/ledger"}),
    ),
    "bitbucket": (
        "https://bitbucket.org/acme/billing/src/main/",
        component("billing", {"bitbucket.org/project-slug": "acme/billing"}),
    ),
    "unknown host: no slug annotation": ("https://git.acme.internal/team/inventory", component("inventory")),
    "not a repository": ("https://example.com/catalog-info.yaml", None),
    "name cleaned to a valid entity name": (
        "https://github.com/acme/My Service!",
        component("my-service", {"github.com/project-slug": "acme/my service!"}),
    ),
}


@pytest.mark.parametrize(("target", "expected"), CASES.values(), ids=CASES.keys())
def test_a_repository_without_descriptors_gets_a_component_proposed(
    target: str, expected: dict[str, Any] | None
) -> None:
    assert suggested_component(target) == expected


@pytest.mark.parametrize("target", [t for t, e in CASES.values() if e is not None], ids=lambda t: t)
def test_every_proposal_is_a_valid_entity_once_it_has_an_owner(target: str) -> None:
    proposal = suggested_component(target)
    assert proposal is not None
    proposal["spec"]["owner"] = "group:default/team-a"
    entity = validation.validate_entity(proposal)  # raises InvalidEntity, naming the field, when it is not
    assert entity.metadata["name"] == proposal["metadata"]["name"]
