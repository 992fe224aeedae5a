"""The regression gate (``ws_stack.bench.gate``): planted regressions fail, unchanged passes.

The end-to-end tests use the session's throwaway clone (see ``conftest.py``); the verdict
mapping of asv's exit statuses is also checked without asv, with its output faked.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from ws_stack.bench import gate
from ws_stack.bench.gate import Outcome, run_gate
from ws_stack.bench.project import Project

from .asv_results import write_results
from .conftest import GateHistory


def _explain(history: GateHistory, output: str) -> str:
    return f"clone {history.clone}; asv said:\n{output[-4000:]}"


@pytest.mark.slow
def test_unchanged_pair_passes(gate_history: GateHistory) -> None:
    verdict = gate_history.unchanged_verdict
    assert verdict.outcome is Outcome.PASS, _explain(gate_history, gate_history.unchanged_output)
    assert verdict.exit_status == 0
    # Only a regression fails the gate. On a loaded machine asv can still call identical
    # code significantly faster (it once did for the Gate.io parse), which is no failure.
    assert verdict.regressions == [], _explain(gate_history, gate_history.unchanged_output)


@pytest.mark.slow
def test_planted_slowdown_and_pool_collapse_are_both_reported(
    gate_history: GateHistory,
) -> None:
    verdict = gate_history.planted_verdict
    explain = _explain(gate_history, gate_history.planted_output)
    assert verdict.outcome is Outcome.REGRESSION, explain
    assert verdict.exit_status == 1
    found = "\n".join(str(flag) for flag in verdict.regressions)
    assert "bench_codec.ParseOrderBook.time_parse('gateio', 'json', 'update', 20)" in found, explain
    assert "bench_pool.HandlerStream.track_miss_ratio('protobuf')" in found, explain
    # asv prints the fall of the higher-is-better reuse ratio as an improvement; the gate
    # reports it as a regression of its own.
    assert "bench_pool.HandlerStream.track_reuse_ratio('protobuf')" in found, explain


@pytest.mark.slow
def test_gate_keeps_out_of_the_main_history(gate_history: GateHistory) -> None:
    measured = {gate_history.base[:8], gate_history.unchanged[:8], gate_history.planted[:8]}
    main_results = Project(gate_history.clone).results_dir  # the history git tracks
    assert not {path.name[:8] for path in main_results.glob("*/*-*.json")} & measured
    recorded = {path.name[:8] for path in gate_history.results_dir.glob("*/*-*.json")}
    assert {gate_history.base[:8], gate_history.planted[:8]} <= recorded


# -- the verdict mapping, with asv faked ---------------------------------------------------


@pytest.fixture
def tiny_project(tmp_path: Path) -> Project:
    """A two-commit repository with an asv configuration (asv itself is never run)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "asv.conf.json").write_text(
        '{"version": 1, "project": "x", "repo": ".", "branches": ["main"],'
        ' "env_dir": ".asv/env", "results_dir": ".asv/results", "html_dir": "html"}\n'
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    for message in ("one", "two"):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], cwd=repo, check=True)
    return Project(repo)


def _fake_asv(monkeypatch: pytest.MonkeyPatch, *runs: tuple[int, str]) -> list[list[str]]:
    """asv continuous answers ``runs`` in turn (the last one again and again)."""
    commands: list[list[str]] = []

    def tee(command: list[str], cwd: Path, out: io.StringIO) -> tuple[int, str]:
        if "machine" in command:
            return 0, ""
        commands.append(command)
        return runs[min(len(commands), len(runs)) - 1]

    monkeypatch.setattr(gate, "_tee", tee)
    return commands


# asv's table as `asv continuous` prints it (GitHub format; padding trimmed here).
TABLE = """\
| Change | Before [aaaaaaaa] <main~1> | After [bbbbbbbb] <main> | Ratio | Benchmark (Parameter) |
|--------|----------------------------|-------------------------|-------|-----------------------|
| +      | 4.33±0.05μs                | 8.29±2μs                |  1.91 | bench_x.A.time_b(20)  |
|        | 1.00±0.01μs                | 1.01±0.01μs             |  1.01 | bench_x.A.time_c      |

SOME BENCHMARKS HAVE CHANGED SIGNIFICANTLY.
PERFORMANCE DECREASED.
"""


def test_status_1_with_a_worse_table_is_a_regression(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = _fake_asv(monkeypatch, (1, TABLE))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    assert [str(flag) for flag in verdict.regressions] == [
        "bench_x.A.time_b(20): 4.33±0.05μs -> 8.29±2μs (1.91x)"
    ]
    # The flagged benchmark was measured again, alone, before it counted.
    assert len(commands) == 2
    assert commands[1][commands[1].index("-b") + 1] == r"^bench_x\.A\.time_b\(20\)$"


def test_a_regression_that_does_not_reproduce_passes(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_asv(monkeypatch, (1, TABLE), (0, "BENCHMARKS NOT SIGNIFICANTLY CHANGED.\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert [flag.key for flag in verdict.unconfirmed] == ["bench_x.A.time_b(20)"]


def test_status_1_without_a_table_is_a_tool_error(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_asv(monkeypatch, (1, "· Unknown commit nosuchrev\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.ERROR
    assert verdict.exit_status == 3


def test_status_2_is_a_broken_benchmark_or_build(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_asv(monkeypatch, (2, "·· Error running bench_x.A.time_b\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.BROKEN
    assert verdict.exit_status == 2
    assert verdict.failures  # named from the results, or "no results recorded"


def test_status_0_passes(tiny_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_asv(monkeypatch, (0, "BENCHMARKS NOT SIGNIFICANTLY CHANGED.\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert verdict.base == tiny_project.rev_parse("HEAD^")


def test_a_fall_of_a_higher_is_better_metric_fails_even_when_asv_passes(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    results_dir = tiny_project.work_dir / "gate" / "results"
    name = "bench_pool.HandlerStream.track_reuse_ratio"
    write_results(results_dir, tiny_project.rev_parse("HEAD^"), {name: 0.999})
    write_results(results_dir, tiny_project.rev_parse("HEAD"), {name: 0.1})
    _fake_asv(monkeypatch, (0, "SOME BENCHMARKS HAVE CHANGED SIGNIFICANTLY.\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    assert [str(flag) for flag in verdict.regressions] == [
        f"{name}: 0.999 -> 0.1 (higher is better)"
    ]


def test_unknown_base_is_a_tool_error(tiny_project: Project) -> None:
    verdict = run_gate(tiny_project, "no-such-revision", out=io.StringIO())
    assert verdict.outcome is Outcome.ERROR
    assert "no-such-revision" in verdict.message
