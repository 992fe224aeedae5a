"""Shards of the history's plan (``history --shard K/N``) and ``ws-stack-bench merge``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ws_stack_bench import history
from ws_stack_bench.cli import main
from ws_stack_bench.history import Stretch
from ws_stack_bench.merge import MergeError, merge
from ws_stack_bench.results import load_commit

from .asv_results import write_results

PLAN = [Stretch((f"{n}" * 40,), f"{n}" * 40) for n in range(1, 6)]  # oldest first


def test_shards_split_the_plan_newest_first_without_overlap() -> None:
    first, second = history.shard(PLAN, 1, 2), history.shard(PLAN, 2, 2)
    assert [s.measured[0] for s in first] == ["1", "3", "5"]  # oldest first, as planned
    assert [s.measured[0] for s in second] == ["2", "4"]
    assert PLAN[-1] in first  # the newest stretch: shard 1 publishes the tip first
    assert sorted(first + second, key=PLAN.index) == PLAN
    assert history.shard(PLAN, 1, 1) == PLAN
    assert [s.measured[0] for s in history.shard(PLAN, 3, 3)] == ["3"]
    with pytest.raises(ValueError, match="want 1 <= K <= N"):
        history.shard(PLAN, 3, 2)


def test_the_shard_option_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["history", "--shard", "3/2"])
    assert "want 1 <= K <= N" in capsys.readouterr().err


COUNT = "bench_x.AInstructions.track_a"
TIME = "bench_x.A.time_a"


def _shard_results(root: Path, commit: str, values: dict[str, float | None]) -> Path:
    results_dir = root / "results"
    write_results(results_dir, commit, values, machine="ci")
    return results_dir


def test_merged_shards_hold_what_one_run_holds(tmp_path: Path) -> None:
    one, two, tip = "a" * 40, "b" * 40, "c" * 40
    whole = tmp_path / "whole" / "results"
    for commit, count in ((one, 100.0), (two, 110.0), (tip, 120.0)):
        write_results(whole, commit, {COUNT: count}, machine="ci")
    shard_1 = _shard_results(tmp_path / "s1", tip, {COUNT: 120.0})
    write_results(shard_1, one, {COUNT: 100.0}, machine="ci")
    shard_2 = _shard_results(tmp_path / "s2", two, {COUNT: 110.0})
    history_dir = tmp_path / "history" / "results"
    report = merge(history_dir, [shard_1, shard_2])
    assert len(report.added) == 3 and not report.merged and not report.kept
    for commit in (one, two, tip):
        merged_values = load_commit(history_dir, commit, "ci").values(COUNT)
        assert merged_values == load_commit(whole, commit, "ci").values(COUNT)
    assert (history_dir / "ci" / "machine.json").is_file()
    assert COUNT in json.loads((history_dir / "benchmarks.json").read_text())
    # Merging again changes nothing.
    again = merge(history_dir, [shard_1, shard_2])
    assert len(again.same) == 3 and not again.added and not again.merged


def test_one_commit_on_both_sides_is_united_benchmark_by_benchmark(tmp_path: Path) -> None:
    commit = "d" * 40
    history_dir = _shard_results(tmp_path / "history", commit, {COUNT: 100.0, TIME: None})
    other = _shard_results(tmp_path / "other", commit, {TIME: 2e-6, "bench_x.B.time_b": 1e-6})
    report = merge(history_dir, [other])
    assert report.merged == [f"ci/{commit[:8]}-virtualenv-py3.11.json"]
    stored = load_commit(history_dir, commit, "ci")
    assert stored.values(COUNT)[0].value == 100.0  # only the history had it
    assert stored.values(TIME)[0].value == 2e-6  # failed in the history: the other's
    assert stored.values("bench_x.B.time_b")[0].value == 1e-6  # only the other had it
    # Both measured it, differently: the history's value stays, and the report says so.
    third = _shard_results(tmp_path / "third", commit, {COUNT: 101.0})
    report = merge(history_dir, [third])
    assert report.kept == [f"ci/{commit[:8]}-virtualenv-py3.11.json: {COUNT}"]
    assert load_commit(history_dir, commit, "ci").values(COUNT)[0].value == 100.0


def test_what_is_not_asv_results_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(MergeError, match="not an asv results directory"):
        merge(tmp_path / "results", [tmp_path / "notes"])
    with pytest.raises(MergeError, match="the history itself"):
        merge(tmp_path / "notes", [tmp_path / "notes"])
