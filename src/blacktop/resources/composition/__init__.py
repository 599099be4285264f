"""Crossplane-compatible composition: render composite resources with Compositions.

Pure functions over plain dicts, in both Composition dialects (legacy ``spec.resources`` and
``mode: Pipeline`` with function-patch-and-transform). The claim controller, XRD registration,
providers and the CLI build on this surface:

* :func:`load_composition` validates a Composition document (every problem, with field paths;
  unsupported features are named);
* :func:`render_composite` renders an XR into composed resources, connection details,
  readiness and per-field provenance (:class:`RenderResult`);
* :func:`resolve_environment` chooses and merges EnvironmentConfigs for a legacy Composition;
* :func:`select_composition` and :func:`select_revision` pick the Composition and the
  CompositionRevision for an XR; :func:`render_revision` makes a revision of a Composition.
"""

from .environment_configs import EnvironmentResolution, resolve_environment
from .errors import (
    CompositionError,
    EnvironmentConfigNotFoundError,
    FieldNotFoundError,
    FieldPathError,
    InvalidCompositionError,
    NoCompatibleCompositionError,
    PatchError,
    RevisionNotFoundError,
    StepFailedError,
    TransformError,
    UnsupportedFeatureError,
)
from .loading import Composition, load_composition
from .rendering import (
    CLAIM_NAME_LABEL,
    CLAIM_NAMESPACE_LABEL,
    COMPOSITE_LABEL,
    RESOURCE_NAME_ANNOTATION,
    ComposedResource,
    FieldSource,
    FunctionRunner,
    RenderEvent,
    RenderResult,
    compose_name,
    render_composite,
)
from .selection import (
    RevisionPlan,
    RevisionSelection,
    Selection,
    composition_from_revision,
    composition_hash,
    plan_revision,
    select_composition,
    select_revision,
)

__all__ = [
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
