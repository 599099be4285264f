"""Failure messages an ExternalSecret reports never quote a fetched value (defence in depth)."""

from __future__ import annotations

from datetime import UTC, datetime

from blacktop.secrets import refreshing, syncing
from blacktop.wiring.secrets_sync import _redacted

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_fetched_values_are_scrubbed_from_condition_messages() -> None:
    fetched = syncing.Fetched(
        secrets={syncing.RemoteKey("payments/db"): {"password": "hunter2-long", "n": "ab"}},
        found={syncing.FindQuery("payments", ""): {"payments/x": {"token": "tok-9999"}}},
    )
    message = "bad value 'hunter2-long' and tok-9999 near ab"
    condition = refreshing.Condition("Ready", "False", "SecretSyncedError", message, NOW)
    status = refreshing.SyncStatus(conditions=(condition,))
    assert _redacted(status, fetched).conditions[0].message == "bad value '<redacted>' and <redacted> near ab"
