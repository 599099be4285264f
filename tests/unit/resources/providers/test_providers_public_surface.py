"""The providers package's public names are pinned: changing them is a deliberate act."""

from __future__ import annotations

from blacktop.resources import providers

EXPECTED = [
    "FINALIZER", "GROUP", "LOCAL_KINDS", "MYSQL_DATABASE", "POSTGRES_DATABASE", "REDIS_USER", "ROTATE_ANNOTATION",
    "VERSION", "ConnectionSecretSink", "Endpoint", "GitOpsPublisher", "LocalProvider", "ManifestRepository",
    "MySQLAdmin", "Outcome", "OwnershipConflict", "PostgresAdmin", "ProviderError", "RedisAdmin", "SchemaSource",
    "SecretRef", "SecretStoreConnectionSink", "ServerRefused", "ServerUnreachable", "SinkDetailsReader",
    "connection", "errors", "kinds", "model", "planning", "ports", "publishing", "reconcile", "secret_path", "steps",
]  # fmt: skip


def test_public_surface_is_pinned_and_sorted() -> None:
    assert providers.__all__ == EXPECTED
    assert all(hasattr(providers, name) for name in providers.__all__)


def test_local_kinds_register_in_a_kind_registry() -> None:
    from blacktop.kernel.kinds import KindRegistry

    registry = KindRegistry()
    for kind in providers.LOCAL_KINDS:
        registry.register(kind)
    assert {k.kind for k in providers.LOCAL_KINDS} == {"PostgresDatabase", "MySQLDatabase", "RedisUser"}
