"""The pure kernel every context builds on: errors, resource envelope, kinds, selectors, time, ports.

It depends on the standard library, pydantic-free JSON Schema validation and nothing that does IO.
"""

from . import clock, errors, identity, kinds, ports, resources, schemas, selectors

__all__ = ["clock", "errors", "identity", "kinds", "ports", "resources", "schemas", "selectors"]
