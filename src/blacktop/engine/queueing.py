"""The de-duplicating work queue and the retry backoff the engine's workers share.

Reconciling is level-triggered: a key in the queue means "look at this object again", not "apply
this change". So a key queued twice while it waits is processed once, and a key that changes while
a worker has it is processed again after that worker is done, never by two workers at once. This
is the discipline of client-go's workqueue, kept here apart from the engine so it can be tested
without any IO. Delays are measured with the injected Clock; the engine's loop sleeps on real time
only while waiting for the next due key.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from blacktop.kernel.clock import Clock

from .ports import EngineMetrics, NullMetrics

K = TypeVar("K", bound=Hashable)


class QueueShutDown(Exception):
    """Raised by ``WorkQueue.get`` once the queue is shut down and nothing is left to hand out."""


class WorkQueue(Generic[K]):
    """A FIFO of keys with de-duplication, per-key exclusivity and delayed re-adds.

    ``get`` hands a key out and marks it processing; ``done`` must follow. Adding a key that is
    already waiting does nothing; adding one that is processing marks it dirty, and ``done`` puts it
    back at the end of the queue.
    """

    def __init__(self, *, clock: Clock, metrics: EngineMetrics | None = None) -> None:
        self._clock = clock
        self._metrics = metrics or NullMetrics()
        self._ready: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._delayed: list[tuple[datetime, int, K]] = []
        self._due: dict[K, datetime] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._shut_down = False

    def __len__(self) -> int:
        """Keys ready to be handed out now."""
        return len(self._ready)

    @property
    def delayed(self) -> int:
        """Keys waiting for their delay to pass."""
        return len(self._due)

    @property
    def processing(self) -> frozenset[K]:
        """Keys handed out and not yet done."""
        return frozenset(self._processing)

    def add(self, key: K) -> None:
        """Queue ``key`` now, unless it is already queued."""
        if self._shut_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._ready.append(key)
        self._metrics.observe_queue_depth(len(self._ready))
        self._wakeup.set()

    def add_after(self, key: K, delay: timedelta) -> None:
        """Queue ``key`` once ``delay`` has passed; an earlier pending delay for it wins."""
        if delay <= timedelta(0):
            self.add(key)
            return
        if self._shut_down:
            return
        due = self._clock.now() + delay
        current = self._due.get(key)
        if current is not None and current <= due:
            return
        self._due[key] = due
        heapq.heappush(self._delayed, (due, next(self._seq), key))
        self._wakeup.set()

    def get_nowait(self) -> K | None:
        """Hand out the next ready key (promoting delayed keys that are due), or None."""
        self._promote_due()
        if not self._ready:
            return None
        key = self._ready.popleft()
        self._dirty.discard(key)
        self._processing.add(key)
        self._metrics.observe_queue_depth(len(self._ready))
        return key

    async def get(self) -> K:
        """Wait for the next key; raises ``QueueShutDown`` once shut down."""
        while True:
            if self._shut_down:
                raise QueueShutDown("the work queue is shut down")
            key = self.get_nowait()
            if key is not None:
                return key
            self._wakeup.clear()
            wait = self.next_due_in()
            timeout = None if wait is None else max(wait.total_seconds(), 0.001)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    def done(self, key: K) -> None:
        """Mark ``key`` processed; it is queued again if it was added meanwhile."""
        self._processing.discard(key)
        if key in self._dirty and not self._shut_down:
            self._ready.append(key)
            self._metrics.observe_queue_depth(len(self._ready))
            self._wakeup.set()

    def discard(self, predicate: Callable[[K], bool]) -> int:
        """Drop waiting and delayed keys matching ``predicate`` (keys being processed are left alone)."""
        before = len(self._ready) + len(self._due)
        self._ready = deque(k for k in self._ready if not predicate(k))
        self._dirty = {k for k in self._dirty if k in self._processing or not predicate(k)}
        self._due = {k: due for k, due in self._due.items() if not predicate(k)}
        self._delayed = [entry for entry in self._delayed if entry[2] in self._due]
        heapq.heapify(self._delayed)
        self._metrics.observe_queue_depth(len(self._ready))
        return before - len(self._ready) - len(self._due)

    def next_due_in(self) -> timedelta | None:
        """How long until the earliest delayed key is due, or None when nothing is delayed."""
        self._drop_stale_delays()
        if not self._delayed:
            return None
        return self._delayed[0][0] - self._clock.now()

    def wake(self) -> None:
        """Make a waiting ``get`` look again, e.g. after a test moved its clock forward."""
        self._wakeup.set()

    def shut_down(self) -> None:
        """Stop handing out keys; waiting ``get`` calls raise ``QueueShutDown``."""
        self._shut_down = True
        self._wakeup.set()

    def _drop_stale_delays(self) -> None:
        while self._delayed and self._due.get(self._delayed[0][2]) != self._delayed[0][0]:
            heapq.heappop(self._delayed)

    def _promote_due(self) -> None:
        now = self._clock.now()
        self._drop_stale_delays()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            del self._due[key]
            self.add(key)
            self._drop_stale_delays()


def compute_backoff(attempt: int, *, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """The delay before retry number ``attempt`` (1-based): ``min(cap, base·2^(attempt-1))`` scaled into [½, 1].

    ``jitter`` is a number in [0, 1) from the caller's random source; keeping half the delay fixed
    ("equal jitter") means retries never bunch up near zero while still spreading out.
    """
    exponent = min(max(attempt, 1) - 1, 1000)
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2.0**exponent)
    return timedelta(seconds=ceiling * (0.5 + 0.5 * jitter))


class Backoff(Generic[K]):
    """Per-key exponential backoff with jitter; ``forget`` resets a key after a success."""

    def __init__(self, *, base: timedelta, cap: timedelta, rng: random.Random) -> None:
        self._base = base
        self._cap = cap
        self._rng = rng
        self._failures: dict[K, int] = {}

    def next_delay(self, key: K) -> timedelta:
        """Count one more failure of ``key`` and return how long to wait before retrying it."""
        attempt = self._failures.get(key, 0) + 1
        self._failures[key] = attempt
        return compute_backoff(attempt, base=self._base, cap=self._cap, jitter=self._rng.random())

    def failures(self, key: K) -> int:
        """How many failures in a row ``key`` has had."""
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        """Reset ``key`` after it succeeded."""
        self._failures.pop(key, None)
