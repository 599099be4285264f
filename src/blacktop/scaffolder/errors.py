"""Errors the scaffolder raises on purpose, each a subclass of a kernel error kind.

The delivery layers map the kernel kinds (``InputError`` -> 400/422, ``TooLargeError`` -> 413,
``NotFoundError`` -> 404, ``ConflictError`` -> 409), so the scaffolder only says *what* went wrong.

Hierarchy::

    ScaffolderError
     ├── InvalidTemplate          (InputError)     a Template document that cannot be used
     ├── InvalidParameters        (InputError)     submitted values that fail the parameter schemas
     ├── InvalidActionInput       (InputError)     a step input that fails its action's input schema
     ├── TemplateRenderError      (InputError)     a ``${{ }}`` expression that cannot be rendered
     │    ├── SandboxViolation                     an expression reached for something the sandbox forbids
     │    └── RenderLimitExceeded (TooLargeError)  an expression ran too long or produced too much
     ├── PathNotAllowed           (InputError)     a path that leaves the workspace or skeleton root
     ├── WorkspaceLimitExceeded   (TooLargeError)  too many files or bytes in the workspace
     ├── WorkspaceFileNotFound    (NotFoundError)  a workspace or skeleton path that does not exist
     ├── WorkspaceFileExists      (ConflictError)  a write or rename onto an existing file without overwrite
     ├── ActionNotFound           (NotFoundError)  no action registered under an id
     └── ActionExists             (ConflictError)  an action id registered twice
"""

from __future__ import annotations

from blacktop.kernel.errors import BlacktopError, ConflictError, InputError, NotFoundError, TooLargeError


class ScaffolderError(BlacktopError):
    """Base class of every error the scaffolder raises on purpose."""


class InvalidTemplate(ScaffolderError, InputError):
    """Raised by ``model.parse_template``; ``problems`` holds every offending field path."""


class InvalidParameters(ScaffolderError, InputError):
    """Raised by ``parameters.validate_values``; ``problems`` holds every invalid field."""


class InvalidActionInput(ScaffolderError, InputError):
    """Raised by ``actions.validate_input`` before a step runs; paths start with ``input``."""


class TemplateRenderError(ScaffolderError, InputError):
    """Raised when a template string has a syntax error or fails while rendering."""


class SandboxViolation(TemplateRenderError):
    """Raised when an expression reaches for an attribute, call or object the sandbox forbids."""


class RenderLimitExceeded(TemplateRenderError, TooLargeError):
    """Raised when a render runs past its time budget or produces more than its output limit."""


class PathNotAllowed(ScaffolderError, InputError):
    """Raised for absolute paths, ``..`` escapes, and symlinks that leave their root."""


class WorkspaceLimitExceeded(ScaffolderError, TooLargeError):
    """Raised when a write would pass the workspace's file-count, file-size or total-size limit."""


class WorkspaceFileNotFound(ScaffolderError, NotFoundError):
    """Raised when a workspace or skeleton path does not exist."""


class WorkspaceFileExists(ScaffolderError, ConflictError):
    """Raised when a rename or exclusive write targets a path that already exists."""


class ActionNotFound(ScaffolderError, NotFoundError):
    """Raised by ``ActionRegistry.require`` for an id nobody registered."""


class ActionExists(ScaffolderError, ConflictError):
    """Raised by ``ActionRegistry.add`` when the id is already registered."""
