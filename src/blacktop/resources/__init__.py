"""Self-service infrastructure: composite resources, Compositions and their rendering.

The composition engine (``resources.composition``) is pure; XRD registration, the claim
lifecycle and providers build on it: ``definitions`` (XRDs → composite and claim kinds),
``validation`` (XRD CEL rules as admission policy), ``reconcile`` (pure planners of the claim
lifecycle), ``explaining`` (``blacktop plan``/``explain``), ``kinds`` (the Crossplane kinds
blacktop serves), ``ports`` (what the lifecycle needs from providers and the secret store) and
``profile`` (the built-in Database and Cache APIs).
"""

from . import composition, definitions, explaining, kinds, ports, reconcile, validation
from .composition import (
    ComposedResource,
    Composition,
    CompositionError,
    RenderResult,
    UnsupportedFeatureError,
    load_composition,
    render_composite,
)
from .definitions import Definition, load_definition

__all__ = [
    "ComposedResource",
    "Composition",
    "CompositionError",
    "Definition",
    "RenderResult",
    "UnsupportedFeatureError",
    "composition",
    "definitions",
    "explaining",
    "kinds",
    "load_composition",
    "load_definition",
    "ports",
    "reconcile",
    "render_composite",
    "validation",
]
