"""Errors the secrets context raises on purpose.

Each one also derives from a kernel kind, so the HTTP API and CLI map them without knowing this
package. Messages never contain a secret value: only paths, versions, key ids and field paths.

Hierarchy::

    SecretsError
     ├── SecretIntegrityError        ciphertext, nonce or wrapped key altered, or the wrong KEK
     ├── UnknownKekError             a version is wrapped by a KEK the key ring does not hold
     ├── SecretNotFound              (NotFoundError) no secret at the path
     ├── SecretVersionUnavailable    (NotFoundError) version absent, soft-deleted or destroyed
     ├── CheckAndSetConflict         (ConflictError) cas mismatch
     ├── TemplateError               (InputError) template syntax, missing key, unknown function
     ├── ManifestError               (InputError) an ESO document does not validate
     ├── UnsupportedProviderError    (InputError) a store names a provider blacktop cannot serve
     └── SyncError                   (InputError) fetched data cannot become the target secret
"""

from __future__ import annotations

from blacktop.kernel.errors import BlacktopError, ConflictError, InputError, NotFoundError


class SecretsError(BlacktopError):
    """Base class of every error raised by ``blacktop.secrets``."""


class SecretIntegrityError(SecretsError):
    """Decryption failed authentication: the stored bytes were altered or the KEK is wrong.

    Raised instead of ever returning unauthenticated plaintext.
    """

    reason = "SecretIntegrityError"


class UnknownKekError(SecretIntegrityError):
    """A stored version is wrapped by a key-encryption key that is not in the key ring."""


class SecretNotFound(SecretsError, NotFoundError):
    """No secret exists at the path."""


class SecretVersionUnavailable(SecretsError, NotFoundError):
    """The requested version does not exist, is soft-deleted or is destroyed."""


class CheckAndSetConflict(SecretsError, ConflictError):
    """A check-and-set write named a version that is not the current one."""


class TemplateError(SecretsError, InputError):
    """A Go template failed to parse or render (syntax, missing key, unknown function)."""


class ManifestError(SecretsError, InputError):
    """An External Secrets document is malformed; ``problems`` lists every field."""


class UnsupportedProviderError(SecretsError, InputError):
    """A SecretStore or generator names a provider or kind blacktop does not serve."""


class SyncError(SecretsError, InputError):
    """The fetched provider data cannot be turned into the target secret."""
