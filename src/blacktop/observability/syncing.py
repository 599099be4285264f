"""The catalog sync: keeps one ObservabilityConfig per catalog service that has none of its own.

Run once at start (and when a hand-written config comes or goes): read the services and groups,
derive the configs (``defaulting.compute_catalog_configs``), compare them with the platform's
configs (``defaulting.plan_catalog_sync``) and write only the differences, all creates and updates
in one atomic apply. After a catalog refresh, ``sync_changes`` does the same for the entities that
refresh changed or removed only (and nothing when none of them is a Component or Group). The
configs' controller then renders and commits their outputs, so a catalog change (a new service, a
team's new Slack channel, a tier bump) reaches the GitOps repository without anybody touching an
ObservabilityConfig.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from blacktop.kernel.errors import Problem

from . import defaulting, ports


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one sync did."""

    applied: tuple[str, ...] = ()
    """``namespace/name`` of configs created or updated."""
    deleted: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Services with a hand-written ObservabilityConfig."""
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The JSON shape the API serves."""
        return {
            "applied": list(self.applied),
            "deleted": list(self.deleted),
            "skipped": list(self.skipped),
            "unchanged": self.unchanged,
            "problems": [{"entityRef": p.document, "path": p.path, "message": p.message} for p in self.problems],
        }


class CatalogSync:
    """Derives configs from the catalog and writes the differences; one sync at a time."""

    def __init__(
        self,
        catalog: ports.CatalogReader,
        configs: ports.ConfigObjects,
        *,
        defaults: defaulting.CatalogDefaults = defaulting.CatalogDefaults(),
    ) -> None:
        self._catalog = catalog
        self._configs = configs
        self.defaults = defaults
        self.last: SyncResult | None = None
        self._lock = asyncio.Lock()

    async def sync(self) -> SyncResult:
        """Bring the managed configs in line with the catalog."""
        async with self._lock:
            entities = await self._catalog.list_entities(kinds=["Component", "Group"])
            desired = defaulting.compute_catalog_configs(entities, defaults=self.defaults)
            plan = defaulting.plan_catalog_sync(desired.configs, await self._configs.list_configs())
            self.last = await self._carry_out(plan, desired.problems)
            return self.last

    async def sync_changes(self, refs: Sequence[str]) -> SyncResult:
        """Bring in line only the configs that the changed or removed entity ``refs`` can affect.

        A changed Component affects its own config; a changed Group the configs of the Components it
        owns (their channels and namespace come from it). Refs of other kinds change nothing, and a
        refresh that touched none of these reads and writes nothing. Before the first full sync,
        this runs one.
        """
        components = {r.lower() for r in refs if r.lower().startswith("component:")}
        groups = sorted({r.lower() for r in refs if r.lower().startswith("group:")})
        if not components and not groups:
            return SyncResult()
        if self.last is None:
            return await self.sync()
        async with self._lock:
            if groups:
                owned = await self._catalog.list_owned(groups, kinds=["Component"])
                components.update(defaulting.entity_ref(e) for e in owned)
            found = await self._catalog.get_entities(sorted(components))
            owners = sorted({o for o in (defaulting.owner_ref(c) for c in found) if o})
            owning = await self._catalog.get_entities(owners) if owners else []
            desired = defaulting.compute_catalog_configs([*found, *owning], defaults=self.defaults)
            plan, clashes = defaulting.plan_catalog_changes(
                desired.configs, await self._configs.list_configs(), refs=components
            )
            self.last = await self._carry_out(plan, desired.problems + clashes)
            return self.last

    async def _carry_out(self, plan: defaulting.SyncPlan, problems: tuple[Problem, ...]) -> SyncResult:
        if plan.apply:
            await self._configs.apply(plan.apply)
        for namespace, name in plan.delete:
            await self._configs.delete(namespace=namespace, name=name)
        return SyncResult(
            applied=tuple(f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in plan.apply),
            deleted=tuple(f"{ns}/{name}" for ns, name in plan.delete),
            skipped=plan.skipped,
            unchanged=plan.unchanged,
            problems=problems,
        )
