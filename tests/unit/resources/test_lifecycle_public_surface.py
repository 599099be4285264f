"""Pins the public names of the claim-lifecycle modules of ``blacktop.resources``."""

from __future__ import annotations

import blacktop.resources as resources
from blacktop.resources import definitions, explaining, kinds, ports, reconcile, validation

SURFACES = {
    definitions: {"CelRule", "DEFINITION_GROUP", "DEFINITION_KIND", "Definition", "InvalidDefinitionError",
                  "load_definition"},
    explaining: {"explain_tree", "plan_changes", "render_explain", "render_plan"},
    kinds: {"COMPOSITION", "COMPOSITION_REVISION", "DEFINITION", "ENVIRONMENT_CONFIG", "GROUP", "KINDS", "VERSION"},
    ports: {"CONNECTION_SECRET_SEGMENT", "CompositeRef", "ConnectionDetailsReader", "ConnectionSecretWriter",
            "ExternalObservation", "ExternalResourcePublisher", "connection_secret_path"},
    validation: {"POLICY_PREFIX", "policy_for", "translate_rule"},
}  # fmt: skip


def test_module_surfaces_are_pinned() -> None:
    for module, names in SURFACES.items():
        assert set(module.__all__) == names, module.__name__
        assert all(hasattr(module, name) for name in module.__all__)


def test_planners_are_exported() -> None:
    assert {"plan_claim", "plan_composite", "plan_claim_deletion", "plan_composite_deletion",
            "plan_definition_deletion", "composite_status"} <= set(dir(reconcile))  # fmt: skip
    assert all(hasattr(reconcile, name) for name in reconcile.__all__)


def test_package_reexports_the_lifecycle_modules() -> None:
    assert {"definitions", "explaining", "kinds", "ports", "reconcile", "validation", "load_definition"} <= set(
        resources.__all__
    )
