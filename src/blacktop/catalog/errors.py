"""Errors the catalog raises on purpose, each a subclass of a kernel error kind.

The delivery layers map the kernel kinds (``InputError`` -> 400/422, ``NotFoundError`` -> 404,
``ConflictError`` -> 409), so the catalog only says *what* went wrong, never how to render it.

Hierarchy::

    CatalogError
     ├── InvalidEntityRef      (InputError)     a ref string or object that cannot be parsed
     ├── InvalidEntity         (InputError)     an entity that fails the schema or naming rules
     ├── InvalidLocation       (InputError)     a location ref/target that cannot be used
     ├── PlaceholderError      (InputError)     a ``$text``/``$json``/``$yaml`` that cannot be resolved
     ├── LocationNotFound      (NotFoundError)  a required location target does not exist
     └── EntityConflict        (ConflictError)  two locations claim the same entity ref
"""

from __future__ import annotations

from blacktop.kernel.errors import BlacktopError, ConflictError, InputError, NotFoundError


class CatalogError(BlacktopError):
    """Base class of every error the catalog raises on purpose."""


class InvalidEntityRef(CatalogError, InputError):
    """Raised by ``refs.parse_ref`` when a reference is malformed or lacks a kind with no default."""


class InvalidEntity(CatalogError, InputError):
    """Raised by ``validation.validate_entity``; ``problems`` holds every offending field path."""


class InvalidLocation(CatalogError, InputError):
    """Raised for a location ref or target that blacktop refuses (``http:`` type, ``javascript:``, ...)."""


class PlaceholderError(CatalogError, InputError):
    """Raised when a ``$text``/``$json``/``$yaml`` placeholder cannot be read or parsed."""


class LocationNotFound(CatalogError, NotFoundError):
    """Raised by a location reader port when a target does not exist."""


class EntityConflict(CatalogError, ConflictError):
    """Raised (or reported) when a second location claims an entity ref another location owns."""
