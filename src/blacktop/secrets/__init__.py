"""Secrets: an encrypted, versioned key/value store plus External Secrets-compatible sync.

Public surface only; see the modules for the why.
"""

from __future__ import annotations

from .crypto import Kek, KeyRing, SealedValue, keyring_from_environment, parse_kek
from .errors import (
    CheckAndSetConflict,
    ManifestError,
    SecretIntegrityError,
    SecretNotFound,
    SecretsError,
    SecretVersionUnavailable,
    SyncError,
    TemplateError,
    UnknownKekError,
    UnsupportedProviderError,
)
from .model import SecretMetadata, SecretPath, SecretVersion, VersionMetadata, parse_secret_path
from .ports import SecretVersionRepository, StoredSecret, StoredVersion
from .service import RewrapReport, SecretStoreService

__all__ = [
    "CheckAndSetConflict",
    "Kek",
    "KeyRing",
    "ManifestError",
    "RewrapReport",
    "SealedValue",
    "SecretIntegrityError",
    "SecretMetadata",
    "SecretNotFound",
    "SecretPath",
    "SecretStoreService",
    "SecretVersion",
    "SecretVersionRepository",
    "SecretVersionUnavailable",
    "SecretsError",
    "StoredSecret",
    "StoredVersion",
    "SyncError",
    "TemplateError",
    "UnknownKekError",
    "UnsupportedProviderError",
    "VersionMetadata",
    "keyring_from_environment",
    "parse_kek",
    "parse_secret_path",
]
