"""The work queue's de-duplication and exclusivity, delayed re-adds, and backoff bounds.

Test design notes: time is a FrozenClock moved by hand, and keys are taken with ``get_nowait``,
so nothing waits on real time.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.engine.queueing import Backoff, QueueShutDown, WorkQueue, compute_backoff
from blacktop.kernel.clock import FrozenClock


def drain(queue: WorkQueue[str]) -> list[str]:
    """Take every ready key, marking each done at once."""
    taken = []
    while (key := queue.get_nowait()) is not None:
        taken.append(key)
        queue.done(key)
    return taken


class RecordingMetrics:
    def __init__(self) -> None:
        self.depths: list[int] = []

    def observe_queue_depth(self, depth: int) -> None:
        self.depths.append(depth)

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        raise AssertionError("the queue does not reconcile")


def test_key_added_twice_while_waiting_is_handed_out_once() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock())
    for key in ["a", "b", "a", "a", "c", "b"]:
        queue.add(key)
    assert drain(queue) == ["a", "b", "c"]


def test_key_added_while_processing_is_handed_out_again_after_done_and_not_before() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock())
    queue.add("a")
    assert queue.get_nowait() == "a"
    queue.add("a")
    queue.add("a")
    assert queue.get_nowait() is None, "a key being processed must not go to a second worker"
    queue.done("a")
    assert queue.get_nowait() == "a"
    queue.done("a")
    assert queue.get_nowait() is None


def test_done_without_readd_does_not_requeue() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock())
    queue.add("a")
    queue.get_nowait()
    queue.done("a")
    assert len(queue) == 0
    assert queue.processing == frozenset()


def test_delayed_key_becomes_ready_only_when_due() -> None:
    clock = FrozenClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add_after("a", timedelta(seconds=5))
    assert queue.get_nowait() is None
    assert queue.next_due_in() == timedelta(seconds=5)
    clock.advance(timedelta(seconds=4.999))
    assert queue.get_nowait() is None
    clock.advance(timedelta(milliseconds=1))
    assert queue.get_nowait() == "a"


@dataclass(frozen=True)
class DelayCase:
    delays: tuple[float, ...]
    want_due: float


DELAY_CASES = {
    "earlier-request-wins": DelayCase(delays=(10, 3), want_due=3),
    "later-request-does-not-postpone": DelayCase(delays=(3, 10), want_due=3),
    "single": DelayCase(delays=(7,), want_due=7),
}


@pytest.mark.parametrize("case", DELAY_CASES.values(), ids=DELAY_CASES.keys())
def test_a_key_delayed_several_times_is_due_at_the_earliest_time_once(case: DelayCase) -> None:
    clock = FrozenClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    for delay in case.delays:
        queue.add_after("a", timedelta(seconds=delay))
    assert queue.delayed == 1
    clock.advance(timedelta(seconds=case.want_due))
    assert drain(queue) == ["a"]
    clock.advance(timedelta(seconds=100))
    assert drain(queue) == [], "stale delay entries must not hand the key out again"


def test_zero_delay_adds_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock())
    queue.add_after("a", timedelta(0))
    assert queue.get_nowait() == "a"


def test_discard_drops_waiting_and_delayed_keys_but_not_ones_in_progress() -> None:
    clock = FrozenClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add("x1")
    assert queue.get_nowait() == "x1"
    queue.add("x1")  # dirty while processing
    queue.add("x2")
    queue.add("y1")
    queue.add_after("x3", timedelta(seconds=1))
    assert queue.discard(lambda key: key.startswith("x")) == 2
    clock.advance(timedelta(seconds=2))
    assert drain(queue) == ["y1"]
    queue.done("x1")
    assert queue.get_nowait() == "x1", "a key in progress keeps its re-add"


def test_queue_depth_is_reported_to_metrics() -> None:
    metrics = RecordingMetrics()
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock(), metrics=metrics)
    queue.add("a")
    queue.add("b")
    queue.get_nowait()
    assert metrics.depths == [1, 2, 1]


async def test_get_waits_for_an_add_and_shut_down_wakes_waiters() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FrozenClock())
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.add("a")
    assert await waiter == "a"
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.shut_down()
    with pytest.raises(QueueShutDown):
        await second


@dataclass(frozen=True)
class BackoffCase:
    attempt: int
    jitter: float
    want_seconds: float


BACKOFF_CASES = {
    "first-retry-no-jitter": BackoffCase(attempt=1, jitter=0.0, want_seconds=0.05),
    "first-retry-full-jitter": BackoffCase(attempt=1, jitter=1.0, want_seconds=0.1),
    "doubles": BackoffCase(attempt=3, jitter=1.0, want_seconds=0.4),
    "capped": BackoffCase(attempt=20, jitter=1.0, want_seconds=60),
    "capped-half": BackoffCase(attempt=20, jitter=0.0, want_seconds=30),
    "huge-attempt-stays-capped": BackoffCase(attempt=10_000, jitter=0.5, want_seconds=45),
}


@pytest.mark.parametrize("case", BACKOFF_CASES.values(), ids=BACKOFF_CASES.keys())
def test_backoff_doubles_up_to_the_cap_with_half_jitter(case: BackoffCase) -> None:
    delay = compute_backoff(case.attempt, base=timedelta(seconds=0.1), cap=timedelta(seconds=60), jitter=case.jitter)
    assert delay.total_seconds() == pytest.approx(case.want_seconds)


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    failures=st.integers(min_value=1, max_value=80),
    base_ms=st.integers(min_value=1, max_value=5_000),
    cap_s=st.integers(min_value=1, max_value=3_600),
)
def test_backoff_stays_within_bounds_for_any_seed(seed: int, failures: int, base_ms: int, cap_s: int) -> None:
    base, cap = timedelta(milliseconds=base_ms), timedelta(seconds=cap_s)
    backoff: Backoff[str] = Backoff(base=base, cap=cap, rng=random.Random(seed))
    for attempt in range(1, failures + 1):
        delay = backoff.next_delay("k")
        ceiling = min(cap, base * 2 ** min(attempt - 1, 40))
        assert ceiling / 2 <= delay <= ceiling + timedelta(microseconds=1)
    assert backoff.failures("k") == failures
    backoff.forget("k")
    assert backoff.failures("k") == 0


def test_backoff_with_the_same_seed_repeats_and_keys_are_independent() -> None:
    def delays(seed: int) -> list[timedelta]:
        backoff: Backoff[str] = Backoff(base=timedelta(seconds=1), cap=timedelta(minutes=5), rng=random.Random(seed))
        return [backoff.next_delay("a") for _ in range(5)]

    assert delays(7) == delays(7)
    backoff: Backoff[str] = Backoff(base=timedelta(seconds=1), cap=timedelta(minutes=5), rng=random.Random(1))
    backoff.next_delay("a")
    backoff.next_delay("a")
    assert backoff.failures("b") == 0
    assert backoff.next_delay("b") <= timedelta(seconds=1)
