"""Level pool: cost of a take/give cycle and how well a steady stream reuses levels."""

from __future__ import annotations

from .common import require

DEPTHS = [5, 20, 100]


class LevelPoolCycle:
    """One order-book side taken from and given back to the pool."""

    version = 1
    params = DEPTHS
    param_names = ["levels"]

    def setup(self, levels: int) -> None:
        pool_module = require("ws_stack.pool", "LevelPool")
        self.pool = pool_module.LevelPool(capacity=4096)
        self.prices = [100.0 + i for i in range(levels)]
        self.sizes = [1.0] * levels
        self.pool.give(self.pool.take(self.prices, self.sizes))

    def time_take_give(self, levels: int) -> None:
        self.pool.give(self.pool.take(self.prices, self.sizes))


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
        return self.pool.stats().miss_ratio
