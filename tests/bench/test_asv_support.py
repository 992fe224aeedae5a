"""How the suite runs under asv (``benchmarks/asv_support.py``): batches and their clocks."""

from __future__ import annotations

import importlib
import os
import pkgutil
import time
from types import ModuleType

import pytest

import benchmarks
from benchmarks.asv_support import BATCH, Batched, per_call_clock, side_by_side


def _bench_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"benchmarks.{info.name}")
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    ]


def _batched_classes() -> list[tuple[ModuleType, type[Batched]]]:
    return [
        (module, value)
        for module in _bench_modules()
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Batched)
        and value.__module__ == module.__name__
    ]


def test_the_clock_reads_a_batch_as_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "perf_counter", lambda: 500.0)
    assert per_call_clock(BATCH)() == 0.5
    assert per_call_clock(100)() == 5.0


@pytest.mark.parametrize(
    ("module", "cls"), _batched_classes(), ids=lambda value: getattr(value, "__name__", "")
)
def test_every_batched_benchmark_divides_by_the_calls_its_module_loops_over(
    module: ModuleType, cls: type[Batched], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batched ``time_`` method loops ``for _ in CALLS`` (its module's), and its class's
    timer must count in units of that many calls, or asv stores a wrong time per call."""
    calls = len(module.CALLS)
    monkeypatch.setattr(time, "perf_counter", lambda: 1000.0)
    assert cls.timer() * calls == pytest.approx(1000.0)


def test_the_monitor_batches_fewer_calls_than_the_rest() -> None:
    """A scrape of ten connections takes a millisecond: a batch of BATCH would take a
    second a sample, where the suite's other batches take milliseconds."""
    from benchmarks import bench_codec, bench_monitor

    assert len(bench_monitor.CALLS) < len(bench_codec.CALLS) == BATCH


def test_rotations_put_each_window_first_in_turn_and_halved_ones_every_other_time() -> None:
    from benchmarks.bench_connection import _rotations

    calls: list[str] = []

    def window(name: str) -> object:
        def take() -> float:
            calls.append(name)
            return float(len(calls))

        return take

    names = ["figure", "bound", "floor"]
    figures = _rotations({name: window(name) for name in names}, 4, frozenset({"bound"}))
    # Rotation 0: all three, figure first; 1: no bound, floor first (turn 1 of two);
    # 2: all three, floor first (turn 2 of three); 3: no bound, floor first.
    assert calls == ["figure", "bound", "floor", "floor", "figure", "floor", "figure", "bound",
                     "floor", "figure"]  # fmt: skip
    assert [len(figures[name]) for name in names] == [4, 2, 4]
    # The bound's n-th window is in the same rotation as the floor's (2n)-th.
    assert figures["bound"] == [2.0, 8.0]
    assert figures["floor"][::2] == [3.0, 6.0]


def _pid_or_refuse(argument: int) -> tuple[int, int]:
    if argument < 0:
        raise NotImplementedError(f"no set-up for {argument}")
    return argument, os.getpid()


def test_side_by_side_runs_each_call_in_a_process_of_its_own_and_keeps_the_order() -> None:
    found = side_by_side(_pid_or_refuse, [3, 1, 2])
    assert [argument for argument, _ in found] == [3, 1, 2]
    if len(os.sched_getaffinity(0)) > 1:
        assert all(pid != os.getpid() for _, pid in found)
    with pytest.raises(NotImplementedError, match="no set-up for -1"):
        side_by_side(_pid_or_refuse, [1, -1])
