"""Cloud managed resources published to the GitOps repository: files, validation, withdrawal.

Test design notes: the resources come from rendering the design's own AWS composition
(``examples/composition-database-aws.yaml``) for the design's ``orders-db`` claim, then named as
Crossplane names composed resources (``<composite>-<suffix>``). The rendered files are golden
(``tests/golden/providers``; ``BLACKTOP_UPDATE_GOLDEN=1`` rewrites them). Schema validation runs on
the corpus's CRD schemas (datreeio layout); RDS and EC2 have none there, which the observation says.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir, examples_dir

from blacktop.kernel.errors import InputError
from blacktop.resources import render_composite
from blacktop.resources.adapters.memory import InMemoryManifestRepository
from blacktop.resources.adapters.schemas import DirectorySchemaSource
from blacktop.resources.ports import CompositeRef
from blacktop.resources.providers import GitOpsPublisher, publishing

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "providers"
OWNER = CompositeRef(
    api_version="platform.company.io/v1alpha1", kind="XDatabase", name="orders-db-x7k2p", uid="uid-1",
    claim_namespace="orders-team", claim_name="orders-db",
)  # fmt: skip


def composed() -> list[dict[str, Any]]:
    composition = yaml.safe_load((examples_dir() / "composition-database-aws.yaml").read_text())
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    xr = {
        "apiVersion": "platform.company.io/v1alpha1",
        "kind": "XDatabase",
        "metadata": {
            "name": "orders-db-x7k2p", "uid": "uid-1",
            "labels": {"crossplane.io/claim-name": "orders-db", "crossplane.io/claim-namespace": "orders-team"},
        },
        "spec": claim["spec"],
    }  # fmt: skip
    resources = []
    for index, item in enumerate(render_composite(xr, composition).resources):
        resource = dict(item.resource)
        resource["metadata"] = {**resource["metadata"], "name": f"orders-db-x7k2p-{index:05d}"}
        resources.append(resource)
    return resources


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; BLACKTOP_UPDATE_GOLDEN=1 to accept"


@pytest.fixture
def repo() -> InMemoryManifestRepository:
    return InMemoryManifestRepository("platform/gitops")


@pytest.fixture
def publisher(repo: InMemoryManifestRepository) -> GitOpsPublisher:
    return GitOpsPublisher(repo, DirectorySchemaSource([corpus_dir("k8s-crd-schemas")]))


async def test_design_composition_is_written_per_claim_and_says_crossplane_owns_readiness(
    publisher: GitOpsPublisher, repo: InMemoryManifestRepository
) -> None:
    observations = await publisher.publish(OWNER, composed())
    assert sorted(repo.files) == [
        "infrastructure/orders-team/orders-db/connection-secret.yaml",
        "infrastructure/orders-team/orders-db/rds-instance.yaml",
        "infrastructure/orders-team/orders-db/security-group.yaml",
    ]
    for path, text in repo.files.items():
        check_golden(path.rsplit("/", 1)[1], text)
    assert [(o.resource_name, o.ready, o.reason) for o in observations] == [
        ("rds-instance", None, "ExternalReconciler"),
        ("security-group", None, "ExternalReconciler"),
        ("connection-secret", None, "ExternalReconciler"),
    ]
    rds = observations[0]
    assert rds.location == "gitops:platform/gitops@c1:infrastructure/orders-team/orders-db/rds-instance.yaml"
    assert "external reconciler (Crossplane) owns readiness" in rds.message
    assert "Instance.rds.aws.upbound.io/v1beta1: no CRD schema known" in rds.message


async def test_publishing_again_is_idempotent_and_dropped_resources_are_withdrawn(
    publisher: GitOpsPublisher, repo: InMemoryManifestRepository
) -> None:
    resources = composed()
    await publisher.publish(OWNER, resources)
    await publisher.publish(OWNER, resources)
    assert len(repo.commits) == 1
    await publisher.publish(OWNER, resources[:1])
    assert sorted(repo.files) == ["infrastructure/orders-team/orders-db/rds-instance.yaml"]
    await publisher.withdraw(OWNER)
    assert repo.files == {}


async def test_embedded_manifest_is_validated_against_its_crd_schema(
    publisher: GitOpsPublisher, repo: InMemoryManifestRepository
) -> None:
    obj = {
        "apiVersion": "kubernetes.crossplane.io/v1alpha1",
        "kind": "Object",
        "metadata": {"name": "orders-db-secret", "annotations": {publishing.TEMPLATE_NAME_ANNOTATION: "secret"}},
        "spec": {"forProvider": {"manifest": {
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "orders-db"},
            "spec": {"refreshInterval": 3600, "target": {"creationPolicy": "Sometimes"}},
        }}},
    }  # fmt: skip
    with pytest.raises(InputError) as raised:
        await publisher.publish(OWNER, [obj])
    paths = sorted(p.path for p in raised.value.problems)
    assert paths == [
        "spec.forProvider.manifest.spec.refreshInterval",
        "spec.forProvider.manifest.spec.target.creationPolicy",
    ]
    assert repo.files == {}, "nothing is written when a manifest is invalid"


async def test_resource_without_a_fixed_name_is_refused(publisher: GitOpsPublisher) -> None:
    resource = composed()[0]
    resource["metadata"] = {k: v for k, v in resource["metadata"].items() if k != "name"}
    with pytest.raises(InputError) as raised:
        await publisher.publish(OWNER, [resource])
    assert [p.path for p in raised.value.problems] == ["metadata.name"]
    assert "generateName" in raised.value.problems[0].message
