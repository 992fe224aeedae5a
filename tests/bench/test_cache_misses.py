"""Cache misses of a lone call (``benchmarks/cache_misses.py``), under valgrind's cache
simulation.

As for instruction counts, the real measurement runs on a small suite of its own, a copy
of the counting modules beside toy benchmarks whose misses are known in advance: a call
that reads N cache lines of data the interference evicted misses about N lines, whatever
the machine. The suite's own lone frames are counted twice, for the same figures.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks import cache_misses, instructions
from benchmarks.cache_misses import Missed
from benchmarks.instructions import measure_suite

SUITE = Path(instructions.__file__).resolve().parent

TOY_BENCHMARKS = '''
import ctypes

from .cache_misses import Missed

LINE = 64


class Reads:
    """Reads ``lines`` cache lines of a buffer of its own, after an interference that
    writes 4 MiB elsewhere (or, with ``evict=False``, none)."""

    params = [[64, 1024], [True, False]]
    param_names = ["lines", "evict"]

    def setup(self, lines, evict):
        self.data = bytes(range(256)) * (lines * LINE // 256)
        self.other = (ctypes.c_char * (4 << 20))()
        self.evict = evict

    def interfere(self):
        if self.evict:
            ctypes.memset(ctypes.addressof(self.other), 1, 4 << 20)

    def read(self):
        self.data.count(b"\\xff")


class ReadsMisses(Missed):
    twin = Reads
    track_read_d1 = Missed.of("read", "d1")
    track_read_ll = Missed.of("read", "ll")
'''


@pytest.fixture(scope="module")
def toy_misses(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The toy suite's misses from two callgrind runs."""
    reason = instructions.unavailable()
    if reason is not None:
        pytest.skip(reason)
    suite = tmp_path_factory.mktemp("suite") / "benchmarks"
    suite.mkdir()
    for name in ("__init__.py", "asv_support.py", "instructions.py", "cache_misses.py",
                 "callgrind_requests.c"):  # fmt: skip
        shutil.copy(SUITE / name, suite / name)
    (suite / "bench_toy.py").write_text(TOY_BENCHMARKS)
    return [measure_suite(suite, jobs=2, kind=Missed), measure_suite(suite, jobs=1, kind=Missed)]


def _misses(found: dict[str, Any], lines: int, evict: bool) -> dict[str, int]:
    entry: dict[str, dict[str, int]] = found["counts"][
        f"benchmarks.bench_toy.ReadsMisses({lines}, {evict})"
    ]
    return entry["read"]


def test_an_evicted_line_read_is_one_miss_at_each_level(toy_misses: list[dict[str, Any]]) -> None:
    first = toy_misses[0]
    for lines in (64, 1024):
        misses = _misses(first, lines, evict=True)
        # The data's own lines, plus a few hundred of the call's own (the interpreter's
        # state, the frame, the method's code): 64 lines gave 120 first-level and 182
        # last-level misses here, 1,024 lines 1,230 and 1,142.
        assert lines <= misses["d1"] <= lines + 300, misses
        assert lines <= misses["ll"] <= lines + 400, misses


def test_what_stays_in_the_caches_is_no_miss(toy_misses: list[dict[str, Any]]) -> None:
    """Without the interference, 64 lines (4 KiB) stay in the first level from one call to
    the next: the misses are the lone call's cost, not the call's."""
    kept = _misses(toy_misses[0], 64, evict=False)
    assert kept["d1"] < 64 and kept["ll"] < 64, kept
    # 1,024 lines (64 KiB) do not fit the simulated 32 KiB first level, but do the 2 MiB
    # last level: the geometry is the simulated one, the same on every machine.
    large = _misses(toy_misses[0], 1024, evict=False)
    assert large["d1"] >= 1024 and large["ll"] < 64, large
    assert cache_misses.GEOMETRY["D1"][0] < 1024 * 64 < cache_misses.GEOMETRY["LL"][0]


def test_two_runs_count_the_same_misses(toy_misses: list[dict[str, Any]]) -> None:
    first, second = toy_misses
    assert first["counts"] == second["counts"]


def test_the_suite_lone_frames_miss_the_same_on_two_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The suite's lone frames (``bench_handler.LoneFrameMisses``), one combination per
    venue: the same misses on two runs, and a frame misses lines at both levels."""
    reason = instructions.unavailable()
    if reason is not None:
        pytest.skip(reason)
    monkeypatch.setenv(
        instructions.SELECT_VARIABLE,
        r"LoneFrameMisses\.track_handle_d1_misses\('(mexc', 'order_book|gateio', 'trade)'\)",
    )
    first, second = measure_suite(kind=Missed), measure_suite(kind=Missed)
    assert sorted(first["counts"]) == [
        "benchmarks.bench_handler.LoneFrameMisses('gateio', 'trade')",
        "benchmarks.bench_handler.LoneFrameMisses('mexc', 'order_book')",
    ]
    assert first["counts"] == second["counts"]
    for entry in first["counts"].values():
        assert entry["handle"]["d1"] > 100 and entry["handle"]["ll"] > 100, entry
