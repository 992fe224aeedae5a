"""The HFT targets table and the compliance report (``ws-stack-bench compliance``)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ws_stack_bench.cli import main
from ws_stack_bench.compliance import Status, evaluate, format_figure
from ws_stack_bench.results import load_commit
from ws_stack_bench.targets import TARGETS, Comparison, Target, benchmarks_of

from .asv_results import write_results

REPO = Path(__file__).resolve().parents[2]

HANDLE = "bench_handler.Handle.time_handle"
DIRECT = "bench_handler.Handle.time_parse_direct"
HANDLE_AXES = {
    "venue": ["mexc", "gateio"],
    "format": ["protobuf", "json"],
    "channel": ["trade", "book_ticker", "order_book"],
}


def _benchmark_class(name: str) -> tuple[type, str]:
    module, cls, method = name.split(".")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return getattr(importlib.import_module(f"benchmarks.{module}"), cls), method


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.key)
def test_every_target_maps_to_a_benchmark_of_the_suite(target: Target) -> None:
    names = (target.benchmark, target.minus, target.over, target.paired, target.bound)
    for name in filter(None, names):
        cls, method = _benchmark_class(name)
        assert callable(getattr(cls, method, None)), f"{name} is not in benchmarks/"
        params = getattr(cls, "params", [])
        if params and not isinstance(params[0], list):  # one parameter: asv's short form
            params = [params]
        axes = dict(zip(getattr(cls, "param_names", []), params, strict=True))
        wanted = {**target.params, **(target.over_params if name == target.over else {})}
        for key, value in wanted.items():
            if name == target.bound and key not in axes:  # a bound has the axes it needs
                continue
            assert key in axes, f"{name} has no parameter {key!r}"
            for one in value if isinstance(value, list) else [value]:
                assert one in axes[key], f"{name}: {key}={one!r} is not measured"
        if target.spread is not None and name != target.paired:  # paired: the spread itself
            assert target.spread in axes, f"{name} has no parameter {target.spread!r}"


def test_targets_are_unique_and_readable() -> None:
    assert len({t.key for t in TARGETS}) == len(TARGETS)
    by_key = {t.key: t for t in TARGETS}
    assert by_key["order_book"].limit == pytest.approx(45e-6)
    assert by_key["connect"].limit == pytest.approx(0.080)
    assert by_key["pool_reuse"].comparison is Comparison.AT_LEAST
    assert by_key["pool_reuse"].limit == pytest.approx(0.75)
    assert by_key["memory_per_connection"].relative
    assert by_key["memory_per_connection"].limit == pytest.approx(1.10)
    assert by_key["leaks"].limit == 0
    with pytest.raises(ValueError, match="cannot read rule"):
        Target("x", "x", "a.B.c", "about 5 us")


def _handle_values(scale: float) -> list[float]:
    # Gate.io protobuf does not exist: asv stores NaN (n/a) there.
    out = []
    for venue in HANDLE_AXES["venue"]:
        for fmt in HANDLE_AXES["format"]:
            for _ in HANDLE_AXES["channel"]:
                out.append(float("nan") if (venue, fmt) == ("gateio", "protobuf") else scale)
    return out


def _store(results_dir: Path, commit: str, date: int, values: dict[str, Any]) -> None:
    params = {HANDLE: HANDLE_AXES, DIRECT: HANDLE_AXES}
    write_results(results_dir, commit, values, params=params, date=date)


def test_evaluate_passes_fails_and_reports_missing(tmp_path: Path) -> None:
    handle = _handle_values(10e-6)
    handle[-1] = 50e-6  # gateio json order_book: over its 45 us target
    _store(
        tmp_path,
        "a" * 40,
        1,
        {
            HANDLE: handle,
            DIRECT: _handle_values(8e-6),
            "bench_pool.HandlerStream.track_reuse_ratio": 0.9,
        },
    )
    results = load_commit(tmp_path, "a" * 40)
    rows = {row.target.key: row for row in evaluate(results, lambda name: None)}
    assert rows["order_book"].status is Status.FAIL
    assert rows["order_book"].measured == pytest.approx(50e-6)
    assert "channel=order_book" in rows["order_book"].detail
    assert rows["trade"].status is Status.PASS
    # The overhead target is handle minus direct parse at the same parameters: 42 us here.
    assert rows["template_overhead"].status is Status.FAIL
    assert rows["template_overhead"].measured == pytest.approx(42e-6)
    assert rows["pool_reuse"].status is Status.PASS
    assert rows["connect"].status is Status.MISSING
    assert rows["memory_per_connection"].status is Status.MISSING


def test_a_paired_difference_decides_the_overhead_where_measured(tmp_path: Path) -> None:
    paired = "bench_handler.HandleMinusParser.track_overhead"
    values = {HANDLE: _handle_values(14e-6), DIRECT: _handle_values(8e-6)}
    overhead = _handle_values(1e-6)
    overhead[2] = 2e-6  # mexc protobuf order_book
    params = {HANDLE: HANDLE_AXES, DIRECT: HANDLE_AXES, paired: HANDLE_AXES}
    units = dict.fromkeys(params, "seconds")
    write_results(tmp_path, "5" * 40, {**values, paired: overhead}, params=params, units=units)
    (target,) = [t for t in TARGETS if t.key == "template_overhead"]
    (row,) = evaluate(load_commit(tmp_path, "5" * 40), lambda name: None, [target])
    # Apart, every frame reads 6 us (a FAIL); paired in one process, 2 us at worst.
    assert (row.status, row.measured) == (Status.PASS, pytest.approx(2e-6))
    assert row.detail == (
        "venue=mexc, format=protobuf, channel=order_book; "
        "paired in one process; apart 14 us - 8 us = 6 us"
    )


def test_relative_targets_compare_with_the_baseline(tmp_path: Path) -> None:
    name = "bench_memory.ConnectionMemory.track_bytes_retained_per_connection"
    _store(tmp_path, "b" * 40, 1, {name: 1000.0})
    _store(tmp_path, "c" * 40, 2, {name: 1200.0})
    baseline = load_commit(tmp_path, "b" * 40)
    rows = evaluate(load_commit(tmp_path, "c" * 40), lambda n: baseline)
    row = next(r for r in rows if r.target.key == "memory_per_connection")
    assert row.status is Status.FAIL
    assert row.measured == pytest.approx(1.2)
    assert "baseline bbbbbbbb" in row.detail
    assert format_figure(row.measured, "factor") == "120.0 % of baseline"


@pytest.mark.parametrize(
    ("value", "display", "text"),
    [(12.3e-6, "time", "12.3 us"), (0.081, "time", "81 ms"), (0.9992, "ratio", "99.9 %"),
     (0, "count", "0"), (None, "time", "-"), (450e-9, "time", "450 ns")],
)  # fmt: skip
def test_figures_read_as_a_person_writes_them(value: Any, display: str, text: str) -> None:
    assert format_figure(value, display) == text


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits with an asv configuration whose results the test writes itself."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "asv.conf.json").write_text(
        '// comments are allowed, as in asv\n{"version": 1, "project": "x", "repo": ".",'
        ' "branches": ["main"], "env_dir": ".asv/env", "results_dir": ".asv/results",'
        ' "html_dir": "html"}\n'
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    for message in ("one", "two"):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], cwd=root, check=True)
    return root


def _head(root: Path, rev: str = "HEAD") -> str:
    done = subprocess.run(["git", "rev-parse", rev], cwd=root, capture_output=True, text=True)
    return done.stdout.strip()


def test_command_exits_1_on_a_fail_and_prints_the_table(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handle = _handle_values(10e-6)
    handle[-1] = 50e-6
    _store(repo / ".asv/results", _head(repo), 2, {HANDLE: handle})
    assert main(["--root", str(repo), "compliance"]) == 1
    out = capsys.readouterr().out
    assert "Order-book processing (Gate.io)" in out
    line = next(line for line in out.splitlines() if "Order-book processing (Gate.io)" in line)
    assert "FAIL" in line and "50 us" in line and "< 45 us" in line
    assert "PASS" in out
    assert "FAIL" in out.splitlines()[-1] or "1 FAIL" in out


def test_command_exits_0_when_every_measured_target_passes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "bench_memory.ConnectionMemory.track_bytes_retained_per_connection"
    _store(repo / ".asv/results", _head(repo, "HEAD^"), 1, {name: 1000.0})
    _store(repo / ".asv/results", _head(repo), 2, {HANDLE: _handle_values(1e-6), name: 1050.0})
    assert main(["--root", str(repo), "compliance", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "105.0 % of baseline" in out
    # Unmeasured targets are shown as n/a; --strict makes them fail the report.
    assert main(["--root", str(repo), "compliance", "--strict"]) == 1


def test_command_without_results_says_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(repo), "compliance", "--stored-only"]) == 2
    assert "make bench" in capsys.readouterr().err


# -- ratio targets: each value against its floor, measured in the same run ----------------

PARSE = "bench_codec.ParseOrderBook.time_parse"
FLOOR = "bench_codec.ParseOrderBook.time_floor"
PARSE_AXES = {"venue": ["mexc", "gateio"], "depth": [5, 20]}


def _ratio_results(tmp_path: Path, parse: list[float], floor: list[float]) -> Any:
    axes = {PARSE: PARSE_AXES, FLOOR: PARSE_AXES}
    write_results(tmp_path, "d" * 40, {PARSE: parse, FLOOR: floor}, params=axes)
    return load_commit(tmp_path, "d" * 40)


def test_a_ratio_target_divides_by_its_floor_at_the_same_parameters(tmp_path: Path) -> None:
    # mexc 5, mexc 20, gateio 5, gateio 20
    results = _ratio_results(tmp_path, [4.0, 12.0, 2.0, 4.5], [1.0, 2.0, 1.5, 3.0])
    target = Target("r", "r", PARSE, "<= 1.5x", {"venue": "gateio"}, over=FLOOR)
    (row,) = evaluate(results, lambda name: None, [target])
    assert row.status is Status.PASS
    assert row.measured == pytest.approx(1.5)  # gateio at 20 levels; 5 levels is 1.33x
    assert "depth=20" in row.detail and "4.5 x / 3 x" in row.detail
    both = {"venue": ["mexc", "gateio"], "depth": 20}
    target = Target("r", "r", PARSE, "<= 2x", both, over=FLOOR)
    (row,) = evaluate(results, lambda name: None, [target])
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(6.0))
    assert format_figure(row.measured, target.display) == "6.00x"


def test_a_ratio_can_compare_parameters_of_one_benchmark_or_be_inverted(tmp_path: Path) -> None:
    results = _ratio_results(tmp_path, [4.0, 12.0, 2.0, 4.5], [1.0, 2.0, 1.5, 3.0])
    growth = Target("g", "g", PARSE, "<= 4x", {"depth": 20}, over=PARSE, over_params={"depth": 5})
    (row,) = evaluate(results, lambda name: None, [growth])
    assert (row.status, row.measured) == (Status.PASS, pytest.approx(3.0))  # mexc 12 / 4
    rate = Target("t", "t", PARSE, ">= 70 %", {"depth": 20}, over=FLOOR, inverse=True)
    (row,) = evaluate(results, lambda name: None, [rate])
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(2.0 / 12.0))
    assert format_figure(row.measured, rate.display) == "16.7 %"


def test_a_ratio_between_parameters_can_be_paired_too(tmp_path: Path) -> None:
    paired = "bench_codec.ParseOrderBookOverFiveLevels.track_ratio"
    values = {PARSE: [4.0, 12.0, 2.0, 4.5], paired: [2.5, 2.1]}  # paired: depth 20 only
    params = {PARSE: PARSE_AXES, paired: {"venue": ["mexc", "gateio"], "depth": [20]}}
    write_results(tmp_path, "6" * 40, values, params=params)
    growth = Target("g", "g", PARSE, "<= 2.4x", {"depth": 20}, over=PARSE,
                    over_params={"depth": 5}, paired=paired)  # fmt: skip
    (row,) = evaluate(load_commit(tmp_path, "6" * 40), lambda name: None, [growth])
    # Apart, mexc grows 3.0x (12 / 4); paired in one process, 2.5x.
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(2.5))
    assert row.detail == "venue=mexc, depth=20; paired in one process; apart 12 x / 4 x = 3.00x"


def test_a_paired_ratio_decides_where_measured_and_both_figures_stay_shown(
    tmp_path: Path,
) -> None:
    paired = "bench_codec.ParseOrderBookOverFloor.track_ratio"
    axes = {"venue": ["mexc", "gateio"], "depth": [20]}
    # apart: mexc 12 / 2 = 6x, gateio 4.5 / 3 = 1.5x; paired in one process: 5.0x, 1.2x
    write_results(
        tmp_path,
        "c" * 40,
        {PARSE: [12.0, 4.5], FLOOR: [2.0, 3.0], paired: [5.0, 1.2]},
        params={PARSE: axes, FLOOR: axes, paired: axes},
    )
    results = load_commit(tmp_path, "c" * 40)
    target = Target("r", "r", PARSE, "<= 1.3x", {"venue": "gateio"}, over=FLOOR, paired=paired)
    (row,) = evaluate(results, lambda name: None, [target])
    assert (row.status, row.measured) == (Status.PASS, pytest.approx(1.2))
    assert "paired in one process; apart 4.5 x / 3 x = 1.50x" in row.detail
    # Without a paired value (a commit before the paired benchmark), the two figures decide.
    write_results(tmp_path, "b" * 40, {PARSE: [12.0, 4.5], FLOOR: [2.0, 3.0]},
                  params={PARSE: axes, FLOOR: axes})  # fmt: skip
    (row,) = evaluate(load_commit(tmp_path, "b" * 40), lambda name: None, [target])
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(1.5))
    assert "paired" not in row.detail


def test_only_a_ratio_spread_or_difference_is_paired_only_a_floor_ratio_bounded() -> None:
    with pytest.raises(ValueError, match="paired"):
        Target("r", "r", PARSE, "<= 2x", paired="a.B.track_ratio")
    with pytest.raises(ValueError, match="bound"):
        Target("s", "s", PARSE, "<= 1.2x", spread="depth", bound="a.B.track_ratio")
    with pytest.raises(ValueError, match="bound"):
        Target("r", "r", PARSE, "<= 4x", over=PARSE, over_params={"depth": 5},
               bound="a.B.track_ratio")  # fmt: skip
    Target("s", "s", PARSE, "<= 1.2x", spread="depth", paired="a.B.track_spread")
    Target("r", "r", PARSE, "<= 4x", over=PARSE, over_params={"depth": 5},
           paired="a.B.track_ratio")  # fmt: skip
    Target("d", "d", PARSE, "< 5 us", minus=FLOOR, paired="a.B.track_overhead")
    Target("r", "r", PARSE, ">= 70 %", over=FLOOR, inverse=True, paired="a.B.track_ratio",
           bound="a.C.track_ratio")  # fmt: skip
    Target("p", "p", "a.B.track_ratio", ">= 1.5x", bound="a.C.track_ratio")  # a ratio itself
    with pytest.raises(ValueError, match="bound"):
        Target("t", "t", PARSE, "< 5 us", bound="a.C.track_ratio")


def test_an_inverse_paired_ratio_is_inverted_like_its_figures(tmp_path: Path) -> None:
    # Times per frame: ws_stack 40 / bare 20 apart (50 %); paired in one process 1.6x (62.5 %).
    e2e = "bench_connection.EndToEnd.time_1000_frames"
    bare = "bench_connection.BareReceive.time_1000_frames"
    paired = "bench_connection.EndToEndOverBare.track_ratio"
    axes = {"venue": ["mexc", "gateio"]}
    write_results(tmp_path, "9" * 40, {e2e: [40.0, 30.0], bare: [20.0, 20.0], paired: [1.6, 1.25]},
                  params={e2e: axes, bare: axes, paired: axes})  # fmt: skip
    target = Target("t", "t", e2e, ">= 70 %", over=bare, inverse=True, paired=paired)
    (row,) = evaluate(load_commit(tmp_path, "9" * 40), lambda name: None, [target])
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(1 / 1.6))  # mexc
    assert row.detail.startswith("venue=mexc; paired in one process; apart 20 x / 40 x = 0.50x")


def test_a_bound_is_shown_with_whether_the_rule_is_within_reach(tmp_path: Path) -> None:
    paired = "bench_codec.ParseOrderBookOverFloor.track_ratio"
    bound = "bench_codec.MexcDepthBoundOverFloor.track_ratio"  # no parameters
    axes = {"venue": ["mexc", "gateio"], "depth": [20]}
    values = {PARSE: [12.0, 4.5], FLOOR: [2.0, 3.0], paired: [5.0, 1.2], bound: 2.9}
    params = {PARSE: axes, FLOOR: axes, paired: axes}
    write_results(tmp_path, "8" * 40, values, params=params)
    results = load_commit(tmp_path, "8" * 40)
    target = Target("r", "r", PARSE, "<= 2x", {"venue": "mexc"}, over=FLOOR, paired=paired,
                    bound=bound)  # fmt: skip
    (row,) = evaluate(results, lambda name: None, [target])
    # The paired ratio decides, never the bound.
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(5.0))
    assert row.detail.endswith("; bound 2.90x: out of reach")
    (row,) = evaluate(results, lambda name: None, [replace(target, rule="<= 6x")])
    assert row.status is Status.PASS and row.detail.endswith("; bound 2.90x: within reach")
    # An inverse target's bound is inverted too, and taken at the deciding venue.
    rate = Target("t", "t", PARSE, ">= 70 %", over=FLOOR, inverse=True, bound=paired)
    (row,) = evaluate(results, lambda name: None, [rate])
    assert row.detail.startswith("venue=mexc") and row.detail.endswith("bound 20.0 %: out of reach")
    # No value of the bound: nothing is said about it.
    write_results(tmp_path, "7" * 40, {PARSE: [12.0, 4.5], FLOOR: [2.0, 3.0]},
                  params={PARSE: axes, FLOOR: axes})  # fmt: skip
    (row,) = evaluate(load_commit(tmp_path, "7" * 40), lambda name: None, [target])
    assert row.status is Status.FAIL and "bound" not in row.detail


def test_a_ratio_without_its_floor_is_missing(tmp_path: Path) -> None:
    write_results(tmp_path, "e" * 40, {PARSE: [1.0, 2.0, 3.0, 4.0]}, params={PARSE: PARSE_AXES})
    target = Target("r", "r", PARSE, "<= 2x", over=FLOOR)
    (row,) = evaluate(load_commit(tmp_path, "e" * 40), lambda name: None, [target])
    assert row.status is Status.MISSING


def test_a_spread_target_compares_largest_and_smallest_per_group(tmp_path: Path) -> None:
    name = "bench_connection.Subscriptions.track_frame_time"
    axes = {"venue": ["mexc", "gateio"], "subscriptions": [1, 30, 300]}
    values = [10.0, 11.0, 11.5, 10.0, 10.5, float("nan")]
    write_results(tmp_path, "f" * 40, {name: values}, params={name: axes})
    target = Target("s", "s", name, "<= 1.2x", spread="subscriptions")
    (row,) = evaluate(load_commit(tmp_path, "f" * 40), lambda name: None, [target])
    assert (row.status, row.measured) == (Status.PASS, pytest.approx(1.15))
    assert row.detail.startswith("venue=mexc; subscriptions=300: 11.5 x vs subscriptions=1")
    # The spread measured in one process decides, per venue, where it has a value.
    paired = "bench_connection.SubscriptionsSpread.track_spread"
    write_results(tmp_path, "f" * 40, {name: values, paired: [1.1, 1.3]},
                  params={name: axes, paired: {"venue": ["mexc", "gateio"]}})  # fmt: skip
    results = load_commit(tmp_path, "f" * 40)
    target = Target("s", "s", name, "<= 1.2x", {"venue": "mexc"}, spread="subscriptions",
                    paired=paired)  # fmt: skip
    (row,) = evaluate(results, lambda name: None, [target])
    assert (row.status, row.measured) == (Status.PASS, pytest.approx(1.1))
    assert "paired in one process; apart subscriptions=300: 11.5 x vs" in row.detail
    (row,) = evaluate(results, lambda name: None, [replace(target, params={})])
    assert (row.status, row.measured) == (Status.FAIL, pytest.approx(1.3))  # Gate.io


def test_a_paired_figure_decides_without_the_separate_benchmarks(tmp_path: Path) -> None:
    # A commit measured for its targets alone has the paired ratio only.
    target = Target(
        key="t", title="t", benchmark=PARSE, rule="<= 2x", over=FLOOR,
        paired="bench_codec.ParseOrderBookOverFloor.track_ratio",
    )  # fmt: skip
    results_dir = tmp_path / "results"
    write_results(results_dir, "c" * 40, {target.paired: [1.5, 2.5]},
                  params={target.paired: {"venue": ["mexc", "gateio"]}})  # fmt: skip
    (row,) = evaluate(load_commit(results_dir, "c" * 40), lambda name: None, (target,))
    assert row.status is Status.FAIL and row.measured == 2.5
    assert row.detail == "venue=gateio; paired in one process"


def test_a_commit_is_measured_for_what_decides_its_targets() -> None:
    names = set(benchmarks_of())
    for target in TARGETS:
        if target.paired is not None:
            assert target.paired in names
        else:
            assert target.benchmark in names
            assert {target.over, target.minus} - {None} <= names
        if target.bound is not None:
            assert target.bound in names
    # The separate halves of a paired ratio are not needed, and the slowest benchmarks.
    assert "bench_connection.EndToEnd.time_1000_frames" not in names
    assert "bench_connection.BareReceive.time_1000_frames" not in names


def test_a_lone_frame_target_is_judged_at_p95_with_its_p99_beside(tmp_path: Path) -> None:
    p95, p99 = (
        "bench_handler.LoneFrame.track_handle_p95",
        "bench_handler.LoneFrame.track_handle_p99",
    )
    values = {p95: _handle_values(10e-6), p99: _handle_values(70e-6)}
    values[p95][-1] = 46e-6  # gateio json order_book: over its 45 us, judged at p95
    write_results(tmp_path, "a" * 40, values, params=dict.fromkeys(values, HANDLE_AXES))
    rows = {row.target.key: row for row in evaluate(load_commit(tmp_path, "a" * 40),
                                                    lambda name: None)}  # fmt: skip
    assert rows["lone_order_book"].status is Status.FAIL
    assert rows["lone_order_book"].measured == pytest.approx(46e-6)
    # The p99 is shown, never deciding: 70 us fails no trade target of 25 us.
    assert "p99 70 us" in rows["lone_order_book"].detail
    assert rows["lone_trade"].status is Status.PASS
    assert "p99 70 us" in rows["lone_trade"].detail
    assert p99 in benchmarks_of()  # measured where a commit is judged
