"""The ResourceStore contract, run unchanged on the in-memory, SQLite and PostgreSQL stores.

Test design notes: every test starts from empty tables and writes what it needs, so order does not
matter. Objects are "Widgets" (namespaced) and "Tenants" (cluster-scoped) of a test group; the
store does not know kinds, only keys.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop.kernel.errors import ConflictError, InputError, NotFoundError
from blacktop.kernel.ports import AuditQuery, AuditRecord, EventType, ListQuery, ResourceStore
from blacktop.kernel.resources import Resource, ResourceKey
from blacktop.kernel.selectors import parse_field_selector, parse_label_selector

from .conftest import Backend

GROUP = "test.blacktop.io"


def widget(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None, **spec: Any) -> Resource:
    """A namespaced test object."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": meta, "spec": dict(spec)}


def tenant(name: str, *, labels: dict[str, str] | None = None) -> Resource:
    """A cluster-scoped test object."""
    return {"apiVersion": f"{GROUP}/v1", "kind": "Tenant", "metadata": {"name": name, "labels": labels or {}}}


def widget_key(name: str, namespace: str = "default") -> ResourceKey:
    return ResourceKey(GROUP, "Widget", namespace, name)


async def create(store: ResourceStore, *objs: Resource) -> list[Resource]:
    """Create ``objs`` in one transaction; return them as stored."""
    async with store.transaction() as tx:
        return [await tx.create(obj) for obj in objs]


async def replace(store: ResourceStore, obj: Resource, *, expected_version: str | None) -> Resource:
    async with store.transaction() as tx:
        return await tx.update(obj, expected_version=expected_version)


async def remove(store: ResourceStore, key: ResourceKey, *, expected_version: str | None) -> Resource:
    async with store.transaction() as tx:
        return await tx.delete(key, expected_version=expected_version)


def names(items: list[Resource]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


def version(obj: Resource) -> str:
    return str(obj["metadata"]["resourceVersion"])


# --- create, get, replace, delete -------------------------------------------------------------


async def test_create_fills_server_fields_and_get_returns_the_stored_object(store: ResourceStore) -> None:
    [created] = await create(store, widget("a", labels={"app": "x"}, size=3))

    meta = created["metadata"]
    assert meta["resourceVersion"] == "1"
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert await store.get(widget_key("a")) == created
    assert await store.current_revision() == 1


async def test_create_does_not_alias_the_callers_document(store: ResourceStore) -> None:
    original = widget("a")
    [created] = await create(store, original)
    created["spec"]["changed"] = True

    assert "resourceVersion" not in original["metadata"]
    stored = await store.get(widget_key("a"))
    assert stored is not None
    assert "changed" not in stored["spec"]


async def test_get_of_an_absent_object_is_none(store: ResourceStore) -> None:
    assert await store.get(widget_key("missing")) is None


async def test_replace_moves_resource_version_and_keeps_uid_and_creation_time(store: ResourceStore) -> None:
    [created] = await create(store, widget("a", size=1))
    changed = widget("a", size=2)  # no uid, no resourceVersion: the store keeps them

    replaced = await replace(store, changed, expected_version=version(created))

    assert replaced["spec"] == {"size": 2}
    assert int(version(replaced)) > int(version(created))
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]
    assert replaced["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert await store.get(widget_key("a")) == replaced


async def test_replace_without_expected_version_always_wins(store: ResourceStore) -> None:
    await create(store, widget("a", size=1))
    replaced = await replace(store, widget("a", size=9), expected_version=None)
    assert replaced["spec"] == {"size": 9}


async def test_replace_naming_another_uid_is_a_conflict(store: ResourceStore) -> None:
    [created] = await create(store, widget("a"))
    stale = widget("a")
    stale["metadata"]["uid"] = "not-the-same-object"

    with pytest.raises(ConflictError, match="re-created"):
        await replace(store, stale, expected_version=None)
    assert await store.get(widget_key("a")) == created


async def test_delete_removes_the_object_and_returns_it_with_the_deletion_version(store: ResourceStore) -> None:
    [created] = await create(store, widget("a", size=1))

    deleted = await remove(store, widget_key("a"), expected_version=version(created))

    assert deleted["spec"] == {"size": 1}
    assert int(version(deleted)) == await store.current_revision()
    assert await store.get(widget_key("a")) is None


@dataclass(frozen=True)
class StaleCase:
    write: str
    expected_version: str


STALE_CASES = {
    "update-with-older-version": StaleCase(write="update", expected_version="1"),
    "delete-with-older-version": StaleCase(write="delete", expected_version="1"),
    "update-with-future-version": StaleCase(write="update", expected_version="999"),
    "delete-with-garbage-version": StaleCase(write="delete", expected_version="abc"),
}


@pytest.mark.parametrize("case", STALE_CASES.values(), ids=STALE_CASES.keys())
async def test_write_based_on_a_stale_version_is_refused_and_says_why(store: ResourceStore, case: StaleCase) -> None:
    [created] = await create(store, widget("a", size=1))
    current = await replace(store, widget("a", size=2), expected_version=version(created))

    stale_write = (
        replace(store, widget("a", size=3), expected_version=case.expected_version)
        if case.write == "update"
        else remove(store, widget_key("a"), expected_version=case.expected_version)
    )
    with pytest.raises(ConflictError) as caught:
        await stale_write

    message = str(caught.value)
    assert "was modified" in message
    assert f"current resourceVersion is {version(current)}" in message
    assert f"based on {case.expected_version}" in message
    assert "re-read" in message
    assert await store.get(widget_key("a")) == current


WRITES_OF_ABSENT = {
    "update": lambda tx: tx.update(widget("ghost"), expected_version=None),
    "delete": lambda tx: tx.delete(widget_key("ghost"), expected_version=None),
}


@pytest.mark.parametrize("write", WRITES_OF_ABSENT.values(), ids=WRITES_OF_ABSENT.keys())
async def test_writing_an_absent_object_is_not_found(store: ResourceStore, write: Any) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        async with store.transaction() as tx:
            await write(tx)


DUPLICATES = {
    "namespaced": widget("a"),
    "cluster-scoped": tenant("t"),
}


@pytest.mark.parametrize("obj", DUPLICATES.values(), ids=DUPLICATES.keys())
async def test_creating_an_existing_key_is_a_conflict(store: ResourceStore, obj: Resource) -> None:
    await create(store, obj)
    with pytest.raises(ConflictError, match="already exists"):
        await create(store, obj)
    assert await store.current_revision() == 1


async def test_same_name_may_exist_in_other_namespaces_and_kinds(store: ResourceStore) -> None:
    await create(store, widget("a", namespace="one"), widget("a", namespace="two"), tenant("a"))
    assert await store.get(widget_key("a", "two")) is not None
    assert await store.get(ResourceKey(GROUP, "Tenant", None, "a")) is not None


async def test_a_failed_transaction_leaves_nothing_behind(store: ResourceStore) -> None:
    await create(store, widget("kept"))

    async def write_then_fail() -> None:
        async with store.transaction() as tx:
            await tx.create(widget("dropped"))
            await tx.delete(widget_key("kept"), expected_version=None)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await write_then_fail()

    assert await store.get(widget_key("dropped")) is None
    assert await store.get(widget_key("kept")) is not None
    assert await store.current_revision() == 1
    [next_one] = await create(store, widget("next"))
    assert version(next_one) == "2"


async def test_a_transaction_reads_its_own_writes(store: ResourceStore) -> None:
    async with store.transaction() as tx:
        created = await tx.create(widget("a"))
        assert await tx.get(widget_key("a")) == created
        updated = await tx.update(widget("a", size=1), expected_version=version(created))
        assert await tx.get(widget_key("a")) == updated
    assert await store.get(widget_key("a")) == updated


# --- selectors ----------------------------------------------------------------------------------

POPULATION = {
    "web-1": {"app": "web", "tier": "frontend", "example.com/team": "blue"},
    "web-2": {"app": "web", "tier": "frontend"},
    "api-1": {"app": "api", "tier": "backend", "example.com/team": "red"},
    "db-1": {"app": "db", "tier": "backend", "example.com/team": "blue"},
    "bare": {},
}

LABEL_CASES = {
    "equals": ("app=web", ["web-1", "web-2"]),
    "double-equals": ("app==api", ["api-1"]),
    "not-equals-includes-unlabelled": ("app!=web", ["api-1", "bare", "db-1"]),
    "in": ("tier in (backend,nothing)", ["api-1", "db-1"]),
    "notin-includes-unlabelled": ("app notin (web,api)", ["bare", "db-1"]),
    "in-empty-set-matches-nothing": ("app in ()", []),
    "notin-empty-set-matches-all": ("app notin ()", ["api-1", "bare", "db-1", "web-1", "web-2"]),
    "exists": ("example.com/team", ["api-1", "db-1", "web-1"]),
    "does-not-exist": ("!example.com/team", ["bare", "web-2"]),
    "prefixed-key-equals": ("example.com/team=blue", ["db-1", "web-1"]),
    "conjunction": ("tier=backend,example.com/team!=red", ["db-1"]),
    "conjunction-of-every-operator": ("app,!missing,tier in (frontend),app notin (db),app!=api", ["web-1", "web-2"]),
    "no-match": ("app=nothing", []),
    "empty-selector-matches-all": ("", ["api-1", "bare", "db-1", "web-1", "web-2"]),
}


@pytest.mark.parametrize(("selector", "want"), LABEL_CASES.values(), ids=LABEL_CASES.keys())
async def test_label_selector_operators(store: ResourceStore, selector: str, want: list[str]) -> None:
    await create(store, *(widget(name, labels=labels) for name, labels in POPULATION.items()))
    await create(
        store, widget("elsewhere", namespace="other", labels={"app": "web"}), tenant("t", labels={"app": "web"})
    )

    page = await store.list(
        ListQuery(group=GROUP, kind="Widget", namespace="default", label_selector=parse_label_selector(selector))
    )

    assert names(page.items) == want


FIELD_CASES = {
    "name-equals": ("Widget", "metadata.name=a", ["one/a", "two/a"]),
    "name-not-equals": ("Widget", "metadata.name!=a", ["one/b", "two/b"]),
    "namespace-equals": ("Widget", "metadata.namespace=two", ["two/a", "two/b"]),
    "namespace-not-equals": ("Widget", "metadata.namespace!=two", ["one/a", "one/b"]),
    "name-and-namespace": ("Widget", "metadata.namespace=one,metadata.name==b", ["one/b"]),
    "cluster-scoped-never-equals-a-namespace": ("Tenant", "metadata.namespace=one", []),
    "cluster-scoped-never-equals-empty-namespace": ("Tenant", "metadata.namespace=", []),
    "cluster-scoped-always-differs-from-a-namespace": ("Tenant", "metadata.namespace!=one", ["/a", "/b"]),
    "cluster-scoped-by-name": ("Tenant", "metadata.name=b", ["/b"]),
}


@pytest.mark.parametrize(("kind", "selector", "want"), FIELD_CASES.values(), ids=FIELD_CASES.keys())
async def test_field_selectors_on_name_and_namespace(
    store: ResourceStore, kind: str, selector: str, want: list[str]
) -> None:
    await create(store, *(widget(n, namespace=ns) for ns in ("one", "two") for n in ("a", "b")))
    await create(store, tenant("a"), tenant("b"))

    page = await store.list(ListQuery(group=GROUP, kind=kind, field_selector=parse_field_selector(selector)))

    assert [f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in page.items] == want


async def test_lists_follow_label_changes_and_deletions(store: ResourceStore) -> None:
    a, _b = await create(store, widget("a", labels={"app": "web"}), widget("b", labels={"app": "web"}))
    await replace(store, widget("a", labels={"app": "api"}), expected_version=version(a))
    await remove(store, widget_key("b"), expected_version=None)
    await create(store, widget("c", labels={"app": "web", "extra": "1"}))

    def query(selector: str) -> ListQuery:
        return ListQuery(group=GROUP, kind="Widget", label_selector=parse_label_selector(selector))

    assert names((await store.list(query("app=web"))).items) == ["c"]
    assert names((await store.list(query("app=api"))).items) == ["a"]
    assert names((await store.list(query("extra"))).items) == ["c"]


async def test_list_is_ordered_by_namespace_then_name_and_scoped_to_one_kind(store: ResourceStore) -> None:
    await create(store, widget("b", namespace="z"), widget("a", namespace="z"), widget("c", namespace="m"))
    await create(store, tenant("a"))

    page = await store.list(ListQuery(group=GROUP, kind="Widget"))

    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in page.items] == [
        ("m", "c"),
        ("z", "a"),
        ("z", "b"),
    ]
    assert page.revision == await store.current_revision()
    assert page.continue_token is None


# --- pagination ---------------------------------------------------------------------------------


async def test_pages_with_continue_tokens_cover_every_object_once(store: ResourceStore) -> None:
    await create(store, *(widget(f"w-{i:02d}", namespace=f"ns-{i % 3}", labels={"keep": "yes"}) for i in range(25)))
    await create(store, widget("unlabelled"))
    revision = await store.current_revision()

    seen: list[Resource] = []
    remaining: list[int | None] = []
    token: str | None = None
    while True:
        page = await store.list(
            ListQuery(
                group=GROUP,
                kind="Widget",
                label_selector=parse_label_selector("keep=yes"),
                limit=10,
                continue_token=token,
            )
        )
        assert page.revision == revision
        seen.extend(page.items)
        remaining.append(page.remaining)
        token = page.continue_token
        if token is None:
            break

    keys = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in seen]
    assert len(keys) == 25
    assert keys == sorted(keys)
    assert remaining == [15, 5, None]


PAGED_SELECTORS = {"no-selector": "", "label-selector": "app=x,gone!=yes"}


@pytest.mark.parametrize("selector", PAGED_SELECTORS.values(), ids=PAGED_SELECTORS.keys())
async def test_pagination_under_concurrent_inserts_neither_duplicates_nor_loses(
    backend: Backend, store: ResourceStore, selector: str
) -> None:
    labels = {"app": "x"}
    originals = {f"o-{i:03d}" for i in range(0, 60, 2)}
    await create(store, *(widget(n, labels=labels) for n in sorted(originals)))
    await create(store, widget("o-000-other", labels={"app": "y"}))
    writer = backend.new_store()
    query = ListQuery(group=GROUP, kind="Widget", label_selector=parse_label_selector(selector), limit=7)

    seen: list[str] = []
    token: str | None = None
    inserted = iter(range(1, 60, 2))
    while True:
        page = await store.list(dataclasses.replace(query, continue_token=token))
        seen.extend(names(page.items))
        # Insert one object before the cursor and one after it between every two pages.
        number = next(inserted)
        await asyncio.gather(*(create(writer, widget(f"o-{number + k:03d}", labels=labels)) for k in (0, 100)))
        token = page.continue_token
        if token is None:
            break

    assert len(seen) == len(set(seen)), "an object was returned twice"
    assert originals <= set(seen), f"objects lost: {sorted(originals - set(seen))}"
    assert seen == sorted(seen)


BAD_TOKENS = {
    "not-base64-json": "!!!not a token!!!",
    "truncated": "eyJrIjoidGVzdC",
    "other-kind": "issued-for-tenants",
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_bad_continue_token_is_refused_as_input_error(store: ResourceStore, token: str) -> None:
    await create(store, *(tenant(f"t-{i}") for i in range(3)), *(widget(f"w-{i}") for i in range(3)))
    if token == "issued-for-tenants":
        token = (await store.list(ListQuery(group=GROUP, kind="Tenant", limit=1))).continue_token or ""

    with pytest.raises(InputError) as caught:
        await store.list(ListQuery(group=GROUP, kind="Widget", limit=1, continue_token=token))
    assert caught.value.problems[0].path == "continue"


# --- events and revisions -----------------------------------------------------------------------


async def test_events_resume_from_any_revision(store: ResourceStore) -> None:
    [a] = await create(store, widget("a"))
    a2 = await replace(store, widget("a", size=2), expected_version=version(a))
    [t] = await create(store, tenant("t"))
    gone = await remove(store, widget_key("a"), expected_version=version(a2))

    everything = await store.events(since=0)
    assert [(e.revision, e.type) for e in everything] == [
        (1, EventType.ADDED),
        (2, EventType.MODIFIED),
        (3, EventType.ADDED),
        (4, EventType.DELETED),
    ]
    assert [e.object for e in everything] == [a, a2, t, gone]
    assert [e.revision for e in await store.events(since=2)] == [3, 4]
    assert await store.events(since=4) == []
    assert [e.revision for e in await store.events(since=0, limit=2)] == [1, 2]
    assert [e.revision for e in await store.events(since=0, kinds=[(GROUP, "Tenant")])] == [3]
    assert [e.revision for e in await store.events(since=1, kinds=[(GROUP, "Widget"), ("x", "Y")])] == [2, 4]
    assert await store.events(since=0, kinds=[]) == []


async def test_an_event_page_says_through_which_revision_the_log_was_read(store: ResourceStore) -> None:
    await create(store, widget("a"), widget("b"))
    await create(store, tenant("t"))

    tenants = await store.event_page(since=0, kinds=[(GROUP, "Tenant")])
    assert [e.revision for e in tenants.events] == [3]
    assert tenants.through == 3
    only_widgets = await store.event_page(since=0, kinds=[(GROUP, "Widget")])
    assert [e.revision for e in only_widgets.events] == [1, 2]
    assert only_widgets.through == 3  # revision 3 was read too: it is simply not a Widget
    cut_short = await store.event_page(since=0, kinds=[(GROUP, "Widget")], limit=1)
    assert [e.revision for e in cut_short.events] == [1]
    assert cut_short.through == 1
    nothing = await store.event_page(since=3, kinds=[(GROUP, "Widget")])
    assert (list(nothing.events), nothing.through) == ([], 3)


async def test_listeners_hear_of_each_commit_in_order_and_never_of_a_rolled_back_one(store: ResourceStore) -> None:
    heard: list[list[tuple[int, EventType, str]]] = []
    store.subscribe(lambda events: heard.append([(e.revision, e.type, e.object["metadata"]["name"]) for e in events]))
    store.subscribe(lambda events: 1 / 0)  # a failing listener neither stops the others nor the write

    [a, b] = await create(store, widget("a"), widget("b"))

    async def rolled_back() -> None:
        async with store.transaction() as tx:
            await tx.create(widget("never"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await rolled_back()
    a2 = await replace(store, widget("a", size=2), expected_version=version(a))
    await remove(store, widget_key("b"), expected_version=version(b))

    assert heard == [
        [(1, EventType.ADDED, "a"), (2, EventType.ADDED, "b")],
        [(3, EventType.MODIFIED, "a")],
        [(4, EventType.DELETED, "b")],
    ]
    assert await store.get(widget_key("a")) == a2


async def test_every_event_revision_is_the_resource_version_it_wrote(store: ResourceStore) -> None:
    async with store.transaction() as tx:
        first = await tx.create(widget("a"))
        second = await tx.create(widget("b"))

    events = await store.events(since=0)
    assert [e.revision for e in events] == [int(version(first)), int(version(second))]
    assert all(str(e.revision) == version(e.object) for e in events)


async def test_revisions_increase_in_commit_order_under_concurrent_writers(backend: Backend) -> None:
    """Watchers polling while 60 writes race must see every revision once, in order, with no gaps.

    If a later revision could commit before an earlier one, a poller would move past the earlier
    one and never see it. SQL backends write through two stores (two engines), so the database's
    own lock is exercised, not only the in-process one.
    """
    stores = [backend.new_store(), backend.new_store()]
    done = asyncio.Event()
    observed: list[int] = []

    async def watch() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            for event in await stores[0].events(since=cursor):
                observed.append(event.revision)
                cursor = event.revision
            if finished:
                return
            await asyncio.sleep(0)

    async def write(i: int) -> str:
        store = stores[i % 2]
        [obj] = await create(store, widget(f"w-{i:03d}"))
        if i % 3 == 0:
            obj = await replace(store, widget(f"w-{i:03d}", touched=True), expected_version=None)
        return version(obj)

    watcher = asyncio.create_task(watch())
    versions = await asyncio.gather(*(write(i) for i in range(60)))
    done.set()
    await watcher

    total = 60 + 20
    assert observed == list(range(1, total + 1))
    assert len(set(versions)) == 60
    assert await stores[1].current_revision() == total


async def test_concurrent_writes_from_one_read_let_exactly_one_win(backend: Backend) -> None:
    stores = [backend.new_store(), backend.new_store()]
    [created] = await create(stores[0], widget("a", n=0))

    async def attempt(i: int) -> str:
        try:
            await replace(stores[i % 2], widget("a", n=i), expected_version=version(created))
        except ConflictError:
            return "conflict"
        return "won"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(1, 9)))
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]


# --- audit ------------------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def audit(seq: int, *, actor: str = "user:alice", name: str | None = "a", minutes: int = 0) -> AuditRecord:
    return AuditRecord(
        seq=seq,
        time=T0 + timedelta(minutes=minutes),
        actor=actor,
        verb="create",
        group=GROUP,
        kind="Widget",
        namespace="default" if name else None,
        name=name,
        outcome="allowed",
        code=201,
        request_id=f"req-{seq}",
        message="created",
        old_digest=None,
        new_digest=f"sha256:{seq:064x}",
        prev_hash="0" * 64 if seq == 1 else f"{seq - 1:064x}",
        hash=f"{seq:064x}",
    )


async def test_audit_records_append_and_the_last_one_is_read_back_exactly(store: ResourceStore) -> None:
    async with store.transaction() as tx:
        assert await tx.last_audit() is None
        await tx.append_audit(audit(1))
        await tx.append_audit(audit(2, actor="service:engine", name=None, minutes=5))
        assert await tx.last_audit() == audit(2, actor="service:engine", name=None, minutes=5)
    async with store.transaction() as tx:
        assert await tx.last_audit() == audit(2, actor="service:engine", name=None, minutes=5)
        await tx.append_audit(audit(3, minutes=10))

    assert list(await store.audit_records(AuditQuery())) == [
        audit(1),
        audit(2, actor="service:engine", name=None, minutes=5),
        audit(3, minutes=10),
    ]


async def test_an_audit_sequence_number_is_used_once(store: ResourceStore) -> None:
    async with store.transaction() as tx:
        await tx.append_audit(audit(1))
    with pytest.raises(ConflictError, match="audit record 1 already exists"):
        async with store.transaction() as tx:
            await tx.append_audit(audit(1, actor="user:mallory"))
    assert [r.actor for r in await store.audit_records(AuditQuery())] == ["user:alice"]


async def test_audit_records_roll_back_with_their_write(store: ResourceStore) -> None:
    async def write_then_fail() -> None:
        async with store.transaction() as tx:
            await tx.create(widget("a"))
            await tx.append_audit(audit(1))
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await write_then_fail()
    assert list(await store.audit_records(AuditQuery())) == []


AUDIT_QUERIES = {
    "all": (AuditQuery(), [1, 2, 3, 4]),
    "by-actor": (AuditQuery(actor="user:bob"), [2, 4]),
    "by-resource": (AuditQuery(kind="Widget", namespace="default", name="b"), [3]),
    "since-inclusive": (AuditQuery(since=T0 + timedelta(minutes=2)), [3, 4]),
    "until-exclusive": (AuditQuery(until=T0 + timedelta(minutes=2)), [1, 2]),
    "after-seq-and-limit": (AuditQuery(after_seq=1, limit=2), [2, 3]),
    "nothing": (AuditQuery(actor="user:nobody"), []),
}


@pytest.mark.parametrize(("query", "want"), AUDIT_QUERIES.values(), ids=AUDIT_QUERIES.keys())
async def test_audit_records_filter(store: ResourceStore, query: AuditQuery, want: list[int]) -> None:
    async with store.transaction() as tx:
        await tx.append_audit(audit(1, minutes=0))
        await tx.append_audit(audit(2, actor="user:bob", minutes=1))
        await tx.append_audit(audit(3, name="b", minutes=2))
        await tx.append_audit(audit(4, actor="user:bob", minutes=3))

    assert [r.seq for r in await store.audit_records(query)] == want
