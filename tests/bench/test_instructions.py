"""Instruction counts (``benchmarks/instructions.py``): callgrind's counts of a call.

The real measurement runs on a small suite of its own: a copy of the counting modules next
to a module of toy benchmarks, so that what a count must show (more work, more
instructions; the same work, the same count) is known in advance. The whole suite's counts
are exercised by the gate's tests.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks import instructions
from benchmarks.instructions import Counted, measure_suite

SUITE = Path(instructions.__file__).resolve().parent

TOY_BENCHMARKS = '''
from .asv_support import CALLS, Batched
from .instructions import Counted


class Sum(Batched):
    params = [[10, 1000]]
    param_names = ["items"]

    def setup(self, items):
        self.data = list(range(items))

    def time_sum(self, items):
        data = self.data
        for _ in CALLS:
            sum(data)

    def time_nothing(self, items):
        for _ in CALLS:
            pass


class SumInstructions(Counted):
    twin = Sum
    track_sum = Counted.of("time_sum")
    track_nothing = Counted.of("time_nothing")


class Once:
    """A plain time benchmark: one call per sample, not batched."""

    def setup(self):
        self.data = list(range(100))

    def time_sort(self):
        sorted(self.data, reverse=True)


class OnceInstructions(Counted):
    twin = Once
    track_sort = Counted.of("time_sort")


class Newer(Batched):
    params = [["here", "not yet", "broken"]]
    param_names = ["feature"]

    def setup(self, feature):
        if feature == "not yet":
            raise NotImplementedError("not in this commit")
        if feature == "broken":
            raise ValueError("a bug in the set-up")

    def time_it(self, feature):
        for _ in CALLS:
            pass


class NewerInstructions(Counted):
    twin = Newer
    track_it = Counted.of("time_it")


class Objects(Batched):
    def setup(self):
        pass

    def time_three(self):
        for _ in CALLS:
            object()
            object()
            object()


class ObjectsInstructions(Counted):
    twin = Objects
    track_three = Counted.of("time_three", allocations=True)


class OnceInFewParts(Counted):
    """The same call as OnceInstructions, counted in a few parts of one call."""

    twin = Once
    # Enough for CPython to specialise the call's code (3.11 quickens a code object on
    # its ninth run): each count runs in a fresh fork, nothing warmed it up before.
    warm_up_calls = 10
    calls_per_part = 1
    parts = 3
    track_sort = Counted.of("time_sort")
'''


@pytest.fixture(scope="module")
def toy_counts(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The toy suite's counts from two callgrind runs: of two copies of the suite, at paths
    of different lengths, counted two at a time and one at a time."""
    reason = instructions.unavailable()
    if reason is not None:
        pytest.skip(reason)
    copies = []
    for folder in ("suite", "a-suite-at-a-much-longer-path"):
        suite = tmp_path_factory.mktemp(folder) / "benchmarks"
        suite.mkdir()
        for name in ("__init__.py", "asv_support.py", "instructions.py", "callgrind_requests.c"):
            shutil.copy(SUITE / name, suite / name)
        (suite / "bench_toy.py").write_text(TOY_BENCHMARKS)
        copies.append(suite)
    first, second = measure_suite(copies[0], jobs=2), measure_suite(copies[1], jobs=1)
    return [{**first, "suite": str(copies[0])}, second]


def test_a_selection_counts_only_the_combinations_asv_would_run(
    toy_counts: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = Path(toy_counts[0]["suite"])
    monkeypatch.setenv(instructions.SELECT_VARIABLE, r"SumInstructions\.track_sum\(1000\)")
    selected = measure_suite(suite)["counts"]
    assert list(selected) == ["benchmarks.bench_toy.SumInstructions(1000,)"]
    # Only the selected call. Forked from the same interpreter after other forks than in
    # the whole run, it meets the memory allocator in another state: the same count to
    # within a few instructions.
    entry = selected["benchmarks.bench_toy.SumInstructions(1000,)"]
    whole = _count(toy_counts[0], "SumInstructions", (1000,))["time_sum"]
    # The selected combination is counted whole: its other methods come along.
    assert sorted(entry) == ["time_nothing", "time_sum"]
    assert abs(entry["time_sum"] - whole) <= whole / 1000


def _count(counts: dict[str, Any], cls: str, params: tuple[Any, ...]) -> dict[str, Any]:
    entry: dict[str, Any] = counts["counts"][f"benchmarks.bench_toy.{cls}{params!r}"]
    return entry


def test_more_work_counts_more_instructions(toy_counts: list[dict[str, Any]]) -> None:
    small, large = (_count(toy_counts[0], "SumInstructions", (n,)) for n in (10, 1000))
    assert 0 < small["time_nothing"] < small["time_sum"] < large["time_sum"]
    # Summing 990 more items costs some instructions per item, the same in any run.
    per_item = (large["time_sum"] - small["time_sum"]) / 990
    assert 2 < per_item < 200, per_item
    # An empty iteration of the batch loop costs the same whatever the data, to within
    # what a part's own bookkeeping (the memory allocator's state) moves by, over 20 calls.
    assert abs(small["time_nothing"] - large["time_nothing"]) <= 5


def test_two_runs_count_exactly_the_same_wherever_the_suite_is(
    toy_counts: list[dict[str, Any]],
) -> None:
    first, second = toy_counts
    assert first["counts"] == second["counts"]
    assert first["allocations"] == second["allocations"]


def test_a_plain_time_benchmark_is_counted_call_by_call(
    toy_counts: list[dict[str, Any]],
) -> None:
    sort = _count(toy_counts[0], "OnceInstructions", ())["time_sort"]
    assert sort > _count(toy_counts[0], "SumInstructions", (10,))["time_nothing"]


def test_a_combination_the_commit_lacks_is_na_and_a_broken_one_fails(
    toy_counts: list[dict[str, Any]],
) -> None:
    counts = toy_counts[0]
    assert _count(counts, "NewerInstructions", ("not yet",)) == {"n/a": "not in this commit"}
    broken = _count(counts, "NewerInstructions", ("broken",))
    assert "ValueError: a bug in the set-up" in broken["error"]
    assert isinstance(_count(counts, "NewerInstructions", ("here",))["time_it"], int)


def test_allocations_are_counted_call_by_call(toy_counts: list[dict[str, Any]]) -> None:
    # object() takes a block from CPython's allocator every time (no free list).
    allocations = toy_counts[0]["allocations"]
    assert allocations["benchmarks.bench_toy.ObjectsInstructions()"] == {"time_three": 3.0}
    assert toy_counts[0]["allocations"] == toy_counts[1]["allocations"]


def test_a_long_call_may_be_counted_in_parts_of_one_call(
    toy_counts: list[dict[str, Any]],
) -> None:
    few = _count(toy_counts[0], "OnceInFewParts", ())["time_sort"]
    many = _count(toy_counts[0], "OnceInstructions", ())["time_sort"]
    # A part of one call keeps some of its own cost (a few hundred instructions, about
    # one allocation) that the empty part does not cancel: nothing against a long call.
    assert many <= few <= many * 1.05


class _PerItem(Counted):
    twin = type("Twin", (), {})

    def setup(self, suite: dict[str, Any], *params: Any) -> None:
        super().setup(suite, *params)
        self.items = 4

    track_per_item = Counted.of("time_pass", per="items")
    track_allocations = Counted.of("time_pass", allocations=True)
    track_allocations_per_item = Counted.of("time_pass", allocations=True, per="items")


def test_a_track_reports_allocations_and_per_unit_of_work() -> None:
    key = _PerItem.key(())
    suite = {"counts": {key: {"time_pass": 1001}}, "allocations": {key: {"time_pass": 6.0}}}
    bench = _PerItem()
    bench.setup(suite)
    assert bench.track_per_item(suite) == 250.25
    assert bench.track_allocations(suite) == 6.0
    assert bench.track_allocations_per_item(suite) == 1.5
    assert _PerItem.track_allocations.unit == "allocations"
    assert not hasattr(_PerItem.track_per_item, "unit")  # the class's: instructions
    assert _PerItem.counted_methods() == dict.fromkeys(
        ["track_allocations", "track_allocations_per_item", "track_per_item"], "time_pass"
    )


class _Toy(Counted):
    twin = type("Twin", (), {"params": [["a", "b"]], "param_names": ["x"]})
    track_call = Counted.of("time_call")


def _suite_with(entry: dict[str, Any]) -> dict[str, Any]:
    return {"counts": {_Toy.key(("a",)): entry}}


def test_the_asv_side_takes_params_from_the_twin_and_reports_each_case() -> None:
    assert _Toy.params == [["a", "b"]] and _Toy.param_names == ["x"]
    assert _Toy.unit == "instructions"
    toy = _Toy()
    toy.setup(_suite_with({"time_call": 1234}), "a")
    assert toy.track_call(_suite_with({}), "a") == 1234
    with pytest.raises(NotImplementedError, match="valgrind not found"):
        toy.setup({"unavailable": "valgrind not found: install it"}, "a")
    with pytest.raises(NotImplementedError, match="not in this commit"):
        toy.setup(_suite_with({"n/a": "not in this commit"}), "a")
    with pytest.raises(RuntimeError, match="a bug"):
        toy.setup(_suite_with({"error": "ValueError: a bug"}), "a")
    with pytest.raises(RuntimeError, match="was not counted"):
        toy.setup(_suite_with({}), "b")
    toy.setup(_suite_with({"time_call": {"error": "ZeroDivisionError"}}), "a")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        toy.track_call({}, "a")


def test_without_valgrind_every_count_is_na_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    suite = measure_suite()
    assert suite == {"unavailable": instructions.unavailable()}
    assert suite["unavailable"].startswith("valgrind not found: install Debian's valgrind")


def test_the_command_prints_each_track_as_asv_would_record_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if instructions.unavailable() is not None:
        pytest.skip(instructions.unavailable())
    monkeypatch.setenv(instructions.SELECT_VARIABLE, r"RealisticMixInstructions.*gateio")
    assert instructions.main() == 0
    lines = capsys.readouterr().out.splitlines()
    prefix = "bench_mix.RealisticMixInstructions('gateio',) "
    assert [line.partition(":")[0] for line in lines] == [
        prefix + "track_allocations_per_frame",
        prefix + "track_per_frame",
    ]
    assert lines[0].endswith(" allocations") and lines[1].endswith(" instructions")


def _first_case_of_every_count_benchmark() -> str:
    """A selection (``SELECT_VARIABLE``) of every count benchmark of the suite at its first
    parameter combination: each class once, to keep the run short."""
    names = []
    for cls in instructions._count_classes(SUITE.name):
        params = instructions._param_combinations(cls)[0]
        module = cls.__module__.partition(".")[2]
        shown = f"({', '.join(repr(value) for value in params)})" if params else ""
        for track in cls.counted_methods():
            names.append(re.escape(f"{module}.{cls.__name__}.{track}{shown}"))
    return "^(" + "|".join(names) + ")$"


def test_the_suite_counts_the_same_on_two_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every count benchmark, the monitor's included, gives the same instructions and
    allocations on two runs of the same code: nothing live (clocks, process figures,
    measured latencies) reaches what a counted call does."""
    reason = instructions.unavailable()
    if reason is not None:
        pytest.skip(reason)
    monkeypatch.setenv(instructions.SELECT_VARIABLE, _first_case_of_every_count_benchmark())
    first, second = measure_suite(), measure_suite()
    assert "unavailable" not in first
    classes = instructions._count_classes(SUITE.name)
    assert len(first["counts"]) == len(classes), sorted(first["counts"])
    assert not [key for key, entry in first["counts"].items() if "n/a" in entry]
    errors = {key: entry for key, entry in first["counts"].items() if "error" in str(entry)}
    assert not errors
    assert first["counts"] == second["counts"]
    assert first["allocations"] == second["allocations"]
