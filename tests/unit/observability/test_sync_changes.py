"""The catalog sync after a refresh: only the configs the refresh's changed refs can affect.

Test design: a small organisation is fully synced once, then changed in the in-memory catalog; the
changed refs go to ``sync_changes`` (directly, or through the ``SyncOnRefresh`` observer with a
refresh summary). Each case checks what was read and written, and that the configs end up exactly
where a full sync would put them. An unrelated refresh must read and write nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from blacktop.catalog import records
from blacktop.catalog.service import RefreshSummary
from blacktop.observability.memory import InMemoryCatalogReader, InMemoryConfigObjects
from blacktop.observability.syncing import CatalogSync
from blacktop.wiring.observability import SyncOnRefresh

from .catalog_entities import component, group


class CountingConfigs(InMemoryConfigObjects):
    """Config objects that also count how often every config was listed."""

    def __init__(self) -> None:
        super().__init__()
        self.listed = 0

    async def list_configs(self) -> list[Mapping[str, Any]]:
        self.listed += 1
        return await super().list_configs()


def organisation() -> list[dict[str, Any]]:
    return [
        group("payments", slack="payments"),
        group("search", slack="search"),
        component("pay", owner="payments"),
        component("ledger", owner="payments"),
        component("finder", owner="search"),
        {"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "pay-api"}, "spec": {}},
    ]


async def synced() -> tuple[InMemoryCatalogReader, CountingConfigs, CatalogSync]:
    catalog = InMemoryCatalogReader(organisation())
    configs = CountingConfigs()
    sync = CatalogSync(catalog, configs)
    await sync.sync()
    catalog.reads.clear()
    configs.applied.clear()
    configs.listed = 0
    return catalog, configs, sync


def replace_entity(catalog: InMemoryCatalogReader, ref: str, new: dict[str, Any] | None) -> None:
    index = next(i for i, e in enumerate(catalog.entities) if ref.endswith("/" + e["metadata"]["name"]))
    if new is None:
        del catalog.entities[index]
    else:
        catalog.entities[index] = new


@dataclass
class Case:
    change: Callable[[InMemoryCatalogReader], None]
    refs: list[str]
    want_applied: list[str]
    want_deleted: list[str] = field(default_factory=list)
    want_read: list[str] = field(default_factory=list)
    """Refs the sync fetched by ref (components it recomputed and their owners)."""


CASES = {
    "component-changed": Case(
        change=lambda c: replace_entity(c, "component:default/pay", component("pay", lifecycle="experimental")),
        refs=["component:default/pay"], want_applied=["payments/pay"],
        want_read=["component:default/pay", "group:default/payments"],
    ),
    "component-moved-to-another-team": Case(
        change=lambda c: replace_entity(c, "component:default/pay", component("pay", owner="search")),
        refs=["component:default/pay"], want_applied=["search/pay"], want_deleted=["payments/pay"],
        want_read=["component:default/pay", "group:default/search"],
    ),
    "group-changed-updates-what-it-owns": Case(
        change=lambda c: replace_entity(c, "group:default/payments", group("payments", slack="pay-oncall")),
        refs=["group:default/payments"], want_applied=["payments/ledger", "payments/pay"],
        want_read=["component:default/ledger", "component:default/pay", "group:default/payments"],
    ),
    "component-removed": Case(
        change=lambda c: replace_entity(c, "component:default/finder", None),
        refs=["component:default/finder"], want_applied=[], want_deleted=["search/finder"],
        want_read=["component:default/finder"],
    ),
    "component-no-longer-a-service": Case(
        change=lambda c: replace_entity(c, "component:default/ledger", component("ledger", type_="library")),
        refs=["component:default/ledger"], want_applied=[], want_deleted=["payments/ledger"],
        want_read=["component:default/ledger", "group:default/payments"],
    ),
    "changed-but-same-config": Case(
        change=lambda c: None, refs=["component:default/pay"], want_applied=[],
        want_read=["component:default/pay", "group:default/payments"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_changes_resync_only_the_configs_they_affect(case: Case) -> None:
    catalog, configs, sync = await synced()
    case.change(catalog)
    result = await sync.sync_changes(case.refs)
    assert (sorted(result.applied), sorted(result.deleted)) == (case.want_applied, case.want_deleted)
    fetched = sorted(ref for method, refs in catalog.reads if method == "get_entities" for ref in refs)
    assert fetched == case.want_read
    assert "list_entities" not in [method for method, _ in catalog.reads]

    # The configs are exactly where a full sync over the changed catalog puts them.
    full = InMemoryConfigObjects()
    await CatalogSync(InMemoryCatalogReader(catalog.entities), full).sync()
    assert configs.objects == full.objects


async def test_an_unrelated_refresh_reads_and_writes_nothing() -> None:
    catalog, configs, sync = await synced()
    before = dict(configs.objects)
    observer = SyncOnRefresh(sync)
    await observer.refreshed(location(), summary(changed=["api:default/pay-api", "resource:default/db"]))
    await observer.refreshed(location(), summary(changed=[], removed=["system:default/shop"]))
    await observer.refreshed(location(), summary(changed=[]))
    assert (catalog.reads, configs.listed, configs.applied, configs.deleted) == ([], 0, [], [])
    assert configs.objects == before


async def test_the_observer_passes_changed_and_removed_refs() -> None:
    catalog, configs, sync = await synced()
    replace_entity(catalog, "component:default/finder", None)
    replace_entity(catalog, "component:default/pay", component("pay", lifecycle="experimental"))
    await SyncOnRefresh(sync).refreshed(
        location(), summary(changed=["component:default/pay"], removed=["component:default/finder"])
    )
    assert (configs.applied, configs.deleted, configs.listed) == ([("payments", "pay")], [("search", "finder")], 1)


async def test_the_first_refresh_heard_runs_a_full_sync() -> None:
    catalog = InMemoryCatalogReader(organisation())
    configs = InMemoryConfigObjects()
    await SyncOnRefresh(CatalogSync(catalog, configs)).refreshed(location(), summary(changed=[]))
    assert sorted(configs.objects) == [("payments", "ledger"), ("payments", "pay"), ("search", "finder")]


def location() -> records.LocationRecord:
    return records.LocationRecord(
        id="loc-1", type="file", target="/x.yaml", created_at=datetime(2026, 11, 26, tzinfo=UTC)
    )


def summary(*, changed: Sequence[str], removed: Sequence[str] = ()) -> RefreshSummary:
    return RefreshSummary(
        location_id="loc-1", location="file:/x.yaml", files=1, changed_files=1, entities=6,
        written=len(changed), removed=len(removed), orphaned=0, problems=0, seconds=0.1,
        changed_refs=tuple(changed), removed_refs=tuple(removed),
    )  # fmt: skip
