"""Secrets: an encrypted, versioned key/value store plus External Secrets-compatible sync.

The public surface of the context. Modules, and why each is separate:

* ``crypto`` – AES-256-GCM envelope encryption, KEK key ring and re-wrap.
* ``model`` / ``ports`` / ``service`` – the KV v2 store: paths, versions, metadata, the repository
  port (ciphertext only) and the use cases. ``adapters.memory`` is the in-memory repository.
* ``eso`` – External Secrets kinds (v1/v1beta1) and the Password generator, parsed and validated.
* ``templating`` – Go text/template rendering as ESO's engine v2 (gotpl + Sprig + ESO functions).
* ``syncing`` / ``refreshing`` – the pure sync computation, refresh maths and status conditions.
  ``adapters.embedded`` fetches a sync's inputs from the embedded store.
* ``rotation`` – rotation cadence and grace-period maths.
* ``access`` / ``guarding`` – path-prefix access from role bindings; the authorized, audited store.
* ``kinds`` – the ESO kinds, the Password generator and blacktop's ``Secret``/``SecretRotation``.
"""

from __future__ import annotations

from .access import SecretOperation
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
from .eso import (
    ClusterExternalSecret,
    ExternalSecret,
    PasswordGenerator,
    PasswordSpec,
    SecretStore,
    parse_eso_document,
    parse_go_duration,
)
from .generators import generate_password
from .guarding import GuardedSecretStore, SecretAuditEntry, SecretDescription
from .model import SecretMetadata, SecretPath, SecretVersion, VersionMetadata, parse_secret_path
from .ports import SecretVersionRepository, StoredSecret, StoredVersion
from .refreshing import (
    Condition,
    ObservedTarget,
    SyncPlan,
    SyncStatus,
    needs_sync,
    plan_sync,
    requeue_after,
    should_refresh,
)
from .rotation import (
    SERVICE_ACCOUNT,
    SHORT_LIVED_TOKEN,
    RotationPlan,
    RotationPolicy,
    plan_rotation,
)
from .service import RewrapReport, SecretStoreService
from .syncing import (
    Fetched,
    FetchPlan,
    FindQuery,
    RemoteKey,
    TargetSecret,
    compute_provider_data,
    compute_target,
    plan_fetches,
    render_target,
)
from .templating import TemplateEngine

__all__ = [
    "SERVICE_ACCOUNT",
    "SHORT_LIVED_TOKEN",
    "CheckAndSetConflict",
    "ClusterExternalSecret",
    "Condition",
    "ExternalSecret",
    "FetchPlan",
    "Fetched",
    "FindQuery",
    "GuardedSecretStore",
    "Kek",
    "KeyRing",
    "ManifestError",
    "ObservedTarget",
    "PasswordGenerator",
    "PasswordSpec",
    "RemoteKey",
    "RewrapReport",
    "RotationPlan",
    "RotationPolicy",
    "SealedValue",
    "SecretAuditEntry",
    "SecretDescription",
    "SecretIntegrityError",
    "SecretMetadata",
    "SecretNotFound",
    "SecretOperation",
    "SecretPath",
    "SecretStore",
    "SecretStoreService",
    "SecretVersion",
    "SecretVersionRepository",
    "SecretVersionUnavailable",
    "SecretsError",
    "StoredSecret",
    "StoredVersion",
    "SyncError",
    "SyncPlan",
    "SyncStatus",
    "TargetSecret",
    "TemplateEngine",
    "TemplateError",
    "UnknownKekError",
    "UnsupportedProviderError",
    "VersionMetadata",
    "compute_provider_data",
    "compute_target",
    "generate_password",
    "keyring_from_environment",
    "needs_sync",
    "parse_eso_document",
    "parse_go_duration",
    "parse_kek",
    "parse_secret_path",
    "plan_fetches",
    "plan_rotation",
    "plan_sync",
    "render_target",
    "requeue_after",
    "should_refresh",
]
