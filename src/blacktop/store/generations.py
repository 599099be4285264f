"""Results kept per store write generation: counts and facets that stay valid until anybody writes.

Counting the 20,000 matches of a broad catalog filter, or the values of a facet over every entity,
reads tens of thousands of index entries however the query is written. Those answers change only
when entities change, and every transaction that changes entities bumps one generation number in
the database (``catalog_state``). A reader reads that number in the same transaction as its query
and looks results up under it, so an answer is reused only while no replica has written since it
was computed: the store, not a timer, invalidates it. Entries are keyed by their generation (two
readers at different generations never share one) and the least recently used are dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Final, TypeVar

T = TypeVar("T")

DEFAULT_SIZE: Final = 512


class GenerationCache:
    """A bounded LRU map from ``(generation, key)`` to a computed result."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, Hashable], object] = OrderedDict()
        self._newest = -1

    async def get_or_compute(self, generation: int | None, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The result kept for ``key`` at ``generation``, else ``await compute()`` (kept when generation is known).

        ``generation=None`` (the store has no generation row) always computes and keeps nothing.
        """
        if generation is None:
            return await compute()
        if generation > self._newest:
            # Anything older can never be asked for again by a reader that starts now.
            self._items.clear()
            self._newest = generation
        slot = (generation, key)
        if slot in self._items:
            self._items.move_to_end(slot)
            return self._items[slot]  # type: ignore[return-value]
        value = await compute()
        self._items[slot] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
