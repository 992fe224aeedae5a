"""Level pool: cost of a take/give cycle and how well a steady stream reuses levels."""

from __future__ import annotations

from .asv_support import CALLS, Batched, require
from .instructions import Counted
from .venue_frames import frame

DEPTHS = [5, 20, 100]


class LevelPoolCycle(Batched):
    """One order-book side taken from and given back to the pool."""

    version = 2
    params = DEPTHS
    param_names = ["levels"]

    def setup(self, levels: int) -> None:
        pool_module = require("ws_stack.pool", "LevelPool")
        self.pool = pool_module.LevelPool(capacity=4096)
        self.prices = [100.0 + i for i in range(levels)]
        self.sizes = [1.0] * levels
        self.pool.give(self.pool.take(self.prices, self.sizes))

    def time_take_give(self, levels: int) -> None:
        take, give, prices, sizes = self.pool.take, self.pool.give, self.prices, self.sizes
        for _ in CALLS:
            give(take(prices, sizes))


class LevelPoolCycleInstructions(Counted):
    twin = LevelPoolCycle
    track_take_give = Counted.of("time_take_give")


class LevelPoolSteadyStream:
    """Pool statistics after a steady stream of 20-level sides (lower is better)."""

    version = 1
    unit = "ratio"

    def setup(self) -> None:
        pool_module = require("ws_stack.pool", "LevelPool")
        self.pool = pool_module.LevelPool(capacity=4096)
        prices = [100.0 + i for i in range(20)]
        for step in range(1000):
            self.pool.give(self.pool.take(prices, [float(step)] * 20))

    def track_miss_ratio(self) -> float:
        ratio: float = self.pool.stats().miss_ratio
        return ratio


class HandlerStream:
    """Pool statistics of a MEXC handler after 3,000 order-book deltas of 5, 20, 100 levels.

    The handler lends pooled levels to the callbacks and takes them back after delivery; a
    leak of levels or a pool that stops keeping them shows as misses. ``track_miss_ratio``
    is the gated, lower-is-better form; ``track_reuse_ratio`` (its complement) is the
    figure of the design target and is higher-is-better (the gate checks it itself).
    """

    version = 1
    params = [["protobuf", "json"]]
    param_names = ["format"]
    unit = "ratio"

    def setup(self, fmt: str) -> None:
        depths = enumerate([5, 20, 100] * 1000, start=1)
        frames = [frame("mexc", fmt, "order_book", depth, seq) for seq, depth in depths]
        pool_module = require("ws_stack.pool", "LevelPool")
        mexc = require("ws_stack.mexc.handler", "MexcHandler")
        # An explicit pool: what is measured is the pool's health, whatever the default is.
        handler = mexc.MexcHandler(level_pool=pool_module.LevelPool())
        handle = handler.handle
        for data in frames:
            handle(data)
        self.stats = handler.level_pool.stats()

    def track_miss_ratio(self, fmt: str) -> float:
        ratio: float = self.stats.miss_ratio
        return ratio

    def track_reuse_ratio(self, fmt: str) -> float:
        ratio: float = self.stats.reuse_ratio
        return ratio
