"""The TeamNamespace controller's plans over fakes: first run, steady state, invalid spec, GitOps down, deletion.

Test design: the controller is called directly with the design's object, an in-memory list of
stored bindings, a recording writer and a dictionary-backed GitOps repository, so every outcome
(including the repository being unavailable) is reached without sockets or git. The e2e tests in
``tests/e2e/tenancy`` run the same controller on the real platform.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from tests.corpus import examples_dir

from blacktop import engine
from blacktop.kernel.errors import UnavailableError
from blacktop.kernel.kinds import validate_object
from blacktop.kernel.ports import ListPage, ListQuery
from blacktop.kernel.resources import Resource, ResourceKey
from blacktop.tenancy import teamnamespaces as tns
from blacktop.wiring.teamnamespaces import TeamNamespaceController

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FOLDER = "tenancy/teamnamespaces/payments-production"


class Store:
    def __init__(self, objects: list[Resource]) -> None:
        self.objects = objects

    async def list(self, query: ListQuery) -> ListPage:
        items = [
            o for o in self.objects if o["kind"] == query.kind and o["metadata"].get("namespace") == query.namespace
        ]
        return ListPage(items=items, revision=1)


class Writer:
    def __init__(self) -> None:
        self.patches: list[tuple[ResourceKey, Mapping[str, Any]]] = []

    async def patch(self, key: ResourceKey, patch: Mapping[str, Any], *, expected_version: str | None) -> Resource:
        self.patches.append((key, patch))
        return {}

    async def update_status(self, key: ResourceKey, status: Mapping[str, Any], *,
                            expected_version: str | None) -> Resource:  # fmt: skip
        raise AssertionError("status goes through the plan")

    async def add_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        raise AssertionError("the engine adds the finalizer")

    async def remove_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        raise AssertionError("the engine removes the finalizer")

    async def create(self, obj: Resource) -> Resource:
        raise AssertionError("children are created through the plan")

    async def delete(self, key: ResourceKey) -> None:
        raise AssertionError("children are deleted through the plan")


class Repo:
    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.commits = 0
        self.down = False

    def list_files(self, prefix: str) -> list[str]:
        if self.down:
            raise UnavailableError("git is not installed")
        return sorted(p for p in self.files if p.startswith(prefix + "/"))

    def head(self) -> str | None:
        return f"{self.commits:040d}" if self.commits else None

    async def awrite(self, files: Mapping[str, str | bytes | None], *, message: str) -> str | None:
        before = dict(self.files)
        for path, text in files.items():
            if text is None:
                self.files.pop(path, None)
            else:
                self.files[path] = str(text)
        if self.files == before:
            return None
        self.commits += 1
        return self.head()


def design(**spec_changes: Any) -> Resource:
    obj = yaml.safe_load((examples_dir() / "team-namespace-payments.yaml").read_text())
    obj["spec"].update(spec_changes)
    obj["metadata"].update(uid="uid-1", generation=1, resourceVersion="1")
    return validate_object(tns.TEAM_NAMESPACE, obj)


def ctx() -> engine.ReconcileContext:
    return engine.ReconcileContext(key=ResourceKey("platform.company.io", "TeamNamespace", None, "x"), now=NOW)


def conditions(plan: engine.Plan) -> dict[str, tuple[str, str, str]]:
    [status] = [a.status for a in plan.actions if isinstance(a, engine.SetStatus)]
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def applied(obj: Resource, plan: engine.Plan, store: Store) -> Resource:
    """What the engine would store after performing ``plan``."""
    current = copy.deepcopy(obj)
    for action in plan.actions:
        if isinstance(action, engine.SetStatus):
            current["status"] = dict(action.status)
        elif isinstance(action, engine.CreateChild):
            store.objects.append(copy.deepcopy(dict(action.obj)))
    return current


async def test_first_run_creates_bindings_commits_once_and_reports_ready() -> None:
    store, repo = Store([]), Repo()
    controller = TeamNamespaceController(store=store, writer=Writer(), repository=repo)
    obj = design()
    plan = await controller.reconcile(obj, ctx())
    created = [a.obj["metadata"]["name"] for a in plan.actions if isinstance(a, engine.CreateChild)]
    assert created == ["team-admins", "team-developers", "team-viewers"]
    assert repo.commits == 1 and len(repo.list_files(FOLDER)) == 11
    found = conditions(plan)
    assert found["Ready"][:2] == ("True", "Provisioned") and found["Synced"][:2] == ("True", "Committed")
    assert "3 role binding(s)" in found["Ready"][2] and "quota cpu=32, memory=64Gi" in found["Ready"][2]

    again = await controller.reconcile(applied(obj, plan, store), ctx())
    assert again.actions == () and repo.commits == 1, "a steady state writes nothing and commits nothing"


async def test_changed_subjects_patch_the_binding_and_recommit() -> None:
    store, repo, writer = Store([]), Repo(), Writer()
    controller = TeamNamespaceController(store=store, writer=writer, repository=repo)
    obj = applied(design(), await controller.reconcile(design(), ctx()), store)
    obj["spec"]["rbac"]["developers"].append({"user": "dana"})
    obj["metadata"]["generation"] = 2
    plan = await controller.reconcile(obj, ctx())
    assert [k.name for k, _ in writer.patches] == ["team-developers"]
    assert repo.commits == 2 and "name: dana" in repo.files[f"{FOLDER}/rolebinding-team-developers.yaml"]
    [status] = [a.status for a in plan.actions if isinstance(a, engine.SetStatus)]
    assert status["observedGeneration"] == 2


async def test_invalid_stored_spec_is_reported_with_paths_and_nothing_is_written() -> None:
    repo = Repo()
    controller = TeamNamespaceController(store=Store([]), writer=Writer(), repository=repo)
    obj = design()
    obj["spec"]["limitRanges"]["defaultRequest"]["cpu"] = "4"
    plan = await controller.reconcile(obj, ctx())
    ready = conditions(plan)["Ready"]
    assert ready[:2] == ("False", "InvalidSpec") and "spec.limitRanges.defaultRequest.cpu" in ready[2]
    assert repo.commits == 0 and not any(isinstance(a, engine.CreateChild) for a in plan.actions)


async def test_unavailable_repository_is_not_synced_and_retried() -> None:
    repo = Repo()
    repo.down = True
    controller = TeamNamespaceController(store=Store([]), writer=Writer(), repository=repo)
    plan = await controller.reconcile(design(), ctx())
    assert conditions(plan)["Synced"][:2] == ("False", "GitOpsUnavailable")
    assert plan.requeue_after == timedelta(seconds=10)


async def test_foreign_binding_of_the_same_name_is_a_conflict() -> None:
    foreign = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding",
               "metadata": {"name": "team-admins", "namespace": "payments-production"},
               "spec": {"role": "admin", "subjects": [{"kind": "User", "name": "mallory"}]}}  # fmt: skip
    controller = TeamNamespaceController(store=Store([foreign]), writer=Writer(), repository=Repo())
    plan = await controller.reconcile(design(), ctx())
    ready = conditions(plan)["Ready"]
    assert ready[:2] == ("False", "BindingConflict") and "payments-production/team-admins" in ready[2]


@pytest.mark.parametrize("down", [False, True], ids=["repository-up", "repository-down"])
async def test_finalize_removes_the_folder_and_owned_bindings(down: bool) -> None:
    store, repo = Store([]), Repo()
    controller = TeamNamespaceController(store=store, writer=Writer(), repository=repo)
    obj = applied(design(), await controller.reconcile(design(), ctx()), store)
    store.objects.append({"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding",
                          "metadata": {"name": "oncall", "namespace": "payments-production"}, "spec": {}})  # fmt: skip
    repo.down = down
    plan = await controller.finalize(obj, ctx())
    if down:
        assert plan.requeue_after is not None, "the finalizer stays until the folder is gone"
        return
    assert repo.list_files(FOLDER) == []
    deleted = [a.key.name for a in plan.actions if isinstance(a, engine.DeleteChild)]
    assert deleted == ["team-admins", "team-developers", "team-viewers"]
