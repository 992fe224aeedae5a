"""A bounded pool of order-book :class:`~ws_stack.messages.Level` objects.

A MEXC handler given a pool (``MexcHandler(level_pool=...)``) takes order-book levels from
it instead of allocating them, and gives them back once the update has been delivered;
the statistics tell how well a stream reuses them. It is opt-in: by default both venues'
levels come straight out of msgspec's C decoder, which recycles freed structs through its
own free list, and refilling a pooled level in Python costs more than that allocation.

The pool works in batches (one update's side at a time) to keep per-level overhead to
an attribute store.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ws_stack.exceptions import ConfigError
from ws_stack.messages import Level

__all__ = ["LevelPool", "PoolStats"]


class PoolStats(msgspec.Struct, frozen=True):
    """Counters of a pool since it was created (or last reset)."""

    #: Levels allocated because the pool was empty.
    created: int
    #: Levels handed out from the pool instead of being allocated.
    reused: int
    #: Levels given back and kept.
    returned: int
    #: Levels given back while the pool was full, left to the garbage collector.
    dropped: int
    #: Levels currently idle in the pool.
    available: int
    capacity: int

    @property
    def acquired(self) -> int:
        return self.created + self.reused

    @property
    def reuse_ratio(self) -> float:
        """Share of acquisitions served from the pool (1.0 when nothing was acquired)."""
        return self.reused / self.acquired if self.acquired else 1.0

    @property
    def miss_ratio(self) -> float:
        """Share of acquisitions that had to allocate: the lower-is-better twin of reuse."""
        return self.created / self.acquired if self.acquired else 0.0


class LevelPool:
    """Bounded free list of :class:`Level` objects with usage statistics."""

    __slots__ = ("_capacity", "_created", "_dropped", "_free", "_returned", "_reused")

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ConfigError(f"LevelPool capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._free: list[Level] = []
        self._created = 0
        self._reused = 0
        self._returned = 0
        self._dropped = 0

    def take(self, prices: Iterable[float], sizes: Iterable[float]) -> list[Level]:
        """Levels holding ``zip(prices, sizes)``, reusing idle ones first."""
        levels: list[Level] = []
        free = self._free
        append = levels.append
        reused = 0
        for price, size in zip(prices, sizes, strict=True):
            if free:
                level = free.pop()
                level.price = price
                level.size = size
                reused += 1
            else:
                level = Level(price, size)
            append(level)
        self._reused += reused
        self._created += len(levels) - reused
        return levels

    def give(self, levels: list[Level]) -> None:
        """Return levels to the pool; those beyond its capacity are dropped (and counted)."""
        free = self._free
        room = self._capacity - len(free)
        if len(levels) <= room:
            free.extend(levels)
            self._returned += len(levels)
        else:
            kept = max(room, 0)
            free.extend(levels[:kept])
            self._returned += kept
            self._dropped += len(levels) - kept

    def stats(self) -> PoolStats:
        return PoolStats(
            created=self._created,
            reused=self._reused,
            returned=self._returned,
            dropped=self._dropped,
            available=len(self._free),
            capacity=self._capacity,
        )

    def reset_stats(self) -> None:
        """Zero the counters (the idle levels stay), e.g. after a warm-up."""
        self._created = self._reused = self._returned = self._dropped = 0
