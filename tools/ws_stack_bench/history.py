"""``make bench``: the history of the newest commits, measured where the measured code changed.

The benchmark code is always the working tree's, so two commits whose measured code is
identical (:meth:`Project.measured_code`: the package and its dependencies, not the
README, the tests, the stored results or the benchmark tooling) give the same figures,
give or take the machine's noise. The newest commits are cut into *stretches* of
consecutive commits with identical measured code, and one commit per stretch is measured:
one already measured on this machine if there is one (asv then only fills in what it
lacks), else the stretch's oldest commit, where its code changed. The others are listed
as skipped, with the commit that stands for them.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from ws_stack_bench.gate import counting_only, minutes, selecting
from ws_stack_bench.project import Project

__all__ = [
    "Stretch",
    "measure",
    "measure_benchmarks",
    "plan",
    "print_plan",
    "print_status",
    "shard",
]


@dataclass(frozen=True)
class Stretch:
    """Consecutive first-parent commits with identical measured code, oldest first."""

    commits: tuple[str, ...]
    #: The commit measured for all of them: one of them, or for the oldest stretch of a
    #: plan, an earlier commit with the same code whose results are stored.
    measured: str

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(commit for commit in self.commits if commit != self.measured)


def plan(project: Project, commits: Sequence[str], stored: set[str]) -> list[Stretch]:
    """The stretches of ``commits`` (newest first, as ``git rev-list`` gives them), oldest
    stretch first; ``stored`` are the commits with results on this machine."""
    stretches: list[list[str]] = []
    previous = None
    for commit in reversed(commits):
        code = project.measured_code(commit)
        if code != previous:
            stretches.append([])
        stretches[-1].append(commit)
        previous = code
    planned = [Stretch(tuple(group), _representative(group, stored)) for group in stretches]
    if planned and planned[0].measured not in stored:
        # The oldest stretch may begin before the window: its code may have been measured
        # at a commit just outside it, which then stands for it (nothing to measure).
        oldest = planned[0]
        earlier = _stored_ancestor(project, oldest.commits[0], stored)
        if earlier is not None:
            planned[0] = Stretch(oldest.commits, earlier)
    return planned


def shard(stretches: Sequence[Stretch], number: int, count: int) -> list[Stretch]:
    """Shard ``number`` of ``count`` (1-based) of a plan: every ``count``-th stretch,
    newest first, from the ``number``-th on; oldest first, as :func:`plan` gives them.

    The shares depend only on the plan, so runners that plan from the same commit and the
    same stored results split it the same way, with no stretch measured twice or missed;
    the newest stretch is always in shard 1.
    """
    if not 1 <= number <= count:
        raise ValueError(f"shard {number}/{count}: want 1 <= K <= N")
    newest_first = list(reversed(stretches))
    mine = [s for index, s in enumerate(newest_first) if index % count == number - 1]
    return list(reversed(mine))


def _representative(group: list[str], stored: set[str]) -> str:
    measured = [commit for commit in group if commit in stored]
    return measured[-1] if measured else group[0]


def _stored_ancestor(project: Project, commit: str, stored: set[str]) -> str | None:
    """The nearest first-parent ancestor of ``commit`` with its measured code and stored
    results, if there is one."""
    if not stored:
        return None
    return next((a for a in project.same_code_ancestors(commit) if a in stored), None)


def _short(commits: Sequence[str]) -> str:
    return " ".join(commit[:8] for commit in commits)


def print_plan(stretches: Sequence[Stretch], out: TextIO) -> None:
    commits = sum(len(stretch.commits) for stretch in stretches)
    print(
        f"{commits} commit(s) in {len(stretches)} stretch(es) of identical measured code: "
        f"measuring one commit per stretch, the newest first.",
        file=out,
    )
    for stretch in stretches:
        if stretch.skipped:
            print(
                f"  {stretch.measured[:8]} stands for {len(stretch.skipped)} skipped commit(s) "
                f"whose measured code is the same: {_short(stretch.skipped)}",
                file=out,
            )


def print_status(
    stretches: Sequence[Stretch], stored: dict[str, tuple[int, int]], out: TextIO
) -> int:
    """One line per stretch (newest first): the commit whose results stand for it, and how
    many of the suite's benchmarks they hold (``stored``: commit to that and the suite's
    size), or that it has none on this machine; the number of stretches without results."""
    missing = 0
    for stretch in reversed(stretches):
        span = (
            f"{stretch.commits[0][:8]}..{stretch.commits[-1][:8]}"
            if len(stretch.commits) > 1
            else stretch.commits[0][:8]
        )
        if stretch.measured in stored:
            held, suite = stored[stretch.measured]
            state = f"measured at {stretch.measured[:8]}"
            if held < suite:
                state += f", {held} of {suite} benchmarks (make bench adds the rest)"
        else:
            state = "NO RESULTS"
            missing += 1
        print(f"  {span:<18} {len(stretch.commits):>3} commit(s)  {state}", file=out)
    return missing


def measure_benchmarks(
    project: Project, commit: str, names: Sequence[str], out: TextIO = sys.stdout
) -> int:
    """Run asv at ``commit`` on the benchmarks ``names`` only (stored values are reused),
    storing the results in the history; asv's status."""
    selection: list[str] = []
    for name in sorted(set(names)):
        selection += ["--bench", selecting(name)]
    started = time.monotonic()
    print(f"Measuring {len(set(names))} benchmark(s) at {commit[:8]}:", file=out, flush=True)
    command = project.asv_run("--skip-existing-successful", *selection, f"{commit}^!")
    status = subprocess.run(command, cwd=project.root, check=False).returncode
    print(f"Measured {commit[:8]} in {minutes(time.monotonic() - started)}", file=out, flush=True)
    return status


def measure(
    project: Project,
    stretches: Sequence[Stretch],
    out: TextIO = sys.stdout,
    after_each: Callable[[int], object] | None = None,
    machine: str | None = None,
    bench: Sequence[str] = (),
    counts_first: Sequence[str] = (),
) -> int:
    """Run asv on each stretch's measured commit, newest stretch first (stored results are
    reused), showing progress: each commit's duration and its slowest benchmarks. After
    each commit, ``after_each(commits measured so far)`` (``make bench`` publishes there,
    so that a page is up after the first commit and an interrupted run keeps what it
    measured). Results go under the asv machine ``machine`` (default: the host name).
    ``bench`` (regexes, asv's ``--bench``) narrows the suite, the instruction counts too.

    ``counts_first`` (regexes of the counted benchmarks) measures those alone at the
    newest commit before anything else, then calls ``after_each(0)``: the counts take a
    quarter of the suite's time, so a new machine has a page of them at once. They are
    counted as in a whole run (every count benchmark, in the same forks), and the full run
    that follows reuses them.

    The worst asv status (0, or 2 where a benchmark failed somewhere)."""
    machine = machine or platform.node()
    selection = [word for regex in bench for word in ("--bench", regex)]
    env = counting_only(bench)
    worst = 0
    if counts_first and stretches:
        worst = _measure_counts(project, stretches[-1].measured, counts_first, machine, out)
        if worst not in (0, 2):
            return worst
        if after_each is not None:
            after_each(0)
    durations: list[float] = []
    newest_first = list(reversed(stretches))
    for number, stretch in enumerate(newest_first, start=1):
        left = len(newest_first) - number + 1
        estimate = (
            f"about {minutes(left * sum(durations) / len(durations))} left"
            if durations
            else "no estimate before the first commit"
        )
        print(
            f"\n[{number}/{len(newest_first)}] {stretch.measured[:8]} "
            f"(for {len(stretch.commits)} commit(s)); {estimate}",
            file=out,
            flush=True,
        )
        started, started_at_ms = time.monotonic(), int(time.time() * 1000)
        command = _run_command(project, stretch.measured, machine, selection)
        status = subprocess.run(command, cwd=project.root, check=False, env=env).returncode
        durations.append(time.monotonic() - started)
        print(
            f"[{number}/{len(newest_first)}] {stretch.measured[:8]} took "
            f"{minutes(durations[-1])}"
            f"{_slowest(project, machine, stretch.measured, started_at_ms)}",
            file=out,
            flush=True,
        )
        if status not in (0, 2):
            return status
        worst = max(worst, status)
        if after_each is not None:
            after_each(number)
    return worst


def _run_command(project: Project, commit: str, machine: str, selection: list[str]) -> list[str]:
    """``asv run`` at ``commit`` alone, on the benchmarks ``selection`` (``--bench`` options)
    selects, under ``machine``. Stored values (and n/a) are reused; failures are retried,
    as they are usually a benchmark bug fixed since."""
    return project.asv_run(
        "--skip-existing-successful", "--show-stderr", "--machine", machine,
        *selection, f"{commit}^!",
    )  # fmt: skip


def _measure_counts(
    project: Project, commit: str, counted: Sequence[str], machine: str, out: TextIO
) -> int:
    """asv run at ``commit`` on the benchmarks ``counted`` selects; asv's status."""
    print(f"\n[counts first] {commit[:8]}: the counted benchmarks alone", file=out, flush=True)
    started = time.monotonic()
    selection = [word for regex in counted for word in ("--bench", regex)]
    command = _run_command(project, commit, machine, selection)
    # No count selection in the environment: every count benchmark is counted, as in a
    # whole run, so that the values are the whole run's.
    status = subprocess.run(command, cwd=project.root, check=False).returncode
    print(
        f"[counts first] {commit[:8]} took {minutes(time.monotonic() - started)}",
        file=out,
        flush=True,
    )
    return status


#: How many of a commit's slowest benchmarks its progress line names.
SLOWEST = 3


def _slowest(project: Project, machine: str, commit: str, since_ms: float = 0.0) -> str:
    """``"; slowest: name 72 s, ..."`` from the durations asv stored for ``commit`` on
    ``machine``, of the benchmarks it started at or after ``since_ms`` (milliseconds since
    the epoch: those this run measured), or ``""`` where there are none."""
    machine_dir = project.results_dir / machine
    durations: dict[str, float] = {}
    for path in machine_dir.glob(f"{commit[:8]}-*.json"):
        try:
            data = json.loads(path.read_text())
            if data.get("commit_hash") != commit:
                continue
            columns = data["result_columns"]
            at, began = columns.index("duration"), columns.index("started_at")
            for name, row in data["results"].items():
                if len(row) <= max(at, began) or not isinstance(row[at], int | float):
                    continue
                if isinstance(row[began], int | float) and row[began] >= since_ms:
                    durations[name] = durations.get(name, 0.0) + float(row[at])
        except (OSError, ValueError, KeyError):
            continue
    if not durations:
        return ""
    top = sorted(durations.items(), key=lambda item: -item[1])[:SLOWEST]
    return "; slowest: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in top)
