"""Self-service infrastructure: composite resources, Compositions and their rendering.

The composition engine (``resources.composition``) is pure; XRD registration, the claim
lifecycle and providers build on it.
"""

from . import composition
from .composition import (
    ComposedResource,
    Composition,
    CompositionError,
    RenderResult,
    UnsupportedFeatureError,
    load_composition,
    render_composite,
)

__all__ = [
    "ComposedResource",
    "Composition",
    "CompositionError",
    "RenderResult",
    "UnsupportedFeatureError",
    "composition",
    "load_composition",
    "render_composite",
]
