import pytest

from ws_stack.exceptions import ConfigError
from ws_stack.pool import LevelPool


def test_take_allocates_then_reuses_given_levels():
    pool = LevelPool(capacity=8)
    first = pool.take([1.0, 2.0], [10.0, 20.0])
    assert [(lv.price, lv.size) for lv in first] == [(1.0, 10.0), (2.0, 20.0)]
    pool.give(first)
    second = pool.take([3.0, 4.0, 5.0], [0.0, 1.0, 2.0])
    assert [(lv.price, lv.size) for lv in second] == [(3.0, 0.0), (4.0, 1.0), (5.0, 2.0)]
    assert {id(lv) for lv in first} <= {id(lv) for lv in second}
    stats = pool.stats()
    assert (stats.created, stats.reused, stats.returned, stats.dropped) == (3, 2, 2, 0)
    assert stats.reuse_ratio == pytest.approx(2 / 5)
    assert stats.miss_ratio == pytest.approx(3 / 5)


def test_give_beyond_capacity_is_dropped_and_counted():
    pool = LevelPool(capacity=3)
    pool.give(pool.take(range(5), range(5)))
    stats = pool.stats()
    assert (stats.returned, stats.dropped, stats.available) == (3, 2, 3)


def test_steady_stream_reaches_full_reuse():
    pool = LevelPool(capacity=64)
    for step in range(1000):
        levels = pool.take([100.0 + i for i in range(20)], [float(step)] * 20)
        pool.give(levels)
    assert pool.stats().reuse_ratio >= 0.99


def test_reset_stats_keeps_idle_levels():
    pool = LevelPool(capacity=4)
    pool.give(pool.take([1.0], [1.0]))
    pool.reset_stats()
    stats = pool.stats()
    assert (stats.created, stats.reused, stats.available) == (0, 0, 1)
    assert stats.reuse_ratio == 1.0


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError):
        LevelPool().take([1.0, 2.0], [1.0])


def test_capacity_must_be_positive():
    with pytest.raises(ConfigError, match="capacity"):
        LevelPool(capacity=0)
