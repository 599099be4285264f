"""The catalog's use cases: register, refresh and delete locations, validate, query, impact, scores.

A refresh walks the location (``refreshing.walk_location``), compares each accepted entity's hash
with the stored one and writes only what changed, file by file, in bulk. Entities another location
already holds are refused and reported on this location naming both. Entities the location no
longer emits are orphans: deleted, or kept and annotated, per ``CatalogConfig.orphan_strategy``.
After each refresh the ``RefreshObserver`` hears the summary (the composition root records one
audit record and syncs platform groups from it). No IO happens here: storage, readers, clock and
ids are ports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Protocol

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import ConflictError, InputError, NotFoundError, Problem

from . import (
    ancestry,
    errors,
    graph,
    kinds,
    locations,
    model,
    ports,
    processing,
    querying,
    records,
    refreshing,
    refs,
    scoring,
    stitching,
)

ALLOW_ALL: Final = (locations.AllowRule(allow=tuple(locations.KindMatcher(k) for k in kinds.KNOWN_KINDS)),)
"""Every kind blacktop knows, from any location."""

ORIGIN_KEY: Final = f"metadata.annotations.{model.MANAGED_BY_ORIGIN_LOCATION}"
"""The filter key of the registered location an entity came through."""


class LocationSources(Protocol):
    """Turns a registered location into the root to walk and the reader for it (git checkouts live here)."""

    async def prepare(self, location: locations.LocationSpec) -> tuple[locations.LocationSpec, ports.LocationReader]:
        """Fetch whatever is needed and return the walk root and its reader."""
        ...


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """What one refresh did."""

    location_id: str
    location: str
    files: int
    changed_files: int
    entities: int
    written: int
    removed: int
    orphaned: int
    problems: int
    seconds: float
    changed_refs: tuple[str, ...] = ()
    removed_refs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape stored on the location and served by the API."""
        return {
            "files": self.files, "changedFiles": self.changed_files, "entities": self.entities,
            "written": self.written, "removed": self.removed, "orphaned": self.orphaned,
            "problems": self.problems, "seconds": round(self.seconds, 3),
        }  # fmt: skip


class RefreshObserver(Protocol):
    """Hears every finished refresh (audit trail, platform group sync)."""

    async def refreshed(self, location: records.LocationRecord, summary: RefreshSummary) -> None:
        """Called after a refresh was stored."""
        ...


@dataclass(frozen=True, slots=True)
class CatalogConfig:
    """How the catalog ingests: allow rules, orphans, placeholders, refresh interval, scorecard checks."""

    rules: Sequence[locations.AllowRule] = locations.DEFAULT_RULES
    orphan_strategy: processing.OrphanStrategy = processing.OrphanStrategy.DELETE
    refresh_interval: timedelta | None = timedelta(minutes=5)
    location_types: frozenset[str] = frozenset({"url", "file", "git"})
    checks: Sequence[scoring.CheckSpec] = scoring.DEFAULT_CHECKS
    max_files: int = 100_000

    def ingest_options(self) -> processing.IngestOptions:
        """The ingestion options these settings imply."""
        return processing.IngestOptions(rules=self.rules, max_files=self.max_files)


@dataclass
class CatalogService:
    """Catalog use cases over a repository, location sources, a clock and an id factory."""

    repository: ports.CatalogRepository
    sources: LocationSources
    clock: Clock
    new_id: Callable[[], str]
    config: CatalogConfig = field(default_factory=CatalogConfig)
    observers: list[RefreshObserver] = field(default_factory=list)
    offload: refreshing.Offload | None = None
    """Where CPU-heavy parsing runs (a process pool, set by the composition root); None: inline."""
    _caches: dict[str, dict[str, refreshing.FileSummary]] = field(default_factory=dict)
    _hashes: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)
    # The refreshed_at this process last wrote per location: when the stored one differs, another
    # replica refreshed the location or an entity of it was deleted, and the memory above is stale.
    _written_at: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    # -- locations -------------------------------------------------------------------------------

    async def register(self, type_: str, target: str, *, on_conflict: str = "reject") -> records.LocationRecord:
        """Register ``type:target`` and refresh it once; 409 when it exists (unless ``on_conflict=refresh``)."""
        spec = self._check_location(type_, target)
        existing = await self.repository.find_location(spec.type, spec.target)
        if existing is not None:
            if on_conflict != "refresh":
                raise ConflictError(f"location {spec.key} is already registered (id {existing.id})")
            await self.refresh_location(existing.id)
            return await self.require_location(existing.id)
        record = records.LocationRecord(
            id=self.new_id(), type=spec.type, target=spec.target, created_at=self.clock.now()
        )
        await self.repository.add_location(record)
        await self.refresh_location(record.id)
        return await self.require_location(record.id)

    def _check_location(self, type_: str, target: str) -> locations.LocationSpec:
        if type_ not in self.config.location_types:
            allowed = ", ".join(sorted(self.config.location_types))
            raise errors.InvalidLocation(
                f"location type {type_!r} is not supported",
                problems=[Problem(path="type", message=f"use one of {allowed}")],
            )
        if not target:
            raise errors.InvalidLocation("a location needs a target", problems=[Problem("target", "is empty")])
        return locations.parse_location_ref(f"{type_}:{target}")

    async def dry_run(self, type_: str, target: str) -> tuple[bool, list[model.Entity], list[Problem]]:
        """Walk ``type:target`` without writing: whether it exists, its entities and problems."""
        spec = self._check_location(type_, target)
        existing = await self.repository.find_location(spec.type, spec.target)
        root, reader = await self.sources.prepare(spec)
        ingestion = await processing.ingest_location(root, reader, options=self.config.ingest_options())
        return existing is not None, [e.entity for e in ingestion.entities], list(ingestion.problems)

    async def require_location(self, location_id: str) -> records.LocationRecord:
        """The location with this id, or ``LocationNotFound``."""
        found = await self.repository.get_location(location_id)
        if found is None:
            raise errors.LocationNotFound(f"no location with id {location_id!r}; list them with GET /locations")
        return found

    async def list_locations(self) -> list[records.LocationRecord]:
        """Every registered location."""
        return await self.repository.list_locations()

    async def delete_location(self, location_id: str) -> None:
        """Unregister a location; its entities become orphans (deleted or kept per configuration)."""
        location = await self.require_location(location_id)
        async with self._lock(location_id):
            held = await self.repository.hashes_of_location(location_id)
            await self._handle_orphans(list(held))
            await self.repository.delete_location(location_id)
            self._forget(location_id)
        del location

    async def update_location(self, location_id: str, type_: str, target: str) -> records.LocationRecord:
        """Point a location elsewhere and refresh it; entities it no longer emits become orphans."""
        await self.require_location(location_id)
        spec = self._check_location(type_, target)
        other = await self.repository.find_location(spec.type, spec.target)
        if other is not None and other.id != location_id:
            raise ConflictError(f"location {spec.key} is already registered (id {other.id})")
        async with self._lock(location_id):
            await self.repository.update_location(location_id, type_=spec.type, target=spec.target)
            self._forget(location_id)
        await self.refresh_location(location_id)
        return await self.require_location(location_id)

    def _forget(self, location_id: str) -> None:
        """Drop what this process remembers of a location, so its next refresh starts from the database."""
        self._caches.pop(location_id, None)
        self._hashes.pop(location_id, None)
        self._written_at.pop(location_id, None)

    async def delete_entity(self, uid: str) -> None:
        """Remove one entity; it comes back on the next refresh if its location still emits it (as Backstage)."""
        found = await self.repository.get_by_uid(uid)
        if found is None:
            raise NotFoundError(f"No entity with uid {uid}")
        await self.repository.delete_entities([found.ref.key])
        if found.location_id is not None:
            # Every replica must read the location afresh on its next refresh, so the entity comes back.
            await self.repository.mark_location_stale(found.location_id)
            self._forget(found.location_id)

    async def location_of(self, ref: str) -> records.LocationRecord:
        """The location holding entity ``ref``."""
        entity = await self.require_entity(ref)
        if entity.location_id is None:
            raise errors.LocationNotFound(f"entity {entity.ref.key} has no location (it is an orphan)")
        return await self.require_location(entity.location_id)

    # -- refresh ---------------------------------------------------------------------------------

    def _lock(self, location_id: str) -> asyncio.Lock:
        return self._locks.setdefault(location_id, asyncio.Lock())

    async def refresh_all(self) -> list[RefreshSummary]:
        """Refresh every location (the interval loop calls this)."""
        return [await self.refresh_location(loc.id) for loc in await self.repository.list_locations()]

    async def refresh_entity(self, ref: str) -> RefreshSummary:
        """Refresh the location that holds ``ref`` (Backstage ``POST /refresh``)."""
        location = await self.location_of(ref)
        return await self.refresh_location(location.id)

    async def refresh_location(self, location_id: str) -> RefreshSummary:
        """Walk one location and write what changed; returns what was done."""
        location = await self.require_location(location_id)
        async with self._lock(location_id):
            summary = await self._refresh(location)
        for observer in self.observers:
            await observer.refreshed(location, summary)
        return summary

    async def _refresh(self, location: records.LocationRecord) -> RefreshSummary:
        started = self.clock.now()
        spec = locations.LocationSpec(location.type, location.target)
        # The hashes this process wrote last time save reading 100,000 rows; popped so a failed
        # refresh leaves nothing stale behind. They hold only while nobody else touched the location.
        if self._written_at.get(location.id) != location.refreshed_at:
            self._forget(location.id)
        remembered = self._hashes.pop(location.id, None)
        stored = remembered if remembered is not None else await self.repository.hashes_of_location(location.id)
        cache = self._caches.setdefault(location.id, {})
        if not stored:
            cache.clear()
        problems: list[Problem] = []
        written: list[str] = []
        fresh: dict[str, str] = {}
        try:
            root, reader = await self.sources.prepare(spec)
        except Exception as exc:
            problems.append(Problem(path="", message=f"could not fetch {spec.key}: {exc}", document=spec.key))
            summary = await self._finish(location, started, problems=problems, seen=set(stored), stored=stored,
                                         written=[], files=0, changed_files=0, keep_all=True)  # fmt: skip
            self._hashes[location.id] = dict(stored)
            return summary

        async def on_file(outcome: refreshing.FileOutcome) -> None:
            if not outcome.changed:
                return
            writes = await self._writes_for(location, outcome, stored, problems)
            written.extend(w.ref.key for w in writes)
            fresh.update((w.ref.key, w.hash) for w in writes)
            # Written at once, not overlapped with parsing: the database driver's thread would fight
            # the parser for the GIL row by row, which is several times slower than taking turns.
            await self.repository.write_entities(location.id, writes)

        result = await refreshing.walk_location(
            root, reader, options=self.config.ingest_options(), cache=cache, on_file=on_file, offload=self.offload
        )
        problems[:0] = result.problems
        seen = set(result.refs)
        summary = await self._finish(
            location, started, problems=problems, seen=seen, stored=stored, written=written,
            files=len(result.files), changed_files=len(result.changed_files), keep_all=False,
        )  # fmt: skip
        held = {ref: value for ref, value in stored.items() if ref in seen}
        held.update((ref, (digest, False)) for ref, digest in fresh.items())
        self._hashes[location.id] = held
        return summary

    async def _writes_for(
        self,
        location: records.LocationRecord,
        outcome: refreshing.FileOutcome,
        stored: Mapping[str, tuple[str, bool]],
        problems: list[Problem],
    ) -> list[records.EntityWrite]:
        candidates = []
        for write in outcome.entities:
            previous = stored.get(write.ref.key)
            if previous is not None and previous[0] == write.hash and not previous[1]:
                continue
            candidates.append(write)
        foreign = await self.repository.owners([w.ref.key for w in candidates if w.ref.key not in stored])
        writes: list[records.EntityWrite] = []
        for write in candidates:
            owner = foreign.get(write.ref.key)
            if owner is not None and owner.location_id not in (None, location.id) and not owner.orphan:
                problems.append(
                    Problem(
                        path="metadata.name",
                        message=(
                            f"entity {write.ref.key} is already provided by location {owner.location_id} "
                            f"({owner.location_key}); {location.id} ({write.location_key}) also emits it and "
                            "is ignored. Remove one copy, or delete the old location to move the entity"
                        ),
                        document=write.location_key,
                    )
                )
                continue
            writes.append(write)
        return writes

    async def _finish(
        self,
        location: records.LocationRecord,
        started: Any,
        *,
        problems: list[Problem],
        seen: set[str],
        stored: Mapping[str, tuple[str, bool]],
        written: list[str],
        files: int,
        changed_files: int,
        keep_all: bool,
    ) -> RefreshSummary:
        gone = [] if keep_all else sorted(ref for ref in stored if ref not in seen and not stored[ref][1])
        removed, orphaned = await self._handle_orphans(gone)
        finished = self.clock.now()
        summary = RefreshSummary(
            location_id=location.id, location=location.key, files=files, changed_files=changed_files,
            entities=len(seen), written=len(written), removed=len(removed), orphaned=len(orphaned),
            problems=len(problems), seconds=(finished - started).total_seconds(),
            changed_refs=tuple(written), removed_refs=tuple(removed),
        )  # fmt: skip
        await self.repository.save_location_state(
            location.id, refreshed_at=finished, summary=summary.to_dict(), problems=problems
        )
        self._written_at[location.id] = (await self.require_location(location.id)).refreshed_at
        return summary

    async def _handle_orphans(self, refs_gone: list[str]) -> tuple[list[str], list[str]]:
        if not refs_gone:
            return [], []
        if self.config.orphan_strategy is processing.OrphanStrategy.DELETE:
            await self.repository.delete_entities(refs_gone)
            return refs_gone, []
        await self.repository.mark_orphans(refs_gone)
        return [], refs_gone

    # -- validation ------------------------------------------------------------------------------

    async def validate_entity(self, document: Any, location: str) -> list[Problem]:
        """Every problem processing ``document`` read from ``location`` would report (empty: valid)."""
        spec = locations.parse_location_ref(location)
        parsed = processing.ParsedDocument(index=0, line=1, document=document)
        options = processing.IngestOptions(rules=ALLOW_ALL)
        if not isinstance(document, dict):
            return [Problem(path="", message="entity must be an object")]
        ingested, problems, _ = await refreshing.process_document(
            parsed, file=spec, root=spec, reader=_NoFiles(), options=options
        )
        del ingested
        return problems

    # -- reads -----------------------------------------------------------------------------------

    async def query(self, query: records.EntityQuery) -> records.EntityPage:
        """Entities matching a query."""
        return await self.repository.query(query)

    async def require_entity(self, ref: str) -> records.StoredEntity:
        """The entity ``ref`` names (kind required), or 404."""
        key = refs.parse_ref(ref).key
        found = (await self.repository.get_by_refs([key])).get(key)
        if found is None:
            raise NotFoundError(f"no entity {key} in the catalog")
        return found

    async def get_by_name(self, kind: str, namespace: str, name: str) -> records.StoredEntity:
        """Backstage by-name lookup (case-insensitive)."""
        key = model.EntityRef(kind, namespace, name).key
        found = (await self.repository.get_by_refs([key])).get(key)
        if found is None:
            raise NotFoundError(f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'")
        return found

    async def ancestry(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """Backstage's ancestry answer: the entity and every entity up the chain that emitted it."""
        start = await self.get_by_name(kind, namespace, name)
        if start.location_id is None:
            only = {"entity": start.served(), "parentEntityRefs": []}
            return {"rootEntityRef": ancestry.ref_string(start.ref), "items": [only]}
        location = await self.require_location(start.location_id)
        root = locations.LocationSpec(location.type, location.target)
        same_origin = querying.EntityFilter(
            ((querying.Condition("kind", ("location",)), querying.Condition(ORIGIN_KEY, (root.key,))),)
        )
        location_entities = (await self.repository.query(records.EntityQuery(filter=same_origin))).items
        known = {e.ref.key: e for e in location_entities}
        items: list[dict[str, Any]] = []
        seen = {start.ref.key}
        todo = [start]
        while todo:
            current = todo.pop()
            parents = ancestry.parents_of(current, root, location_entities)
            items.append({"entity": current.served(), "parentEntityRefs": [ancestry.ref_string(p) for p in parents]})
            for parent in parents:
                if parent.key in seen:
                    continue
                seen.add(parent.key)
                stored = known.get(parent.key) or (await self.repository.get_by_refs([parent.key])).get(parent.key)
                if stored is not None:
                    todo.append(stored)
                elif parent.name == stitching.generated_location_name(root):
                    # The registered location's own Location entity is implied, not stored: it tops the chain.
                    generated = stitching.generated_location_entity(root).to_dict()
                    items.append({"entity": {**generated, "relations": []}, "parentEntityRefs": []})
        return {"rootEntityRef": ancestry.ref_string(start.ref), "items": items}

    async def impact(
        self, ref: str, *, direction: graph.Direction, max_depth: int | None, kinds: Sequence[str] | None
    ) -> graph.Impact:
        """Transitive dependents or dependencies of ``ref``, walked level by level over stored relations."""
        root = refs.parse_ref(ref)
        if not await self.repository.get_by_refs([root.key]):
            raise NotFoundError(f"no entity {root.key} in the catalog")
        types = sorted(graph.DEPENDENCY_TYPES if direction is graph.Direction.DEPENDENCIES else graph.DEPENDENT_TYPES)
        rows: list[model.Relation] = []
        frontier, seen, depth = [root.key], {root.key}, 0
        while frontier and (max_depth is None or depth < max_depth):
            found = await self.repository.outgoing(frontier, types)
            rows += found
            frontier = sorted({r.target.key for r in found} - seen)
            seen.update(frontier)
            depth += 1
        return graph.compute_impact(
            graph.RelationGraph.from_relations(rows), root, direction=direction, max_depth=max_depth, kinds=kinds
        )

    async def search(
        self, term: str, *, entity_filter: querying.EntityFilter, limit: int = 20
    ) -> list[records.SearchHit]:
        """Ranked full-text search."""
        if not term.strip():
            raise InputError("search needs a term", problems=[Problem(path="term", message="is empty")])
        return await self.repository.search(term, entity_filter=entity_filter, limit=limit)

    async def scores(self) -> tuple[list[scoring.EntityScore], list[model.Entity]]:
        """Scorecards of every scored entity, and the entities they were computed over."""
        stored = await self.repository.all_entities()
        entities = [model.Entity.from_dict(e.document) for e in stored]
        return scoring.score_catalog(entities, checks=self.config.checks), entities

    async def dark_matter(self) -> scoring.DarkMatter:
        """What the catalog points at but does not hold."""
        stored = await self.repository.all_entities()
        entities = [model.Entity.from_dict(e.document) for e in stored]
        rows = [r for e in stored for r in e.relations]
        orphans = [e.ref for e in stored if e.orphan]
        return scoring.dark_matter_report(entities, rows, orphans=orphans)


class _NoFiles:
    """A reader with no files: ``validate-entity`` processes a posted entity without reading anything."""

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """Nothing exists."""
        return None

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """Nothing matches."""
        return []
