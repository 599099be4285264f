"""Providers: what acts on composed resources.

* The **local provider** really provisions on configured servers: ``PostgresDatabase`` (a login
  role with a generated password owning its database, CONNECT revoked from PUBLIC),
  ``MySQLDatabase`` (a database and a user granted on it only) and ``RedisUser`` (an ACL user
  confined to its key prefix and to safe commands). ``model`` parses specs, ``planning`` decides
  steps from what a server holds (pure), ``reconcile.LocalProvider`` runs observe → plan → apply →
  publish credentials through the ``ports``; the IO adapters live in ``resources.adapters``.
* **Cloud managed resources** are validated and written to the GitOps repository for a real
  Crossplane by ``publishing.GitOpsPublisher``.
* ``connection`` keeps connection details in the secret store and reads them back for claims.
"""

from . import connection, errors, kinds, model, planning, ports, publishing, reconcile, steps
from .connection import SecretStoreConnectionSink, SinkDetailsReader, secret_path
from .errors import OwnershipConflict, ProviderError, ServerRefused, ServerUnreachable
from .kinds import LOCAL_KINDS, MYSQL_DATABASE, POSTGRES_DATABASE, REDIS_USER
from .model import FINALIZER, GROUP, ROTATE_ANNOTATION, VERSION, Endpoint, SecretRef
from .ports import (
    ConnectionSecretSink,
    ManifestRepository,
    MySQLAdmin,
    PostgresAdmin,
    RedisAdmin,
    SchemaSource,
)
from .publishing import GitOpsPublisher
from .reconcile import LocalProvider, Outcome

__all__ = [
    "FINALIZER",
    "GROUP",
    "LOCAL_KINDS",
    "MYSQL_DATABASE",
    "POSTGRES_DATABASE",
    "REDIS_USER",
    "ROTATE_ANNOTATION",
    "VERSION",
    "ConnectionSecretSink",
    "Endpoint",
    "GitOpsPublisher",
    "LocalProvider",
    "ManifestRepository",
    "MySQLAdmin",
    "Outcome",
    "OwnershipConflict",
    "PostgresAdmin",
    "ProviderError",
    "RedisAdmin",
    "SchemaSource",
    "SecretRef",
    "SecretStoreConnectionSink",
    "ServerRefused",
    "ServerUnreachable",
    "SinkDetailsReader",
    "connection",
    "errors",
    "kinds",
    "model",
    "planning",
    "ports",
    "publishing",
    "reconcile",
    "secret_path",
    "steps",
]
