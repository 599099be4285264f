"""Environment management: ephemeral per-pull-request ``PreviewEnvironment`` objects.

A preview gets a Kubernetes namespace, the repository's image at the commit behind a Service and
an Ingress, its dependencies (claims of the built-in ``Database``/``Cache`` kinds, catalog services,
mocks), an Argo CD Application over its manifests in the GitOps repository, and a TTL after which
the platform deletes it. This package is pure domain code: the kind, parsing and validation, the
renderers and the planner. ``wiring/environments.py`` reads the store and the catalog, commits the
files and turns the planner's decisions into engine plans.
"""

from . import durations, kinds, model, reconcile, rendering, validation
from .durations import format_duration, parse_duration
from .kinds import FINALIZER, GROUP, KIND, KINDS, PREVIEW_ENVIRONMENT, VERSION, admission_policy
from .model import Dependency, Preview, PreviewSpec, parse_preview, preview_namespace
from .reconcile import Decision, Observed, plan_cleanup, plan_preview
from .rendering import RenderSettings, ServiceTarget, render_files, render_objects
from .validation import problems_in

__all__ = [
    "FINALIZER",
    "GROUP",
    "KIND",
    "KINDS",
    "PREVIEW_ENVIRONMENT",
    "VERSION",
    "Decision",
    "Dependency",
    "Observed",
    "Preview",
    "PreviewSpec",
    "RenderSettings",
    "ServiceTarget",
    "admission_policy",
    "durations",
    "format_duration",
    "kinds",
    "model",
    "parse_duration",
    "parse_preview",
    "plan_cleanup",
    "plan_preview",
    "preview_namespace",
    "problems_in",
    "reconcile",
    "render_files",
    "render_objects",
    "rendering",
    "validation",
]
