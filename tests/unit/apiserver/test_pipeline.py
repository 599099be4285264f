"""The write pipeline: server-owned fields, optimistic concurrency, finalizers, atomic apply, audit of refusals.

Test design: the pipeline runs over the in-memory store (same contract as the SQL store) with an
allow-list authorizer, a label-based admission fake and a trivially chained audit trail, so each
test states one behaviour of the pipeline itself.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from blacktop.apiserver import Operation, RequestContext, ResourceService, Verb
from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import ConflictError, InputError, NotAllowedError, NotFoundError
from blacktop.kernel.identity import Caller
from blacktop.kernel.kinds import KindInfo, KindRegistry, Scope, object_schema
from blacktop.kernel.ports import AuditQuery, AuditRecord, EventType
from blacktop.store import InMemoryResourceStore

WIDGET = KindInfo(
    group="test.blacktop.dev",
    kind="Widget",
    plural="widgets",
    versions=("v1",),
    schema=object_schema(
        {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            },
        }
    ),
)
GADGET = KindInfo(group="test.blacktop.dev", kind="Gadget", plural="gadgets", versions=("v1",), scope=Scope.CLUSTER)


class AllowList:
    """Allows everything except verbs listed as denied."""

    def __init__(self) -> None:
        self.denied: set[Verb] = set()

    async def authorize(self, caller: Caller, verb: Verb, kind: KindInfo, namespace: str | None) -> None:
        if verb in self.denied:
            raise NotAllowedError(f"{caller.ref} may not {verb} {kind.plural} in namespace {namespace}")


class NoForbiddenLabel:
    """Refuses objects labelled forbidden=true, the way a policy would."""

    async def admit(
        self,
        *,
        operation: Operation,
        kind: KindInfo,
        obj: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
        caller: Caller,
    ) -> None:
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
        if labels.get("forbidden") == "true":
            raise InputError("policy no-forbidden denied the request: forbidden label set")


class ChainedAudit:
    def build(self, previous: AuditRecord | None, *, time: datetime, caller: Caller, verb: str, kind: KindInfo | None,
              group: str, kind_name: str, namespace: str | None, name: str | None, outcome: str, code: int,
              request_id: str, message: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
              ) -> AuditRecord:  # fmt: skip
        prev_hash = previous.hash if previous else ""
        seq = previous.seq + 1 if previous else 1
        digest = hashlib.sha256(f"{prev_hash}{seq}{verb}{name}{outcome}".encode()).hexdigest()
        return AuditRecord(seq, time, caller.ref, verb, group, kind_name, namespace, name, outcome, code,
                           request_id, message, None, None, prev_hash, digest)  # fmt: skip


@pytest.fixture
def authorizer() -> AllowList:
    return AllowList()


@pytest.fixture
def service(authorizer: AllowList) -> ResourceService:
    kinds = KindRegistry()
    kinds.register(WIDGET)
    kinds.register(GADGET)
    counter = itertools.count(1)
    return ResourceService(
        store=InMemoryResourceStore(),
        kinds=kinds,
        authorizer=authorizer,
        admission=NoForbiddenLabel(),
        audit=ChainedAudit(),
        clock=FrozenClock(),
        new_uid=lambda: f"uid-{next(counter)}",
        watch_poll_seconds=0.01,
    )


CTX = RequestContext(caller=Caller("alice"), request_id="req-1")


def widget(name: str = "w1", *, size: int = 3, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.blacktop.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "team-a", **meta},
        "spec": {"size": size},
    }


async def test_create_sets_server_owned_fields_and_defaults(service: ResourceService) -> None:
    body = widget(uid="client-chosen", resourceVersion="999")
    body["status"] = {"phase": "forged"}
    created = await service.create(CTX, WIDGET, body, namespace="team-a")
    meta = created["metadata"]
    assert (meta["uid"], meta["generation"], meta["creationTimestamp"]) == ("uid-1", 1, "2026-01-01T00:00:00Z")
    assert meta["resourceVersion"] != "999"
    assert "status" not in created
    assert created["spec"]["color"] == "red"


async def test_invalid_spec_reports_every_field_path(service: ResourceService) -> None:
    body = widget()
    body["spec"] = {"size": 0, "color": "green"}
    with pytest.raises(InputError) as err:
        await service.create(CTX, WIDGET, body)
    assert sorted(p.path for p in err.value.problems) == ["spec.color", "spec.size"]


async def test_replace_with_stale_resource_version_is_a_conflict(service: ResourceService) -> None:
    created = await service.create(CTX, WIDGET, widget())
    first = dict(created, spec={"size": 4})
    await service.replace(CTX, WIDGET, first, namespace="team-a", name="w1")
    stale = dict(created, spec={"size": 5})
    with pytest.raises(ConflictError, match="modified"):
        await service.replace(CTX, WIDGET, stale, namespace="team-a", name="w1")


async def test_spec_change_bumps_generation_and_status_write_does_not(service: ResourceService) -> None:
    created = await service.create(CTX, WIDGET, widget())
    changed = await service.patch(CTX, WIDGET, namespace="team-a", name="w1", patch={"spec": {"size": 9}})
    assert changed["metadata"]["generation"] == 2
    with_status = await service.patch(
        CTX, WIDGET, namespace="team-a", name="w1", patch={"status": {"observedGeneration": 2}}, status=True
    )
    assert with_status["metadata"]["generation"] == 2
    assert with_status["status"] == {"observedGeneration": 2}
    assert int(with_status["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


async def test_main_resource_write_never_changes_status(service: ResourceService) -> None:
    await service.create(CTX, WIDGET, widget())
    await service.patch(CTX, WIDGET, namespace="team-a", name="w1", patch={"status": {"ok": True}}, status=True)
    updated = await service.patch(CTX, WIDGET, namespace="team-a", name="w1", patch={"status": {"ok": False}})
    assert updated["status"] == {"ok": True}


async def test_delete_waits_for_finalizers(service: ResourceService) -> None:
    await service.create(CTX, WIDGET, widget(finalizers=["test/cleanup"]))
    marked = await service.delete(CTX, WIDGET, namespace="team-a", name="w1")
    assert marked["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:00Z"
    assert await service.get(CTX, WIDGET, "team-a", "w1")
    await service.patch(CTX, WIDGET, namespace="team-a", name="w1", patch={"metadata": {"finalizers": None}})
    with pytest.raises(NotFoundError):
        await service.get(CTX, WIDGET, "team-a", "w1")


async def test_apply_writes_nothing_when_one_document_is_invalid(service: ResourceService) -> None:
    bad = widget("w2")
    bad["spec"] = {}
    with pytest.raises(InputError) as err:
        await service.apply(CTX, [("a.yaml#1", widget("w1")), ("a.yaml#2", bad)])
    assert "a.yaml#2" in str(err.value)
    assert [(p.document, p.path) for p in err.value.problems] == [("a.yaml#2", "spec.size")]
    page = await service.list(CTX, WIDGET, "team-a")
    assert page.items == []


async def test_apply_creates_then_configures_then_leaves_unchanged(service: ResourceService) -> None:
    first = await service.apply(CTX, [("f#1", widget())])
    second = await service.apply(CTX, [("f#1", widget(size=7))])
    third = await service.apply(CTX, [("f#1", widget(size=7))])
    assert [r.action for r in (*first, *second, *third)] == ["created", "configured", "unchanged"]


async def test_admission_refusal_stores_nothing_and_is_audited(service: ResourceService) -> None:
    with pytest.raises(InputError, match="no-forbidden"):
        await service.create(CTX, WIDGET, widget(labels={"forbidden": "true"}))
    assert (await service.list(CTX, WIDGET, None)).items == []
    records = await service.store.audit_records(AuditQuery())
    assert [(r.verb, r.outcome, r.code) for r in records] == [("create", "rejected", 422)]


async def test_denied_request_is_audited_as_denied(service: ResourceService, authorizer: AllowList) -> None:
    authorizer.denied.add(Verb.DELETE)
    await service.create(CTX, WIDGET, widget())
    with pytest.raises(NotAllowedError):
        await service.delete(CTX, WIDGET, namespace="team-a", name="w1")
    records = await service.store.audit_records(AuditQuery())
    assert [(r.verb, r.outcome) for r in records] == [("create", "allowed"), ("delete", "denied")]


async def test_cluster_scoped_kind_drops_namespace(service: ResourceService) -> None:
    # As the Kubernetes API server does, a namespace sent for a cluster-scoped kind is ignored.
    body = {"apiVersion": "test.blacktop.dev/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": "x"}}
    created = await service.create(CTX, GADGET, body)
    assert "namespace" not in created["metadata"]


async def test_watch_resumes_from_a_revision(service: ResourceService) -> None:
    one = await service.create(CTX, WIDGET, widget("w1"))
    await service.create(CTX, WIDGET, widget("w2"))
    await service.delete(CTX, WIDGET, namespace="team-a", name="w1")
    stream = await service.watch(CTX, WIDGET, "team-a", since=int(one["metadata"]["resourceVersion"]))
    seen = []
    async for event in stream:
        seen.append((event.type, event.object["metadata"]["name"]))
        if len(seen) == 2:
            break
    assert seen == [(EventType.ADDED, "w2"), (EventType.DELETED, "w1")]
