"""blacktop: an Internal Developer Platform.

One declarative resource model and one write pipeline carry every capability: the service
catalog, golden-path templates, self-service infrastructure, secrets and observability.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
