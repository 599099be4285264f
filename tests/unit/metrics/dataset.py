"""A fixed data set of stored records and catalog owners, and in-memory fakes of the metrics ports.

Two teams and an unowned service over the month before ``conftest.END`` (2026-11-30T00:00Z):

* ``payment-service`` (team-payments): six production deployments, one failed, one named by an
  incident; a staging deployment; two incidents resolved in 20 and 100 minutes.
* ``ledger`` (team-payments): in the catalog, no records at all.
* ``orders`` (team-orders): two deployments, one rolled back, 40 days ago and 3 days ago; an
  incident still open.
* ``legacy-batch`` (no catalog entry): one deployment; plus one invalid record (finished before it
  started) that the report skips and names.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from blacktop.kernel.errors import ConflictError
from blacktop.metrics import kinds

OWNERS = {
    "component:default/payment-service": "group:default/team-payments",
    "component:default/ledger": "group:default/team-payments",
    "component:default/orders": "group:default/team-orders",
}


def deployment(name: str, service: str, finished: str, status: str = "succeeded", **spec: Any) -> dict[str, Any]:
    body = {"service": service, "environment": "production", "finishedAt": finished, "status": status, **spec}
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "team"},
        "spec": body,
    }


def incident(name: str, service: str, opened: str, resolved: str | None = None, **spec: Any) -> dict[str, Any]:
    body = {"service": service, "environment": "production", "openedAt": opened, **spec}
    if resolved:
        body["resolvedAt"] = resolved
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": "Incident",
        "metadata": {"name": name, "namespace": "team"},
        "spec": body,
    }


def commit(sha: str, at: str) -> dict[str, str]:
    return {"sha": sha, "committedAt": at}


DEPLOYMENTS = [
    deployment("pay-1", "payment-service", "2026-11-02T10:00:00Z", commits=[commit("a000001", "2026-11-02T08:00:00Z")]),
    deployment("pay-2", "payment-service", "2026-11-09T10:00:00Z", commits=[commit("a000002", "2026-11-08T10:00:00Z")]),
    deployment(
        "pay-3",
        "payment-service",
        "2026-11-16T10:00:00Z",
        "failed",
        commits=[commit("a000003", "2026-11-16T09:00:00Z")],
    ),
    deployment(
        "pay-4",
        "payment-service",
        "2026-11-24T10:00:00Z",
        commits=[commit("a000003", "2026-11-16T09:00:00Z"), commit("a000004", "2026-11-24T09:30:00Z")],
    ),
    deployment("pay-5", "payment-service", "2026-11-26T10:00:00Z", commits=[commit("a000005", "2026-11-26T06:00:00Z")]),
    deployment("pay-6", "payment-service", "2026-11-28T10:00:00Z", commits=[commit("a000006", "2026-11-28T09:00:00Z")]),
    deployment("pay-staging", "payment-service", "2026-11-28T09:00:00Z", environment="staging"),
    deployment("orders-1", "component:default/orders", "2026-10-21T12:00:00Z"),
    deployment(
        "orders-2",
        "component:default/orders",
        "2026-11-27T12:00:00Z",
        rolledBack=True,
        commits=[commit("b000001", "2026-11-20T12:00:00Z")],
    ),
    deployment("legacy-1", "legacy-batch", "2026-11-15T00:00:00Z"),
    deployment("broken", "legacy-batch", "2026-11-15T00:00:00Z", startedAt="2026-11-15T01:00:00Z"),
]

INCIDENTS = [
    incident(
        "inc-1", "payment-service", "2026-11-24T11:00:00Z", "2026-11-24T11:20:00Z", deployment="pay-4", severity="sev2"
    ),
    incident("inc-2", "payment-service", "2026-11-12T08:00:00Z", "2026-11-12T09:40:00Z"),
    incident("inc-3", "orders", "2026-11-29T20:00:00Z", severity="sev1"),
]


class FakeRecords:
    """``RecordSource`` over lists."""

    def __init__(self, deployments: list[dict[str, Any]], incidents: list[dict[str, Any]]) -> None:
        self.deployments = deployments
        self.incidents = incidents

    async def list_deployments(self) -> list[Mapping[str, Any]]:
        return list(self.deployments)

    async def list_incidents(self) -> list[Mapping[str, Any]]:
        return list(self.incidents)


class FakeOwners:
    """``OwnerDirectory`` over a mapping and a slug table."""

    def __init__(self, owners: Mapping[str, str], slugs: Mapping[str, str] | None = None) -> None:
        self._owners = owners
        self._slugs = slugs or {}

    async def owners(self, services: Collection[str], *, team: str | None = None) -> Mapping[str, str]:
        return {k: v for k, v in self._owners.items() if k in services or v == team}

    async def component_for_repository(self, repository: str) -> str | None:
        return self._slugs.get(repository)


class FakeWriter:
    """``RecordWriter`` that stores objects by (namespace, name) and refuses duplicates."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Mapping[str, Any]] = {}

    async def create(self, ctx: Any, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if key in self.objects:
            raise ConflictError(f"deployments {key[1]!r} already exists")
        self.objects[key] = obj
        return obj

    async def get(self, ctx: Any, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get((namespace, name))
