"""The regression gate: ``asv continuous`` between two commits, turned into a verdict.

asv's exit statuses are ambiguous, so the gate reads them together with what asv printed:

* 0: no benchmark got worse by more than the factor (or not significantly) -> PASS.
* 1: either the comparison table shows a regression ("PERFORMANCE DECREASED") or asv
  stopped with an error (unknown commit, bad configuration...) before comparing.
* 2: a benchmark failed or a commit did not build; asv then prints no table at all. The
  gate lists the failed benchmarks from the results asv recorded.

asv judges every value as lower-is-better. The suite gives every gated metric a
lower-is-better form (pool *miss* ratio, allocations, latency), and the gate also checks
the higher-is-better metrics it knows of (:data:`HIGHER_IS_BETTER`) itself, so that a
collapse of pool reuse, which asv would print as an improvement, fails the gate.

The gate records its runs in its own results directory (``.asv/gate/results``), never in
the main history, and builds in its own environment (``.asv/gate/env``): asv reinstalls
the project of each commit it measures into its environment, so a gate sharing
``.asv/env`` with a ``make bench`` running at the same time could measure the other
run's commit.

Settings, measured on identical code on this busy 2-core machine (the README has the
numbers): ``--factor 1.25 -a rounds=6`` alone still flagged 2 to 9 benchmarks per run,
by up to 1.9x for times, when other jobs loaded the machine. Such flags do not
reproduce: every flagged benchmark is measured again, alone, and counts only if flagged
again (``confirm``). A real slowdown reproduces.
"""

from __future__ import annotations

import enum
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ws_stack.bench.project import Project, ProjectError
from ws_stack.bench.results import CommitResults, ResultsError, is_number, load_commit

__all__ = [
    "DEFAULT_CONFIRM",
    "DEFAULT_FACTOR",
    "DEFAULT_ROUNDS",
    "HIGHER_IS_BETTER",
    "Flag",
    "Outcome",
    "Verdict",
    "print_verdict",
    "run_gate",
]

DEFAULT_FACTOR = 1.25
DEFAULT_ROUNDS = 6
#: Times a flagged benchmark is measured again (alone, same commits) before it counts.
DEFAULT_CONFIRM = 1

#: Benchmarks whose value is better when higher; asv would call their fall an improvement.
HIGHER_IS_BETTER = re.compile(r"\.track_\w*(reuse_ratio|per_second)$")


class Outcome(enum.Enum):
    PASS = 0
    REGRESSION = 1
    BROKEN = 2
    ERROR = 3


@dataclass(frozen=True)
class Flag:
    """One benchmark (at one parameter combination) that got worse."""

    #: ``name(param, ...)`` as asv writes it, also how ``-b`` selects it.
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.key}: {self.detail}"


@dataclass
class Verdict:
    outcome: Outcome
    base: str
    head: str
    #: Benchmarks that got worse in every run (asv's table, and the higher-is-better check).
    regressions: list[Flag] = field(default_factory=list)
    #: Flagged by one run but not confirmed by the next: noise, reported, not failing.
    unconfirmed: list[Flag] = field(default_factory=list)
    #: Benchmarks that failed (no value) at base or head.
    failures: list[str] = field(default_factory=list)
    asv_status: int = 0
    message: str = ""

    @property
    def exit_status(self) -> int:
        return self.outcome.value


def _tee(command: Sequence[str], cwd: Path, out: TextIO) -> tuple[int, str]:
    """Run ``command``, echoing its output to ``out``, and return (status, output)."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        out.write(line)
        out.flush()
        lines.append(line)
    return process.wait(), "".join(lines)


def _worse_rows(output: str) -> list[Flag]:
    """Rows of asv's comparison table (GitHub format) marked "+" (worse) or "!" (failing)."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) == 5 and cells[0] in ("+", "!"):
            change, before, after, ratio, name = cells
            what = "now fails" if change == "!" else f"{ratio}x"
            rows.append(Flag(name, f"{before} -> {after} ({what})"))
    return rows


def _failures(results: CommitResults | None, label: str) -> list[str]:
    if results is None:
        return [f"{label}: no results recorded (did the commit build?)"]
    failed = []
    for name in results.names():
        for value in results.values(name):
            if value.value is None:
                params = ", ".join(f"{k}={v}" for k, v in value.params.items())
                failed.append(f"{label}: {name}" + (f"({params})" if params else ""))
    return failed


def _higher_is_better_drops(base: CommitResults, head: CommitResults, factor: float) -> list[Flag]:
    dropped = []
    for name in head.names():
        if not HIGHER_IS_BETTER.search(name):
            continue
        before = {tuple(sorted(v.params.items())): v.value for v in base.values(name)}
        for value in head.values(name):
            old = before.get(tuple(sorted(value.params.items())))
            if not (is_number(old) and is_number(value.value)):
                continue
            assert old is not None and value.value is not None
            if value.value * factor < old:
                params = ", ".join(repr(v) for v in value.params.values())
                key = f"{name}({params})" if params else name
                dropped.append(Flag(key, f"{old:g} -> {value.value:g} (higher is better)"))
    return dropped


def _load(results_dir: Path, commit: str) -> CommitResults | None:
    try:
        return load_commit(results_dir, commit)
    except ResultsError:
        return None


def _measure(
    project: Project,
    config: Path,
    base: str,
    head: str,
    factor: float,
    rounds: int,
    bench: Sequence[str],
    results_dir: Path,
    out: TextIO,
) -> Verdict:
    """One ``asv continuous`` run and its verdict (no confirmation)."""
    verdict = Verdict(Outcome.PASS, base, head)
    command = ["continuous", f"--factor={factor}", "-a", f"rounds={rounds}", "--show-stderr"]
    for regex in bench:
        command += ["-b", regex]
    status, output = _tee(project.asv(*command, base, head, config=config), project.root, out)
    verdict.asv_status = status
    base_results, head_results = _load(results_dir, base), _load(results_dir, head)
    if status == 2:
        verdict.outcome = Outcome.BROKEN
        verdict.failures = _failures(base_results, "base") + _failures(head_results, "head")
        verdict.message = "a benchmark failed or a commit did not build (asv printed no table)"
        return verdict
    if status == 1 and "PERFORMANCE DECREASED" not in output:
        verdict.outcome = Outcome.ERROR
        verdict.message = "asv stopped with an error before comparing (see its output above)"
        return verdict
    if status not in (0, 1):
        verdict.outcome = Outcome.ERROR
        verdict.message = f"asv exited with unexpected status {status}"
        return verdict
    if status == 1:
        verdict.regressions = _worse_rows(output) or [Flag("(asv's table above)", "worse")]
    if base_results is not None and head_results is not None:
        verdict.regressions += _higher_is_better_drops(base_results, head_results, factor)
    if verdict.regressions:
        verdict.outcome = Outcome.REGRESSION
    return verdict


def run_gate(
    project: Project,
    base: str | None = None,
    head: str = "HEAD",
    *,
    factor: float = DEFAULT_FACTOR,
    rounds: int = DEFAULT_ROUNDS,
    confirm: int = DEFAULT_CONFIRM,
    bench: Sequence[str] = (),
    results_dir: Path | None = None,
    out: TextIO = sys.stdout,
) -> Verdict:
    """Benchmark ``base`` and ``head`` with asv continuous and judge the difference.

    A benchmark flagged as worse is measured again ``confirm`` times (alone, with the same
    settings) and counts as a regression only if every run flags it: one noisy run on a
    busy machine does not fail the gate, a real slowdown reproduces.
    """
    try:
        head_hash = project.rev_parse(head)
        base_hash = project.rev_parse(base if base else f"{head_hash}^")
    except ProjectError as exc:  # an unknown revision, or a root commit without parent
        return Verdict(Outcome.ERROR, base or f"{head}^", head, message=str(exc))
    gate_dir = project.work_dir / "gate"
    results_dir = results_dir or gate_dir / "results"
    config = project.derive(
        gate_dir / "asv.conf.json",
        results_dir=results_dir,
        html_dir=gate_dir / "html",
        env_dir=gate_dir / "env",
    )
    status, _ = _tee(project.asv("machine", "--yes", config=config), project.root, out)
    if status != 0:
        return Verdict(
            Outcome.ERROR, base_hash, head_hash, asv_status=status, message="asv machine failed"
        )
    pair = (project, config, base_hash, head_hash, factor, rounds)
    verdict = _measure(*pair, bench, results_dir, out)
    for attempt in range(1, confirm + 1):
        if verdict.outcome is not Outcome.REGRESSION:
            break
        keys = {flag.key for flag in verdict.regressions}
        print(f"\nConfirming {len(keys)} flagged benchmark(s), run {attempt + 1}:", file=out)
        subset = [f"^{re.escape(key)}$" for key in sorted(keys)]
        again = _measure(*pair, subset, results_dir, out)
        if again.outcome in (Outcome.BROKEN, Outcome.ERROR):
            return again
        still = {flag.key for flag in again.regressions}
        verdict.unconfirmed += [flag for flag in verdict.regressions if flag.key not in still]
        # asv compares every parameter of a selected benchmark, the ones not measured
        # again with their first values: only the flagged keys count.
        verdict.regressions = [flag for flag in again.regressions if flag.key in keys]
        if not verdict.regressions:
            verdict.outcome = Outcome.PASS
    return verdict


def print_verdict(verdict: Verdict, factor: float, out: TextIO) -> None:
    pair = f"{verdict.base[:8]} -> {verdict.head[:8]}"
    print("", file=out)
    if verdict.unconfirmed:
        print("Flagged once but not confirmed by a second run (noise, not failing):", file=out)
        for flag in verdict.unconfirmed:
            print(f"  {flag}", file=out)
    if verdict.outcome is Outcome.PASS:
        print(f"GATE PASS ({pair}): nothing worse by more than {factor}x", file=out)
    elif verdict.outcome is Outcome.REGRESSION:
        print(f"GATE FAIL: REGRESSION ({pair}, factor {factor}):", file=out)
        for line in verdict.regressions:
            print(f"  {line}", file=out)
    elif verdict.outcome is Outcome.BROKEN:
        print(f"GATE FAIL: BROKEN ({pair}): {verdict.message}", file=out)
        for line in verdict.failures or ["(no failed benchmark found in the results)"]:
            print(f"  {line}", file=out)
    else:
        status = f" (asv status {verdict.asv_status})" if verdict.asv_status else ""
        print(f"GATE ERROR{status}: {verdict.message}", file=out)
