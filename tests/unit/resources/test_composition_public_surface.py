"""Pins the public names of ``blacktop.resources.composition`` (and what ``blacktop.resources`` re-exports).

The claim controller, XRD registration, providers and the CLI build on these names; a change to
the surface is a deliberate diff here.
"""

from __future__ import annotations

import blacktop.resources as resources
from blacktop.resources import composition

COMPOSITION_SURFACE = [
    "CLAIM_NAMESPACE_LABEL",
    "CLAIM_NAME_LABEL",
    "COMPOSITE_LABEL",
    "RESOURCE_NAME_ANNOTATION",
    "ComposedResource",
    "Composition",
    "CompositionError",
    "EnvironmentConfigNotFoundError",
    "EnvironmentResolution",
    "FieldNotFoundError",
    "FieldPathError",
    "FieldSource",
    "FunctionRunner",
    "InvalidCompositionError",
    "NoCompatibleCompositionError",
    "PatchError",
    "RenderEvent",
    "RenderResult",
    "RevisionNotFoundError",
    "RevisionPlan",
    "RevisionSelection",
    "Selection",
    "StepFailedError",
    "TransformError",
    "UnsupportedFeatureError",
    "compose_name",
    "composition_from_revision",
    "composition_hash",
    "load_composition",
    "plan_revision",
    "render_composite",
    "resolve_environment",
    "select_composition",
    "select_revision",
]


def test_composition_surface_is_pinned() -> None:
    assert composition.__all__ == COMPOSITION_SURFACE
    assert all(hasattr(composition, name) for name in composition.__all__)


def test_resources_reexports_the_composition_entry_points() -> None:
    assert set(resources.__all__) >= {"composition", "render_composite", "load_composition", "RenderResult"}
    assert all(hasattr(resources, name) for name in resources.__all__)
    assert resources.render_composite is composition.render_composite
