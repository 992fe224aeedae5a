"""The regression gate (``ws_stack_bench.gate``): planted regressions fail, unchanged passes.

The end-to-end tests use the session's throwaway clone (see ``conftest.py``): counts need
no tolerance for noise, so an unchanged pair must compare equal to the instruction and a
planted 5 % must be reported. The verdicts of asv's exit statuses, of the counted and the
timed parts and the Markdown verdict are also checked without asv, with its output faked.
"""

from __future__ import annotations

import io
import json
import math
import platform
import re
from pathlib import Path

import pytest

from ws_stack_bench import gate
from ws_stack_bench.gate import Outcome, run_gate, write_markdown
from ws_stack_bench.project import Project
from ws_stack_bench.where import Address, Shift, differential

from .asv_results import write_results
from .conftest import PLANTED_KEY, GateHistory
from .repository import Repository


def _explain(history: GateHistory, output: str) -> str:
    return f"clone {history.clone}; asv said:\n{output[-4000:]}"


@pytest.mark.slow
def test_unchanged_pair_passes_with_every_count_equal(gate_history: GateHistory) -> None:
    verdict = gate_history.unchanged_verdict
    explain = _explain(gate_history, gate_history.unchanged_output)
    assert verdict.outcome is Outcome.PASS, explain
    assert verdict.exit_status == 0
    assert verdict.compared >= 20, explain  # 18 order-book parse counts, 4 pool figures
    # Identical code, identical counts: not even an improvement.
    assert verdict.regressions == [] and verdict.improvements == [], explain
    assert any("CPU instructions" in line for line in verdict.decided_on), explain


@pytest.mark.slow
def test_two_runs_count_the_same_instructions(gate_history: GateHistory) -> None:
    first, second = gate_history.unchanged_counts
    assert len(first) >= 18  # every order-book parse combination of the two venues
    assert first == second


@pytest.mark.slow
def test_planted_five_percent_and_pool_collapse_are_both_reported(
    gate_history: GateHistory,
) -> None:
    verdict = gate_history.planted_verdict
    explain = _explain(gate_history, gate_history.planted_output)
    assert verdict.outcome is Outcome.REGRESSION, explain
    assert verdict.exit_status == 1
    worse = {change.key: change for change in verdict.regressions}
    planted = worse.get(PLANTED_KEY)
    assert planted is not None, explain
    assert planted.how == "counted"
    assert planted.ratio is not None and 1.02 < planted.ratio < 1.15, planted
    assert "bench_pool.HandlerStream.track_miss_ratio('protobuf')" in worse, explain
    # A fall of the higher-is-better reuse ratio is a regression too.
    assert "bench_pool.HandlerStream.track_reuse_ratio('protobuf')" in worse, explain
    # Nothing the plant did not touch moved: MEXC, snapshots.
    for key in worse:
        assert "bench_pool" in key or "'gateio', 'json', 'update'" in key, key
    # Base and head were counted at the same time, each side's output marked as its own.
    assert "[base] " in gate_history.planted_output
    assert "[head] " in gate_history.planted_output
    printed = io.StringIO()
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, printed)
    assert f"counted: {PLANTED_KEY}" in printed.getvalue()
    # Where: the planted wrapper (named as the parser it wraps), and nothing else.
    address = verdict.where[PLANTED_KEY]
    (shift,) = address.python
    assert (shift.file, shift.function) == ("ws_stack/gateio/decoder.py", "parse_order_book_update")
    assert shift.after > shift.before
    # In C: first of all the interpreter's loop, which runs the wrapper.
    assert address.c[0].function == "_PyEval_EvalFrameDefault" and address.c[0].change > 0
    printed = io.StringIO()
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, printed)
    assert "    where, by Python function (executed bytecodes per call):" in printed.getvalue()
    assert "    where, by C function (instructions per call, callgrind):" in printed.getvalue()


@pytest.mark.slow
def test_the_verdict_links_flame_graphs_where_the_planted_wrapper_grew(
    gate_history: GateHistory, tmp_path: Path
) -> None:
    verdict = gate_history.planted_verdict
    gate.write_flame_graphs(Project(gate_history.clone), verdict, tmp_path / gate.FLAME_FOLDER)
    page = verdict.flame_graphs[PLANTED_KEY]
    assert page.parent == tmp_path / gate.FLAME_FOLDER and page.is_file()
    assert (tmp_path / gate.FLAME_FOLDER / "vendor" / "d3@7.9.0" / "dist" / "d3.min.js").is_file()
    markdown = tmp_path / "gate.md"
    write_markdown(verdict, gate.DEFAULT_THRESHOLD, markdown)
    assert f"[Flame graphs]({gate.FLAME_FOLDER}/{page.name})" in markdown.read_text()
    printed = io.StringIO()
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, printed)
    assert f"    flame graphs: {page}" in printed.getvalue()
    # In the head's tree, the frame whose own work grew most is the planted wrapper (named
    # as the parser it wraps, at the line it was planted), not the parser it calls.
    base_tree, head_tree = verdict.where[PLANTED_KEY].trees["python"]
    frames, stack = [], [differential(base_tree, head_tree)]
    while stack:
        frames.append(stack.pop())
        stack += frames[-1]["children"]
    grew = max(frames, key=lambda node: node["delta"])
    assert grew["name"].startswith("parse_order_book_update (ws_stack/gateio/decoder.py:"), grew
    parsers = [node for node in frames if node["name"].startswith("parse_order_book_update")]
    assert len(parsers) == 2 and min(node["delta"] for node in parsers) == 0, parsers


@pytest.mark.slow
def test_gate_keeps_out_of_the_main_history(gate_history: GateHistory) -> None:
    measured = {gate_history.base[:8], gate_history.unchanged[:8], gate_history.planted[:8]}
    main_results = Project(gate_history.clone).results_dir  # the history git tracks
    assert not {path.name[:8] for path in main_results.glob("*/*-*.json")} & measured
    recorded = {path.name[:8] for path in gate_history.results_dir.glob("*/*-*.json")}
    assert {gate_history.base[:8], gate_history.planted[:8]} <= recorded


# -- the verdicts, with asv faked --------------------------------------------------------


@pytest.fixture
def tiny_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A two-commit repository with an asv configuration (asv itself is never run); the
    change is to the connection code, which both the counts and the timings measure."""
    repository = Repository(tmp_path / "repo")
    repository.commit("one", "src/ws_stack/asyncio/connection.py", "one\n")
    repository.commit("two", "src/ws_stack/asyncio/connection.py", "two\n")
    monkeypatch.setattr(gate, "counting_unavailable", lambda: None)
    return repository.project


def _results_dir(project: Project) -> Path:
    return project.work_dir / "gate" / "results"


def _fake_asv(monkeypatch: pytest.MonkeyPatch, *runs: tuple[int, str]) -> list[list[str]]:
    """asv continuous answers ``runs`` in turn (the last one again and again); the
    environments they were given go to ``environments``."""
    commands: list[list[str]] = []

    def tee(
        command: list[str], cwd: Path, out: io.StringIO, env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        if "machine" in command:
            return 0, ""
        commands.append(command)
        environments.append(env)
        return runs[min(len(commands), len(runs)) - 1]

    def run_at_once(
        sides: list[tuple[str, list[str]]], cwd: Path, out: io.StringIO, env: dict[str, str] | None
    ) -> list[tuple[int, str]]:
        # The counted part's runs, base and head at once: one answer for both, recorded
        # as one command (the first side's).
        answer = tee(sides[0][1], cwd, out, env)
        return [answer for _ in sides]

    monkeypatch.setattr(gate, "_tee", tee)
    monkeypatch.setattr(gate, "_run_at_once", run_at_once)
    return commands


environments: list[dict[str, str] | None] = []


def _selected(command: list[str]) -> list[str]:
    return [command[i + 1] for i, word in enumerate(command) if word == "-b"]


def _suite(project: Project, *names: str) -> None:
    """The benchmarks asv discovered, as it leaves them in the results directory."""
    path = _results_dir(project) / "benchmarks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 2, **{name: {"name": name} for name in names}}))


COUNT = "bench_x.AInstructions.track_b"
NOTHING_WORSE = "BENCHMARKS NOT SIGNIFICANTLY CHANGED.\n"


def _counts(project: Project, before: float, after: float, name: str = COUNT) -> None:
    units = {name: "instructions"}
    write_results(_results_dir(project), project.rev_parse("HEAD^"), {name: before}, units=units)
    write_results(_results_dir(project), project.rev_parse("HEAD"), {name: after}, units=units)


@pytest.mark.parametrize(
    ("after", "outcome", "worse", "better"),
    [
        (1030.0, Outcome.REGRESSION, 1, 0),  # 3 % more: beyond 2 %
        (1015.0, Outcome.PASS, 0, 0),  # 1.5 % more: within
        (900.0, Outcome.PASS, 0, 1),  # 10 % fewer: an improvement, reported
    ],
)
def test_a_count_is_judged_against_the_threshold_in_one_run(
    tiny_project: Project,
    monkeypatch: pytest.MonkeyPatch,
    after: float,
    outcome: Outcome,
    worse: int,
    better: int,
) -> None:
    _counts(tiny_project, 1000.0, after)
    commands = _fake_asv(monkeypatch, (1 if worse else 0, "PERFORMANCE DECREASED.\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is outcome
    assert (len(verdict.regressions), len(verdict.improvements)) == (worse, better)
    assert verdict.compared == 1
    assert len(commands) == 1  # one run, no confirmation
    assert "run" in commands[0]  # asv run at each side, not asv continuous
    assert _selected(commands[0]) == list(gate.COUNTED)


def test_a_lone_frames_cache_misses_are_judged_as_a_count(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counted twin of a lone frame: more misses beyond 2 % is a regression, found in
    the one counting run, as for instructions."""
    misses = "bench_handler.LoneFrameMisses.track_handle_ll_misses"
    assert gate.is_counted(misses)
    assert not gate.is_counted("bench_handler.LoneFrame.track_handle_p95")  # a time
    units = {misses: "misses"}
    write_results(_results_dir(tiny_project), tiny_project.rev_parse("HEAD^"), {misses: 1000.0},
                  units=units)  # fmt: skip
    write_results(_results_dir(tiny_project), tiny_project.rev_parse("HEAD"), {misses: 1100.0},
                  units=units)  # fmt: skip
    commands = _fake_asv(monkeypatch, (1, "PERFORMANCE DECREASED.\n"))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    assert [change.key for change in verdict.regressions] == [misses]
    assert verdict.regressions[0].how == "counted"
    assert len(commands) == 1


def test_a_floor_that_moved_is_shown_not_judged(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bare library call's count can move with the memory a change to ws_stack leaves
    # behind (upb's read of a MEXC frame, after a change to Gate.io's parser).
    floor = "bench_codec.MexcDepthLowerBoundInstructions.track_read_frame"
    _counts(tiny_project, 1000.0, 1030.0, name=floor)
    _fake_asv(monkeypatch, (1, "PERFORMANCE DECREASED.\n"))
    out = io.StringIO()
    verdict = run_gate(tiny_project, out=out)
    assert verdict.outcome is Outcome.PASS
    assert [change.key for change in verdict.floors_moved] == [floor]
    assert verdict.compared == 0
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, out)
    assert "Floors that moved" in out.getvalue()


def test_a_narrowed_gate_counts_only_the_selected_calls(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments.clear()
    _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    run_gate(
        tiny_project, bench=[r"ParseTradeInstructions", r"HandleInstructions"], out=io.StringIO()
    )
    selected = environments[0][gate.COUNT_SELECT_VARIABLE]  # type: ignore[index]
    assert selected == "(?:ParseTradeInstructions)|(?:HandleInstructions)"
    environments.clear()
    run_gate(tiny_project, out=io.StringIO())
    assert environments == [None]  # the whole suite: every call counted


def test_a_gate_narrowed_to_timed_benchmarks_skips_the_counts(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(tiny_project, COUNT, "bench_x.Pair.track_ratio")
    commands = _fake_asv(
        monkeypatch, (1, "· No benchmarks selected\n"), (0, NOTHING_WORSE), (0, NOTHING_WORSE)
    )
    verdict = run_gate(tiny_project, bench=[r"Pair\.track_ratio"], full=True, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS, verdict.message
    assert verdict.decided_on[0] == "counted: nothing, -b selects no counted metric"
    assert _selected(commands[1]) == [r"^bench_x\.Pair\.track_ratio(\(|$)"]  # then timed
    # The same asv answer without -b is the error it is.
    _fake_asv(monkeypatch, (1, "· No benchmarks selected\n"))
    assert run_gate(tiny_project, out=io.StringIO()).outcome is Outcome.ERROR


def test_the_threshold_is_configurable(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _counts(tiny_project, 1000.0, 1030.0)
    _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    verdict = run_gate(tiny_project, threshold=0.05, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS


def test_a_count_from_zero_is_a_regression(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _counts(tiny_project, 0.0, 2.0, name="bench_memory.GcPressure.track_gc_runs")
    _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    assert str(verdict.regressions[0]) == (
        "bench_memory.GcPressure.track_gc_runs: 0 instructions -> 2 instructions (from 0)"
    )


def test_a_fall_of_a_higher_is_better_metric_is_a_regression(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "bench_pool.HandlerStream.track_reuse_ratio"
    write_results(_results_dir(tiny_project), tiny_project.rev_parse("HEAD^"), {name: 0.999})
    write_results(_results_dir(tiny_project), tiny_project.rev_parse("HEAD"), {name: 0.1})
    _fake_asv(monkeypatch, (0, NOTHING_WORSE))  # asv calls the fall an improvement
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    change = verdict.regressions[0]
    assert change.ratio is not None and math.isclose(change.ratio, 9.99)
    assert str(change) == f"{name}: 0.999 x -> 0.1 x (higher is better) (9.990x)"


def test_a_count_that_is_na_at_head_is_listed_not_judged(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _counts(tiny_project, 1000.0, math.nan)
    _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert verdict.not_compared == [f"{COUNT}: n/a at head"]


# asv's table as `asv continuous` prints it (GitHub format; padding trimmed here).
CONNECT = "bench_connection.Connect.time_connect"
TABLE = f"""\
| Change | Before [aaaaaaaa] <main~1> | After [bbbbbbbb] <main> | Ratio | Benchmark (Parameter) |
|--------|----------------------------|-------------------------|-------|-----------------------|
| +      | 4.33±0.05ms                | 8.29±2ms                |  1.91 | {CONNECT}('mexc')     |
|        | 1.00±0.01ms                | 1.01±0.01ms             |  1.01 | {CONNECT}('gateio')   |

SOME BENCHMARKS HAVE CHANGED SIGNIFICANTLY.
PERFORMANCE DECREASED.
"""


def test_connection_timings_are_gated_after_the_counts_and_confirmed(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(tiny_project, COUNT, CONNECT, "bench_codec.ParseTrade.time_parse")
    commands = _fake_asv(monkeypatch, (0, NOTHING_WORSE), (1, TABLE))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.REGRESSION
    assert [str(change) for change in verdict.regressions] == [
        f"{CONNECT}('mexc'): 4.33±0.05ms -> 8.29±2ms (1.910x)"
    ]
    assert verdict.regressions[0].how == "timed"
    _, timed, confirm = commands
    # Only what counts cannot stand for is timed: no CPU-bound time benchmark.
    assert _selected(timed) == [f"^{re.escape(CONNECT)}(\\(|$)"]
    assert "rounds=6" in timed and "--factor=1.25" in timed
    # The flagged combination alone is measured again.
    assert _selected(confirm) == [f"^{re.escape(CONNECT)}\\('mexc'\\)$"]


def test_a_timing_that_does_not_reproduce_passes(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(tiny_project, COUNT, CONNECT)
    _fake_asv(monkeypatch, (0, NOTHING_WORSE), (1, TABLE), (0, NOTHING_WORSE))
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert [change.key for change in verdict.unconfirmed] == [f"{CONNECT}('mexc')"]


def test_full_times_every_benchmark_that_is_not_counted(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(tiny_project, COUNT, CONNECT, "bench_codec.ParseTrade.time_parse")
    commands = _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    run_gate(tiny_project, full=True, out=io.StringIO())
    assert len(_selected(commands[1])) == 2 and COUNT not in " ".join(commands[1])


def test_without_valgrind_the_gate_says_it_decides_on_time_alone(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "counting_unavailable", lambda: "valgrind not found")
    _suite(tiny_project, COUNT, CONNECT, "bench_codec.ParseTrade.time_parse")
    commands = _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    out = io.StringIO()
    verdict = run_gate(tiny_project, out=out)
    assert "valgrind not found. The gate decides on time alone." in out.getvalue()
    assert any(line.startswith("time alone") for line in verdict.decided_on)
    assert len(_selected(commands[1])) == 2  # the CPU-bound time benchmark is timed too


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


def test_unknown_base_is_a_tool_error(tiny_project: Project) -> None:
    verdict = run_gate(tiny_project, "no-such-revision", out=io.StringIO())
    assert verdict.outcome is Outcome.ERROR
    assert "no-such-revision" in verdict.message


def test_the_verdict_as_markdown(
    tiny_project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _counts(tiny_project, 64_110.0, 67_300.0)
    _fake_asv(monkeypatch, (1, "PERFORMANCE DECREASED.\n"))
    asked = []

    def where(project: Project, base: str, head: str, key: str) -> Address:
        asked.append(key)
        python = [Shift("_planted", "ws_stack/book.py", 170, 0.0, 102.0)]
        c = [Shift("_PyEval_EvalFrameDefault", "libpython3.11.so.1.0", 0, 19_608.8, 21_000.0,
                   "instructions")]  # fmt: skip
        return Address(python, c)

    monkeypatch.setattr(gate.where, "where", where)
    verdict = run_gate(tiny_project, out=io.StringIO())
    assert asked == [f"{COUNT}"]  # the address of each counted instruction regression
    write_markdown(verdict, gate.DEFAULT_THRESHOLD, tmp_path / "verdict.md")
    text = (tmp_path / "verdict.md").read_text()
    assert text.startswith("## ws_stack gate: REGRESSION\n")
    row = f"| counted | `{COUNT}` | 64,110 instructions | 67,300 instructions | 1.050x |"
    assert row in text.splitlines()
    assert "- decided on counted: CPU instructions and lone-frame cache misses (valgrind)" in text
    assert "0 of 1 counted metrics within 2%." in text
    assert f"#### Where: `{COUNT}`" in text
    assert "| `_planted` | `ws_stack/book.py:170` | 0.0 | 102.0 | +102.0 |" in text.splitlines()
    c_row = (
        "| `_PyEval_EvalFrameDefault` | `libpython3.11.so.1.0` | 19,608.8 | 21,000.0 | +1,391.2 |"
    )
    assert c_row in text.splitlines()


def test_identical_measured_code_passes_at_once_and_measures_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(tmp_path / "repo")
    repository.commit("code", "src/ws_stack/book.py", "one\n")
    repository.commit("readme", "README.md", "words\n")
    repository.commit("tests", "tests/test_book.py", "test\n")
    commands = _fake_asv(monkeypatch, (1, "a table asv never prints\n"))
    verdict = run_gate(repository.project, "HEAD~2", "HEAD", out=io.StringIO())
    assert verdict.outcome is Outcome.PASS and verdict.exit_status == 0
    assert commands == []  # no asv run: nothing is built or measured
    out = io.StringIO()
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, out)
    assert f"GATE PASS ({verdict.base[:8]} -> {verdict.head[:8]}): " in out.getvalue()
    assert "the measured code is identical" in out.getvalue()
    # A change to the measured code is measured.
    repository.commit("faster", "src/ws_stack/book.py", "two\n")
    run_gate(repository.project, "HEAD~1", "HEAD", out=io.StringIO())
    assert commands


def test_a_change_the_counts_measure_alone_skips_the_timings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(tmp_path / "repo")
    repository.commit("one", "src/ws_stack/book.py", "one\n")
    repository.commit("two", "src/ws_stack/book.py", "two\n")
    project = repository.project
    monkeypatch.setattr(gate, "counting_unavailable", lambda: None)
    _suite(project, COUNT, CONNECT)
    commands = _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    verdict = run_gate(project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert len(commands) == 1  # the counted run only
    assert verdict.skipped == [CONNECT]
    assert any(line.startswith("no timing: the change touches none") for line in verdict.decided_on)
    # --full times them all the same.
    commands.clear()
    run_gate(project, full=True, out=io.StringIO())
    assert len(commands) == 2


def test_the_base_counts_stored_after_the_suite_changed_are_taken_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(tmp_path / "repo")
    repository.commit("suite", "benchmarks/bench_x.py", "# the suite\n")
    repository.commit("one", "src/ws_stack/book.py", "one\n")
    repository.commit("two", "src/ws_stack/book.py", "two\n")
    project = repository.project
    monkeypatch.setattr(gate, "counting_unavailable", lambda: None)
    _suite(project, COUNT)
    base, head = project.rev_parse("HEAD^"), project.rev_parse("HEAD")
    suite_ms = 1000 * int(project.git("log", "-1", "--format=%ct", "--", "benchmarks"))
    units = {COUNT: "instructions"}
    # What the (faked) asv runs of both sides leave in the gate's results.
    write_results(_results_dir(project), base, {COUNT: 1000.0}, units=units)
    write_results(_results_dir(project), head, {COUNT: 1000.0}, units=units)

    def stored(at_ms: int, commit: str = base) -> None:
        write_results(project.results_dir, commit, {COUNT: 1000.0}, units=units,
                      durations={COUNT: 1.0}, date=at_ms, machine=platform.node())  # fmt: skip

    # Measured before the suite's last change: counted again, both sides at once.
    stored(suite_ms - 1000)
    commands = _fake_asv(monkeypatch, (0, NOTHING_WORSE))
    verdict = run_gate(project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS
    assert any("base and head counted at the same time" in line for line in verdict.decided_on)
    # Measured by this suite: the head alone is counted, and the verdict says so.
    stored(suite_ms + 1000)
    commands.clear()
    verdict = run_gate(project, out=io.StringIO())
    assert verdict.outcome is Outcome.PASS and verdict.compared == 1
    assert [c for c in commands[0] if c.endswith("^!")] == [f"{head}^!"]
    assert any("the base's taken from the stored history" in line for line in verdict.decided_on)
    # In another environment (another dependency, say): counted again.
    path = next((project.results_dir / platform.node()).glob(f"{base[:8]}-*.json"))
    path.rename(path.with_name(f"{base[:8]}-virtualenv-py3.11-msgspec9.9.json"))
    verdict = run_gate(project, out=io.StringIO())
    assert any("base and head counted at the same time" in line for line in verdict.decided_on)
    stored(suite_ms + 1000)
    # Narrowed with -b, it is counted again: a narrowed run is compared with its like.
    verdict = run_gate(project, bench=["AInstructions"], out=io.StringIO())
    assert any("base and head counted at the same time" in line for line in verdict.decided_on)
    # Stored at an older commit with the base's measured code (the stretch's measured
    # one): taken for the base, and compared.
    stored(suite_ms + 1000, commit=head)  # "two", the commit the stretch was measured at
    repository.commit("docs", "README.md", "docs\n")  # the base now, with "two"'s code
    repository.commit("three", "src/ws_stack/book.py", "three\n")
    head = project.rev_parse("HEAD")
    write_results(_results_dir(project), head, {COUNT: 1100.0}, units=units)
    commands.clear()
    verdict = run_gate(project, out=io.StringIO())
    assert [c for c in commands[0] if c.endswith("^!")] == [f"{head}^!"]
    assert any("the base's taken from the stored history" in line for line in verdict.decided_on)
    assert verdict.compared == 1 and verdict.outcome is Outcome.REGRESSION  # 1000 -> 1100
