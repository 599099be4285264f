"""Publishing outputs to the GitOps repository (in-memory fake): layout, minimal commits, ownership, withdrawal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blacktop.kernel.errors import ConflictError
from blacktop.observability import model, publishing
from blacktop.observability.memory import InMemoryOutputRepository

from .sloth_corpus import SHARED

DESIGN: dict[str, Any] = json.loads((SHARED / "examples" / "observability-payment-service.json").read_text())
FOLDER = "observability/payments/payment-service"
EXPECTED = sorted(
    f"{FOLDER}/{name}"
    for name in (
        "alertmanager.yaml",
        "dashboard.json",
        "otel-collector.yaml",
        "prometheusrule.yaml",
        "rules.yml",
        "scrape-config.yaml",
        "servicemonitor.yaml",
        "source.json",
        "workload.env",
    )
)


def config(**spec: Any) -> model.ObservabilityConfig:
    document = json.loads(json.dumps(DESIGN))
    document["spec"].update(spec)
    return model.parse_observability_config(document)


async def test_first_publish_writes_the_whole_folder_in_one_commit() -> None:
    repo = InMemoryOutputRepository()
    status = await publishing.OutputPublisher(repo).publish(config(), None)
    assert sorted(repo.files) == EXPECTED
    assert status.folder == FOLDER
    assert status.commit == repo.commits[-1][0]
    assert len(repo.commits) == 1
    assert json.loads(repo.files[f"{FOLDER}/source.json"])["name"] == "payment-service-observability"


async def test_unchanged_config_commits_nothing() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    first = await publisher.publish(config(), None)
    again = await publisher.publish(config(), first)
    assert again == first
    assert len(repo.commits) == 1


async def test_a_channel_change_commits_only_the_routing() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    first = await publisher.publish(config(), None)
    alerts = dict(DESIGN["spec"]["alerts"], channels=["#payments-oncall"])
    await publisher.publish(config(alerts=alerts), first)
    assert repo.commits[-1][2] == (f"{FOLDER}/alertmanager.yaml",)
    assert "#payments-oncall" in repo.files[f"{FOLDER}/alertmanager.yaml"]


async def test_turning_the_dashboard_off_deletes_its_file() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    first = await publisher.publish(config(), None)
    second = await publisher.publish(config(dashboard={"autoGenerate": False}), first)
    assert f"{FOLDER}/dashboard.json" not in repo.files
    assert f"{FOLDER}/dashboard.json" not in second.files


async def test_renaming_the_service_moves_the_folder() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    first = await publisher.publish(config(), None)
    await publisher.publish(config(service="payments-api"), first)
    assert not [p for p in repo.files if p.startswith(f"{FOLDER}/")]
    assert "observability/payments/payments-api/rules.yml" in repo.files


async def test_files_deleted_behind_the_platform_are_restored() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    first = await publisher.publish(config(), None)
    del repo.files[f"{FOLDER}/rules.yml"]
    await publisher.publish(config(), first)
    assert f"{FOLDER}/rules.yml" in repo.files


async def test_second_config_for_the_same_service_is_refused() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    await publisher.publish(config(), None)
    other = json.loads(json.dumps(DESIGN))
    other["metadata"]["name"] = "copy"
    with pytest.raises(ConflictError, match="already observed by ObservabilityConfig payments/payment-service-obs"):
        await publisher.publish(model.parse_observability_config(other), None)


async def test_withdraw_removes_the_folder_and_only_ours() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    status = await publisher.publish(config(), None)
    assert await publisher.withdraw("someone-else", "payments", status) is None
    assert sorted(repo.files) == EXPECTED
    assert await publisher.withdraw("payment-service-observability", "payments", status) is not None
    assert repo.files == {}


def test_status_round_trips() -> None:
    status = publishing.OutputsStatus(folder=FOLDER, commit="abc", files={f"{FOLDER}/a": "1"})
    assert publishing.OutputsStatus.from_status({"outputs": status.to_json()}) == status
    assert publishing.OutputsStatus.from_status({"outputs": "garbage"}) is None
