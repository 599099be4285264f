"""The design's own ExternalSecret (``examples/externalsecret-payment-service.yaml``) applies
unchanged and, given the referenced values in the embedded store, produces the three templated keys.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from blacktop.secrets import eso, syncing
from blacktop.secrets.adapters.embedded import EmbeddedStoreReader
from blacktop.secrets.errors import SyncError
from blacktop.secrets.service import SecretStoreService
from blacktop.secrets.templating import TemplateEngine

ENGINE = TemplateEngine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), entropy=os.urandom)


def load_example(examples_dir: Path) -> eso.ExternalSecret:
    doc = yaml.safe_load((examples_dir / "externalsecret-payment-service.yaml").read_text())
    parsed = eso.parse_eso_document(doc)
    assert isinstance(parsed, eso.ExternalSecret)
    return parsed


async def test_payment_service_secret_renders_three_templated_keys(
    service: SecretStoreService, examples_dir: Path
) -> None:
    await service.put(
        "secret/data/payments/database",
        {"username": "pay_app", "password": "p@ss:w/rd", "host": "db.payments.internal"},
        actor="payments-admin",
    )
    await service.put("secret/data/payments/stripe", {"secret_key": "sk_live_123"}, actor="payments-admin")
    await service.put("secret/data/payments/auth", {"signing_key": "jwt-key-xyz"}, actor="payments-admin")
    es = load_example(examples_dir)
    assert es.api_version == "external-secrets.io/v1beta1"
    assert es.spec.interval.total_seconds() == 300
    plan = syncing.plan_fetches(es.spec)
    assert len(plan.keys) == 3
    fetched = await EmbeddedStoreReader(service).fetch(plan)
    target = syncing.compute_target(es, fetched, engine=ENGINE, entropy=os.urandom)
    assert target.name == "payment-service-secrets"
    assert target.namespace == "payments"
    assert target.type == "Opaque"
    assert dict(target.data) == {
        "DATABASE_URL": b"postgresql://pay_app:p@ss:w/rd@db.payments.internal:5432/payments?sslmode=require",
        "STRIPE_SECRET_KEY": b"sk_live_123",
        "JWT_SIGNING_KEY": b"jwt-key-xyz",
    }
    assert target.labels[syncing.CREATED_BY_LABEL] == "payment-service-secrets"
    assert target.labels[syncing.MANAGED_LABEL] == "true"


async def test_payment_service_secret_fails_clearly_when_a_value_is_missing(
    service: SecretStoreService, examples_dir: Path
) -> None:
    await service.put("secret/data/payments/database", {"username": "u", "password": "p"}, actor="a")
    es = load_example(examples_dir)
    fetched = await EmbeddedStoreReader(service).fetch(syncing.plan_fetches(es.spec))
    with pytest.raises(SyncError, match="property 'host' not found"):
        syncing.compute_target(es, fetched, engine=ENGINE, entropy=os.urandom)


async def test_find_by_path_regexp_and_tags_against_embedded_store(service: SecretStoreService) -> None:
    await service.put("payments/stripe", {"k": "1"}, actor="a")
    await service.put("payments/search", {"k": "2"}, actor="a")
    await service.put("payments/db", {"k": "3"}, actor="a")
    await service.put("search/stripe", {"k": "4"}, actor="a")
    await service.configure("payments/search", actor="a", custom_metadata={"rotate": "daily"})
    doc = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "found", "namespace": "payments"},
        "spec": {
            "secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"},
            "dataFrom": [
                {"find": {"path": "payments", "name": {"regexp": "^payments/s"}}},
                {
                    "find": {"path": "payments", "tags": {"rotate": "daily"}},
                    "rewrite": [{"regexp": {"source": "/", "target": "-"}}],
                },
            ],
        },
    }
    es = eso.parse_eso_document(doc)
    assert isinstance(es, eso.ExternalSecret)
    fetched = await EmbeddedStoreReader(service).fetch(syncing.plan_fetches(es.spec))
    target = syncing.compute_target(es, fetched, engine=ENGINE, entropy=os.urandom)
    assert dict(target.data) == {
        "payments_stripe": b'{"k":"1"}',
        "payments_search": b'{"k":"2"}',
        "payments-search": b'{"k":"2"}',
    }
