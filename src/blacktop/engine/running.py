"""The engine: follow the store, queue the keys that changed, and run controllers on them.

For every kind with a controller the engine lists the objects once, then follows the store's
event log from the revision of that list. The store in this process hands each committed
transaction's events to ``deliver``, which applies them without a read when they follow on from
the last revision the engine has seen; a gap (another replica wrote in between, or a commit the
engine was not told of) makes it read the log instead, as it also does at a short interval. The
objects it has seen are kept in memory, so a
reconcile starts without a database read; a plan made from a cached object that has since moved
on fails with a conflict on its first write and is simply retried. A periodic resync queues
every object again, so a lost event or a failed external call is corrected eventually
(level-triggered). Workers are asyncio tasks; a key is never handled by two workers at once
(the queue), nor by two processes (the shard gate from ``leasing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import ConflictError, NotFoundError, PermanentFailure, TemporaryFailure
from blacktop.kernel.ports import EventType, ListQuery, WatchEvent
from blacktop.kernel.resources import GroupVersion, Resource, ResourceKey

from . import applying, controllers, leasing, queueing
from .ports import EngineMetrics, LeaseStore, NullMetrics, ResourceSource, ResourceWriter

log = logging.getLogger(__name__)

OUTCOMES: Final = (
    "success",
    "requeue",
    "temporary_failure",
    "permanent_failure",
    "conflict",
    "fenced",
    "timeout",
    "error",
)
"""The ``outcome`` values reported to ``EngineMetrics.observe_reconcile``."""


class _Fenced(Exception):
    """The shard lease no longer leaves enough time for the next step; stop and retry later."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine runs; built by the composition root from ``Settings``."""

    member: str = "engine"
    """This process's identity in leases, logs and reconcile contexts; unique per process."""
    workers: int = 4
    """Concurrent reconciles in this process."""
    poll_interval: timedelta = timedelta(seconds=1)
    """How often the event log is read when nothing calls ``notify``."""
    resync_period: timedelta = timedelta(minutes=10)
    """How often every object is queued again, changed or not."""
    reconcile_timeout: timedelta = timedelta(seconds=8)
    """The longest a controller's ``reconcile`` or ``finalize`` call may take; it is cancelled after that.

    With leases, planning starts only while the lease has this long plus the safety margin left,
    and the plan's writes only while the margin is left, so keep it well under
    ``leases.lease_ttl - leases.renew_interval``. Work that takes longer belongs outside the
    reconcile: start it, then poll with ``TemporaryFailure(delay=)``.
    """
    backoff_base: timedelta = timedelta(milliseconds=200)
    """First retry delay after an error; doubles with every further failure."""
    backoff_cap: timedelta = timedelta(minutes=5)
    """Longest retry delay after errors."""
    page_size: int = 500
    """Objects per page when listing a kind."""
    event_batch: int = 1000
    """Events read per poll."""
    leases: leasing.LeaseSettings = field(default_factory=leasing.LeaseSettings)
    """How processes share shards (only used when the engine is given a LeaseStore)."""


class Engine:
    """Runs the registered controllers until stopped.

    Use ``async with Engine(...)`` (or ``start``/``stop``). Pass a ``lease_store`` to share work
    with other processes; without one, this process reconciles everything. ``notify`` lets the API
    server wake the engine right after a commit. Tests drive the steps themselves: ``prime``,
    ``poll_events``, ``resync`` and ``process_next``.
    """

    def __init__(
        self,
        *,
        source: ResourceSource,
        writer: ResourceWriter,
        registry: controllers.ControllerRegistry,
        clock: Clock,
        settings: EngineSettings | None = None,
        lease_store: LeaseStore | None = None,
        metrics: EngineMetrics | None = None,
        rng: random.Random | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._source = source
        self._writer = writer
        self._registry = registry
        self._clock = clock
        self._settings = settings = settings or EngineSettings()
        self._metrics = metrics or NullMetrics()
        self._timer = timer
        self._queue: queueing.WorkQueue[ResourceKey] = queueing.WorkQueue(clock=clock, metrics=self._metrics)
        self._backoff: queueing.Backoff[ResourceKey] = queueing.Backoff(
            base=settings.backoff_base, cap=settings.backoff_cap, rng=rng or random.Random()
        )
        self.gate: leasing.ShardGate = (
            leasing.AllShards()
            if lease_store is None
            else leasing.ShardCoordinator(
                store=lease_store,
                member=settings.member,
                clock=clock,
                settings=settings.leases,
                reconcile_timeout=settings.reconcile_timeout,
            )
        )
        self.gate.bind(on_acquired=self._on_acquired, on_lost=self._on_lost)
        self._cache: dict[ResourceKey, Resource] = {}
        self._primed: set[tuple[str, str]] = set()
        self._since = 0
        self._wakeup = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def queue(self) -> queueing.WorkQueue[ResourceKey]:
        """The work queue (read its length for a depth gauge; tests inspect it)."""
        return self._queue

    @property
    def revision(self) -> int:
        """The newest store revision the engine has seen."""
        return self._since

    def cached(self, key: ResourceKey) -> Resource | None:
        """The engine's latest copy of an object, or None."""
        return self._cache.get(key)

    def notify(self, revision: int | None = None) -> None:
        """Read the event log now rather than at the next poll."""
        if revision is None or revision > self._since:
            self._wakeup.set()

    def deliver(self, events: Sequence[WatchEvent]) -> None:
        """Take in one committed transaction's events (a ``CommitListener`` for the store).

        They are applied at once when they follow on from the newest revision seen; otherwise the
        event log is read, which also picks them up.
        """
        if not events or events[-1].revision <= self._since:
            return
        if events[0].revision != self._since + 1 or len(self._primed) != len(self._registry.kinds()):
            self._wakeup.set()
            return
        for event in events:
            key = ResourceKey.of(event.object)
            if self._registry.get(key.group, key.kind) is not None:
                self._apply_event(event)
            self._wake_owner(key, event.object)
        self._since = events[-1].revision

    async def prime(self) -> None:
        """List every controlled kind not listed yet, cache the objects and queue them."""
        for group, kind in self._registry.kinds():
            if (group, kind) in self._primed:
                continue
            continue_token: str | None = None
            first_revision: int | None = None
            while True:
                page = await self._source.list(
                    ListQuery(group=group, kind=kind, limit=self._settings.page_size, continue_token=continue_token)
                )
                first_revision = page.revision if first_revision is None else first_revision
                for obj in page.items:
                    self._remember(obj)
                continue_token = page.continue_token
                if not continue_token:
                    break
            # Events after the first page's revision replay every change made while listing.
            self._since = first_revision if not self._primed else min(self._since, first_revision)
            self._primed.add((group, kind))

    async def poll_events(self) -> int:
        """Read one batch of events, update the cache and queue the keys; returns how many were read."""
        if self._primed != set(self._registry.kinds()):
            await self.prime()
        page = await self._source.event_page(
            since=self._since, kinds=self._registry.kinds(), limit=self._settings.event_batch
        )
        for event in page.events:
            if event.revision > self._since:
                self._apply_event(event)
        self._since = max(self._since, page.through)
        return len(page.events)

    def _wake_owner(self, key: ResourceKey, obj: Resource) -> None:
        """Queue the controlling owner of a changed object when it is a kind reconciled here.

        A parent's readiness usually follows its children's, so a child's change is a reason to
        look at the parent now rather than at its next requeue (controller-runtime's ``Owns``).
        """
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            if not ref.get("controller"):
                continue
            group = GroupVersion.parse(str(ref.get("apiVersion", ""))).group
            kind = str(ref.get("kind", ""))
            if self._registry.get(group, kind) is None:
                continue
            for namespace in (key.namespace, None):
                owner = ResourceKey(group, kind, namespace, str(ref.get("name", "")))
                if owner in self._cache:
                    if self.gate.may_own(owner):
                        self._queue.add(owner)
                    break

    def _apply_event(self, event: WatchEvent) -> None:
        if event.type is EventType.DELETED:
            key = ResourceKey.of(event.object)
            self._cache.pop(key, None)
            self._backoff.forget(key)
        else:
            self._remember(event.object)

    def resync(self) -> None:
        """Queue every cached object this process may own."""
        for key in self._cache:
            if self.gate.may_own(key):
                self._queue.add(key)

    async def process_next(self) -> bool:
        """Reconcile the next ready key, if any; returns whether one was processed."""
        key = self._queue.get_nowait()
        if key is None:
            return False
        try:
            await self.process(key)
        finally:
            self._queue.done(key)
        return True

    async def process(self, key: ResourceKey) -> None:
        """Reconcile one key now (it must have been taken from the queue)."""
        obj = self._cache.get(key)
        controller = self._registry.get(key.group, key.kind)
        if obj is None or controller is None:
            return
        admission = self.gate.admit(key)
        if admission is leasing.Admission.NOT_MINE:
            return
        if admission is leasing.Admission.LATER:
            self._queue.add_after(key, self.gate.retry_after)
            return
        started = self._timer()
        outcome = "error"
        try:
            outcome = await self._reconcile_within_budget(controller, obj, key)
        finally:
            self.gate.finish(key)
            self._metrics.observe_reconcile(
                group=key.group, kind=key.kind, outcome=outcome, seconds=self._timer() - started
            )

    async def start(self) -> None:
        """List, then start following events, resyncing, leasing and working in background tasks."""
        self._stop.clear()
        await self.prime()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow_events(), name="engine-events"),
            loop.create_task(self._resync_periodically(), name="engine-resync"),
            loop.create_task(
                self.gate.run(stop=self._stop),
                name="engine-leases",
            ),
        ]
        self._tasks += [
            loop.create_task(self._work(), name=f"engine-worker-{n}") for n in range(self._settings.workers)
        ]

    async def stop(self) -> None:
        """Finish the reconciles in progress, give back leases and end every task."""
        self._stop.set()
        self._wakeup.set()
        self._queue.shut_down()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("engine task failed while stopping", exc_info=result)

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _remember(self, obj: Resource) -> None:
        key = ResourceKey.of(obj)
        self._cache[key] = obj
        if self.gate.may_own(key):
            self._queue.add(key)

    def _on_acquired(self, shards: frozenset[int]) -> None:
        count = self.gate.shards
        for key in self._cache:
            if leasing.shard_of(key, count) in shards:
                self._queue.add(key)

    def _on_lost(self, shards: frozenset[int]) -> None:
        count = self.gate.shards
        self._queue.discard(lambda key: leasing.shard_of(key, count) in shards)

    async def _reconcile_within_budget(
        self, controller: controllers.Controller, obj: Resource, key: ResourceKey
    ) -> str:
        ctx = controllers.ReconcileContext(
            key=key, now=self._clock.now(), attempt=self._backoff.failures(key), member=self._settings.member
        )
        try:
            requeue_after = await self._run_controller(controller, obj, ctx)
        except TemporaryFailure as exc:
            self._backoff.next_delay(key)
            self._queue.add_after(key, exc.delay)
            log.info("reconcile of %s will be retried in %s: %s", key, exc.delay, exc)
            return "temporary_failure"
        except PermanentFailure as exc:
            self._backoff.forget(key)
            log.warning("reconcile of %s failed permanently: %s", key, exc)
            return "permanent_failure"
        except (ConflictError, NotFoundError) as exc:
            # The object moved on (or went away) since it was cached; its event will bring the news.
            self._queue.add_after(key, self._backoff.next_delay(key))
            log.debug("reconcile of %s conflicted and will be retried: %s", key, exc)
            return "conflict"
        except _Fenced:
            self._queue.add_after(key, self.gate.retry_after)
            log.info("reconcile of %s stopped: the shard lease is too close to expiry; it will be retried", key)
            return "fenced"
        except TimeoutError:
            self._queue.add_after(key, self._backoff.next_delay(key))
            log.warning("reconcile of %s took longer than %s and was cancelled", key, self._settings.reconcile_timeout)
            return "timeout"
        except Exception:
            self._queue.add_after(key, self._backoff.next_delay(key))
            log.exception("reconcile of %s failed and will be retried", key)
            return "error"
        self._backoff.forget(key)
        if requeue_after is not None:
            self._queue.add_after(key, requeue_after)
            return "requeue"
        return "success"

    async def _run_controller(
        self, controller: controllers.Controller, obj: Resource, ctx: controllers.ReconcileContext
    ) -> timedelta | None:
        finalizer = controller.finalizer
        if controllers.is_deleting(obj):
            if finalizer is None or not controllers.has_finalizer(obj, finalizer):
                return None
            plan = await self._plan(controller.finalize, obj, ctx)
            current = await self._apply(obj, plan)
            if plan.requeue_after is not None:
                return plan.requeue_after
            await self._apply(current, controllers.Plan(actions=(controllers.RemoveFinalizer(finalizer),)))
            return None
        if finalizer is not None:
            obj = await self._apply(obj, controllers.plan_finalizer(obj, finalizer, present=True))
        try:
            plan = await self._plan(controller.reconcile, obj, ctx)
        except PermanentFailure as exc:
            failed = controllers.ConditionUpdate(type="Ready", status=False, reason="ReconcileFailed", message=str(exc))
            await self._apply(obj, controllers.plan_status(obj, now=ctx.now, conditions=[failed]))
            raise
        await self._apply(obj, plan)
        return plan.requeue_after

    async def _plan(
        self, call: controllers.ReconcileFn, obj: Resource, ctx: controllers.ReconcileContext
    ) -> controllers.Plan:
        """Run the controller's planning, cancelled at ``reconcile_timeout``; fenced by the lease first."""
        timeout = self._settings.reconcile_timeout
        if not self.gate.has_time(ctx.key, timeout + self._settings.leases.safety_margin):
            raise _Fenced
        async with asyncio.timeout(timeout.total_seconds()):
            return await call(obj, ctx)

    async def _apply(self, obj: Resource, plan: controllers.Plan) -> Resource:
        # Writes are not cancelled half-way (a cancelled database write is a hazard of its own);
        # instead they only start while the lease still has the safety margin left.
        if not plan.actions:
            return obj
        if not self.gate.has_time(ResourceKey.of(obj), self._settings.leases.safety_margin):
            raise _Fenced
        current = await applying.apply_plan(self._writer, obj, plan)
        # Keep the newer copy: the store may already have delivered this plan's later writes
        # (a status write followed by the object's own deletion), and a deleted object stays gone.
        key = ResourceKey.of(current)
        cached = self._cache.get(key)
        if cached is not None and _revision_of(cached) < _revision_of(current):
            self._cache[key] = current
        return current

    async def _work(self) -> None:
        while True:
            try:
                key = await self._queue.get()
            except queueing.QueueShutDown:
                return
            try:
                await self.process(key)
            except Exception:
                log.exception("the engine failed to process %s", key)
            finally:
                self._queue.done(key)

    async def _follow_events(self) -> None:
        interval = self._settings.poll_interval.total_seconds()
        while not self._stop.is_set():
            # Cleared before reading, so a notify that arrives during the read is not lost.
            self._wakeup.clear()
            try:
                read = await self.poll_events()
            except Exception:
                log.exception("reading the event log failed; retrying in %s s", interval)
                read = 0
            if read >= self._settings.event_batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), interval)

    async def _resync_periodically(self) -> None:
        period = self._settings.resync_period.total_seconds()
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), period)
            except TimeoutError:
                self.resync()


def _revision_of(obj: Resource) -> int:
    version = applying.version_of(obj)
    return int(version) if version and version.isascii() and version.isdigit() else 0
