"""The regression gate: counts first, then the timings counts cannot stand for.

A pull request is judged between its base and head, recording into the gate's own
results directory (``.asv/gate/results``, never the main history) and environments
(``.asv/gate/env*``: asv reinstalls each measured commit into its environment, so a gate
sharing ``.asv/env`` with a running ``make bench`` could measure the other run's commit):

1. **Counted**: every metric that is the same on every run of the same code
   (:data:`COUNTED`: CPU instructions per call under valgrind, a lone frame's cache
   misses under valgrind's cache simulation, allocations, garbage collections, pool
   misses). ``asv run`` at base and head at the same time, each in an
   environment of its own (counts do not depend on where it is); or at the head alone
   where the stored history holds the base's counts from this suite and environment
   (:func:`_stored_counts`). One run, no statistics, no confirmation: a metric that got
   worse by more than ``threshold`` (2 % by default) is a regression.
2. **Timed**: what no count stands for, the connection benchmarks over real sockets
   (:data:`TIMED`). A wall time on a shared machine moves with the load, so these keep
   asv's statistics (``factor``, ``rounds``), and a benchmark asv flags is measured again,
   alone, and counts only if flagged again (``confirm``); a real slowdown reproduces.
   ``full`` times every benchmark that is not counted (the gate before counts). Where
   instructions cannot be counted (no valgrind), the gate says so and times everything.

asv's exit statuses are read together with what it printed: 0 and 1 (worse) give a
comparison; 1 without a table is an error (unknown commit, bad configuration); 2 means a
benchmark failed or a commit did not build, and the gate lists the failed benchmarks
from the results asv recorded.
"""

from __future__ import annotations

import enum
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ws_stack_bench import where
from ws_stack_bench.project import FORKED, Project, ProjectError
from ws_stack_bench.results import (
    BenchmarkValue,
    CommitResults,
    ResultsError,
    benchmark_names,
    is_number,
    load_commit,
)
from ws_stack_bench.where import Address, Shift

__all__ = [
    "COUNTED",
    "DEFAULT_CONFIRM",
    "DEFAULT_FACTOR",
    "DEFAULT_ROUNDS",
    "DEFAULT_THRESHOLD",
    "FLAME_FOLDER",
    "FLOORS",
    "HIGHER_IS_BETTER",
    "TIMED",
    "Change",
    "Outcome",
    "Verdict",
    "counting_only",
    "counting_unavailable",
    "is_counted",
    "minutes",
    "print_verdict",
    "run_gate",
    "selecting",
    "write_flame_graphs",
    "write_markdown",
]

#: A counted metric worse by more than this fraction is a regression.
DEFAULT_THRESHOLD = 0.02
DEFAULT_FACTOR = 1.25
DEFAULT_ROUNDS = 6
#: Times a flagged timing is measured again (alone, same commits) before it counts.
DEFAULT_CONFIRM = 1

#: Metrics that are counts: the same value on every run of the same code.
COUNTED: tuple[str, ...] = (
    r"Instructions\.track_",
    r"Misses\.track_",
    r"^bench_memory\.(ParseAllocations|DeltaAllocations|GcPressure)\.track_",
    r"^bench_pool\.(LevelPoolSteadyStream|HandlerStream)\.track_",
)
#: What counts cannot stand for: opening and reopening connections, and the whole
#: pipeline from socket to book against a bare ``websockets`` loop (timed in one process).
TIMED: tuple[str, ...] = (
    r"^bench_connection\.(Connect|Reconnect)\.time_",
    r"^bench_connection\.EndToEndOverBare\.track_ratio",
)

#: The code the timed benchmarks exercise that no count stands for: the I/O layer and its
#: transports, the venue protocols (client and simulator), the connection's state, backoff
#: and metrics, and the dependencies' versions. A change elsewhere in the measured code
#: (parsers, handlers, books, pools) is CPU work the counts measure exactly, so the
#: timings are skipped for it (``full`` times them anyway).
CONNECTION_CODE: tuple[str, ...] = (
    "src/ws_stack/asyncio/",
    "src/ws_stack/sim/",
    "src/ws_stack/protocol.py",
    "src/ws_stack/state.py",
    "src/ws_stack/reconnect.py",
    "src/ws_stack/metrics.py",
    "src/ws_stack/venues.py",
    "src/ws_stack/mexc/protocol.py",
    "src/ws_stack/gateio/protocol.py",
    "pyproject.toml",
)

#: Bare library calls the goals compare ws_stack with: no ws_stack change can move them,
#: so a step in their graphs is the machine's, never a regression.
FLOORS: tuple[str, ...] = (
    r"^bench_codec\.DetectType(Instructions)?\.(time|track)_find_marker",
    r"^bench_codec\.(ParseOrderBook|ParseSmallDelta|ParseObu)(Instructions)?\.(time|track)_floor",
    r"^bench_codec\.MexcDepthLowerBound(Instructions)?\.",
    r"^bench_connection\.BareReceive\.",
)
#: The environment variable that narrows what the count benchmarks count
#: (``benchmarks/instructions.py``, SELECT_VARIABLE).
COUNT_SELECT_VARIABLE = "WS_STACK_COUNT_SELECT"

#: What asv prints, exiting with status 1, when ``-b`` selects no benchmark.
NOTHING_SELECTED = "No benchmarks selected"

#: Metrics whose value is better when higher; asv would call their fall an improvement.
HIGHER_IS_BETTER = re.compile(r"\.track_\w*(reuse_ratio|per_second)$")


def counting_only(regexes: Sequence[str]) -> dict[str, str] | None:
    """The environment of an asv run narrowed to ``regexes`` (asv's ``-b``), in which the
    count benchmarks count only the calls those select; ``None`` (inherit) for the whole
    suite."""
    if not regexes:
        return None
    return {**os.environ, COUNT_SELECT_VARIABLE: "|".join(f"(?:{regex})" for regex in regexes)}


def counting_unavailable() -> str | None:
    """Why instructions cannot be counted here (the count benchmarks are then n/a)."""
    if shutil.which("valgrind") is None:
        return "valgrind not found (Debian package valgrind; `make gate` installs it as root)"
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        return "no C compiler to build callgrind's client requests"
    return None


class Outcome(enum.Enum):
    PASS = 0
    REGRESSION = 1
    BROKEN = 2
    ERROR = 3


@dataclass(frozen=True)
class Change:
    """One benchmark at one parameter combination, before and after."""

    #: ``name(param, ...)`` as asv writes it, also how ``-b`` selects it.
    key: str
    before: str
    after: str
    #: How many times worse (above 1) or better (below 1); ``None`` from nothing.
    ratio: float | None
    #: "counted" or "timed": which part of the gate judged it.
    how: str

    def __str__(self) -> str:
        ratio = "from 0" if self.ratio is None else f"{self.ratio:.3f}x"
        return f"{self.key}: {self.before} -> {self.after} ({ratio})"


@dataclass
class Verdict:
    outcome: Outcome
    base: str
    head: str
    #: Worse beyond the threshold (counted) or in every run (timed).
    regressions: list[Change] = field(default_factory=list)
    #: Counted metrics better beyond the threshold.
    improvements: list[Change] = field(default_factory=list)
    #: Floors (bare library calls) that moved beyond the threshold: shown, never judged.
    floors_moved: list[Change] = field(default_factory=list)
    #: Counted metrics compared, and those that were not (n/a on one side).
    compared: int = 0
    not_compared: list[str] = field(default_factory=list)
    #: Timings flagged by one run but not by the next: noise, reported, not failing.
    unconfirmed: list[Change] = field(default_factory=list)
    #: Benchmarks that failed (no value) at base or head.
    failures: list[str] = field(default_factory=list)
    #: What the verdict rests on, one line per part of the gate.
    decided_on: list[str] = field(default_factory=list)
    #: Timed benchmarks not run, the change touching none of the code they measure.
    skipped: list[str] = field(default_factory=list)
    #: The address of each counted instruction regression (ws_stack_bench.where): the
    #: Python and C functions whose work per call changed most; or why it was not found.
    where: dict[str, Address] = field(default_factory=dict)
    where_failed: dict[str, str] = field(default_factory=dict)
    #: The page of each addressed regression's flame graphs (:func:`write_flame_graphs`).
    flame_graphs: dict[str, Path] = field(default_factory=dict)
    asv_status: int = 0
    message: str = ""
    seconds: float = 0.0

    @property
    def exit_status(self) -> int:
        return self.outcome.value


#: Why a gate passed without measuring.
IDENTICAL = "the measured code is identical"


# -- running asv ------------------------------------------------------------------------


def _tee(
    command: Sequence[str], cwd: Path, out: TextIO, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run ``command``, echoing its output to ``out``, and return (status, output)."""
    (done,) = _run_at_once([("", list(command))], cwd, out, env)
    return done


@dataclass(frozen=True)
class _Pair:
    """Everything one ``asv continuous`` of the gate needs."""

    project: Project
    config: Path
    results_dir: Path
    base: str
    head: str
    out: TextIO

    def continuous(
        self, selection: Sequence[str], *options: str, env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        command = ["continuous", *FORKED, *options, "--show-stderr"]
        for regex in selection:
            command += ["-b", regex]
        asv = self.project.asv(*command, self.base, self.head, config=self.config)
        return _tee(asv, self.project.root, self.out, env)

    def load(self, commit: str) -> CommitResults | None:
        try:
            return load_commit(self.results_dir, commit)
        except ResultsError:
            return None


def _failures(results: CommitResults | None, label: str, names: Sequence[str]) -> list[str]:
    if results is None:
        return [f"{label}: no results recorded (did the commit build?)"]
    return [
        f"{label}: {_key(value)}"
        for name in names
        for value in results.values(name)
        if value.value is None
    ]


def _status_problem(status: int, output: str, verdict: Verdict) -> bool:
    """Record what an asv exit status other than a comparison means; True if it is one."""
    if status == 2:
        verdict.outcome = Outcome.BROKEN
        verdict.message = "a benchmark failed or a commit did not build (asv printed no table)"
    elif status == 1 and "PERFORMANCE DECREASED" not in output:
        verdict.outcome = Outcome.ERROR
        verdict.message = "asv stopped with an error before comparing (see its output above)"
    elif status not in (0, 1):
        verdict.outcome = Outcome.ERROR
        verdict.message = f"asv exited with unexpected status {status}"
    else:
        return False
    verdict.asv_status = status
    return True


def _key(value: BenchmarkValue) -> str:
    params = ", ".join(repr(v) for v in value.params.values())
    return f"{value.name}({params})" if params else value.name


def _matches(name: str, selection: Sequence[str]) -> bool:
    return any(re.search(regex, name) for regex in selection)


def is_counted(name: str) -> bool:
    """Whether benchmark ``name`` is a counted metric (:data:`COUNTED`)."""
    return _matches(name, COUNTED)


def _both(user: Sequence[str], kind: Sequence[str]) -> list[str]:
    """One regex for ``-b`` that selects what matches ``user`` and ``kind`` both."""
    if not user:
        return list(kind)
    return [f"^(?=.*?(?:{'|'.join(user)}))(?=.*?(?:{'|'.join(kind)}))"]


# -- counted metrics ---------------------------------------------------------------------


def _shown(value: float, unit: str) -> str:
    number = f"{value:,.0f}" if abs(value) >= 1000 and value == int(value) else f"{value:g}"
    return f"{number} {unit}".strip()


def _counted_change(old: BenchmarkValue, new: BenchmarkValue) -> Change:
    assert old.value is not None and new.value is not None
    higher_is_better = bool(HIGHER_IS_BETTER.search(new.name))
    worse, better = (old.value, new.value) if higher_is_better else (new.value, old.value)
    ratio = worse / better if better else (1.0 if not worse else None)
    after = _shown(new.value, new.unit) + (" (higher is better)" if higher_is_better else "")
    return Change(_key(new), _shown(old.value, old.unit), after, ratio, "counted")


def _judge_counts(
    verdict: Verdict, base: CommitResults, head: CommitResults, threshold: float
) -> None:
    for name in head.names():
        if not is_counted(name):
            continue
        before = {_key(value): value for value in base.values(name)}
        for value in head.values(name):
            old = before.get(_key(value))
            if old is None or not (is_number(old.value) and is_number(value.value)):
                if old is not None and is_number(old.value):
                    verdict.not_compared.append(f"{_key(value)}: n/a at head")
                continue
            change = _counted_change(old, value)
            if _matches(name, FLOORS):
                if change.ratio is None or not 1 / (1 + threshold) <= change.ratio <= 1 + threshold:
                    verdict.floors_moved.append(change)
                continue
            verdict.compared += 1
            if change.ratio is None or change.ratio > 1 + threshold:
                verdict.regressions.append(change)
            elif change.ratio < 1 / (1 + threshold):
                verdict.improvements.append(change)


def _stored_counts(pair: _Pair, user: Sequence[str]) -> Path | None:
    """The stored history's results file for the base (or for a commit with the base's
    measured code) whose counts the gate can take as they are, or ``None``.

    Counts are the same on every run of the same code in the same environment, wherever
    the checkout is (``benchmarks/instructions.py``): a stored file of this machine, in
    the environment the gate would build, whose every counted metric was measured after
    the suite's last change (and with no uncommitted change to it) stands for a run of
    the base. Not with ``-b``: a narrowed run is compared only with one narrowed alike.
    """
    suite = str(pair.project.config.get("benchmark_dir", "benchmarks"))
    if user or pair.project.git("status", "--porcelain", "--", suite):
        return None
    suite_changed = pair.project.git("log", "-1", "--format=%ct", "--", suite)
    if not suite_changed:  # a suite git does not track
        return None
    suite_changed_ms = 1000 * int(suite_changed)
    stored = pair.project.results_dir / platform.node()
    # The base, or the commit its stretch of identical measured code was measured at.
    commits = [pair.base, *pair.project.same_code_ancestors(pair.base)]
    names = [
        f"{commit[:8]}-{env}.json" for commit in commits for env in pair.project.environments()
    ]
    for path in (stored / name for name in names if (stored / name).is_file()):
        data = json.loads(path.read_text())
        columns = {name: index for index, name in enumerate(data.get("result_columns", []))}
        counted = [row for name, row in data.get("results", {}).items() if is_counted(name)]
        if (
            "started_at" in columns
            and counted
            and all((row[columns["started_at"]] or 0) >= suite_changed_ms for row in counted)
        ):
            return path
    return None


def _count_sides(
    pair: _Pair, selection: Sequence[str], env: dict[str, str] | None, stored: Path | None
) -> tuple[int, str]:
    """``asv run`` of the counted metrics at base and head at the same time (or at head
    alone, given the base's ``stored`` results), each side in an environment directory
    of its own; their results are gathered into the gate's results directory. The worse
    exit status, and the output of both."""
    gate_dir = pair.config.parent
    sides = [("head", pair.head)] + ([] if stored else [("base", pair.base)])
    selected = [word for regex in selection for word in ("-b", regex)]
    runs = []
    for side, commit in sides:
        config = pair.project.derive(
            gate_dir / f"counted-{side}" / "asv.conf.json",
            results_dir=gate_dir / f"counted-{side}" / "results",
            html_dir=gate_dir / "html",
            env_dir=gate_dir / f"env-{side}",
        )
        command = pair.project.asv_run("--show-stderr", *selected, f"{commit}^!", config=config)
        runs.append((f"[{side}] ", [*_own_machine_file(gate_dir / f"home-{side}"), *command]))
    done = _run_at_once(runs, pair.project.root, pair.out, env)
    for side, commit in sides:
        # This run's commit only: a side's directory keeps what earlier gates measured.
        results = gate_dir / f"counted-{side}" / "results"
        for path in [*results.glob("*/machine.json"), *results.glob(f"*/{commit[:8]}-*.json")]:
            _copy(path, pair.results_dir / path.parent.name / path.name)
        if (results / "benchmarks.json").is_file():
            _copy(results / "benchmarks.json", pair.results_dir / "benchmarks.json")
    if stored is not None:  # filed as the base's (it may be a same-code ancestor's)
        machine = pair.results_dir / stored.parent.name
        _copy(stored.parent / "machine.json", machine / "machine.json")
        data = json.loads(stored.read_text())
        data["commit_hash"] = pair.base  # asv and the loader find a file by the hash in it
        (machine / f"{pair.base[:8]}{stored.name[8:]}").write_text(json.dumps(data))
    statuses = [status for status, _ in done]
    status = 2 if 2 in statuses else max(statuses)
    return status, "".join(output for _, output in done)


def _own_machine_file(home: Path) -> list[str]:
    """The prefix (``env HOME=...``) that gives an asv run its own copy of the machine
    file: every asv run rewrites ``~/.asv-machine.json``, and a run reading it while the
    other side's run writes it reads an empty file and stops. Caches stay where they are."""
    home.mkdir(parents=True, exist_ok=True)
    machine_file = Path.home() / ".asv-machine.json"
    if machine_file.is_file():
        shutil.copyfile(machine_file, home / ".asv-machine.json")
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return ["env", f"HOME={home}", f"XDG_CACHE_HOME={cache}"]


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _run_at_once(
    runs: Sequence[tuple[str, list[str]]], cwd: Path, out: TextIO, env: dict[str, str] | None
) -> list[tuple[int, str]]:
    """Run the ``(mark, command)`` pairs at the same time, echoing each line of their
    output to ``out`` behind its mark; each one's (status, output)."""
    processes, threads, outputs = [], [], []
    for mark, command in runs:
        process = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        lines: list[str] = []
        thread = threading.Thread(target=_echo, args=(process, mark, lines, out))
        thread.start()
        processes.append(process)
        threads.append(thread)
        outputs.append(lines)
    statuses = [process.wait() for process in processes]
    for thread in threads:
        thread.join()
    return [(status, "".join(lines)) for status, lines in zip(statuses, outputs, strict=True)]


def _echo(process: subprocess.Popen[str], mark: str, lines: list[str], out: TextIO) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        out.write(mark + line)
        out.flush()


def _counted_part(
    pair: _Pair, verdict: Verdict, threshold: float, user: Sequence[str], reason: str | None
) -> bool:
    """Run and judge the counted metrics; False if the gate cannot go on."""
    print(f"\n== Counted metrics (threshold {threshold:.0%}, one run) ==", file=pair.out)
    stored = _stored_counts(pair, user)
    if stored is not None:
        print(f"The base's counts are the stored history's: {stored}", file=pair.out)
    status, output = _count_sides(pair, _both(user, COUNTED), counting_only(user), stored)
    if user and status == 1 and NOTHING_SELECTED in output:
        # -b named timed benchmarks only: nothing to count (asv still discovered the suite).
        verdict.decided_on.append("counted: nothing, -b selects no counted metric")
        return True
    base, head = pair.load(pair.base), pair.load(pair.head)
    problem = _status_problem(status, output, verdict)
    if not problem and (base is None) != (head is None):  # asv succeeded, one side has none
        verdict.outcome = Outcome.BROKEN
        verdict.message = "the counted metrics' results of one side are missing"
        problem = True
    if problem:
        if verdict.outcome is Outcome.BROKEN:
            names = [n for n in benchmark_names(pair.results_dir) if is_counted(n)]
            verdict.failures = _failures(base, "base", names) + _failures(head, "head", names)
        return False
    if base is not None and head is not None:
        _judge_counts(verdict, base, head, threshold)
        _address(pair, verdict)
    what = "allocations, collections and pool misses"
    what = what if reason else f"CPU instructions and lone-frame cache misses (valgrind), {what}"
    how = (
        f"the base's taken from the stored history ({stored.parent.name}/{stored.name}), "
        "measured by this suite in this environment; the head's counted"
        if stored is not None
        else "base and head counted at the same time"
    )
    verdict.decided_on.append(
        f"counted: {what}, {verdict.compared} compared at a {threshold:.0%} threshold; {how}"
    )
    return True


#: How many counted regressions the gate finds the address of (each costs two short runs).
MAX_ADDRESSED = 6


#: Where the gate writes its flame graphs: beside the Markdown verdict, else in .asv/gate.
FLAME_FOLDER = "gate-flame"


def write_flame_graphs(project: Project, verdict: Verdict, folder: Path) -> None:
    """A page of flame graphs in ``folder`` for each addressed regression: the head's call
    trees coloured by how much each function's own work grew, and the base's
    (``where.write_differential_page``), with the libraries they load; into
    ``verdict.flame_graphs``. A page that cannot be written is said in ``where_failed``."""
    if not any(address.trees for address in verdict.where.values()):
        return
    # Imported here: publish's noise table imports this module.
    from ws_stack_bench.publish import PublishError, vendor_flame_libraries

    try:
        vendor_flame_libraries(folder, project.work_dir / "npm")
    except PublishError as exc:
        for key in verdict.where:
            verdict.where_failed[key] = f"no flame graph: {exc}"
        return
    for key, address in verdict.where.items():
        name = where.write_differential_page(key, address, verdict.base, verdict.head, folder)
        if name is not None:
            verdict.flame_graphs[key] = folder / name


def _address(pair: _Pair, verdict: Verdict) -> None:
    """Where each counted instruction regression's extra work went (see ``where``)."""
    wanted = [change.key for change in verdict.regressions if where.ADDRESSED.search(change.key)]
    for key in wanted[:MAX_ADDRESSED]:
        try:
            verdict.where[key] = where.where(pair.project, pair.base, pair.head, key)
        except RuntimeError as exc:
            verdict.where_failed[key] = str(exc)
    where.remove_worktrees(pair.project)


# -- timed benchmarks ---------------------------------------------------------------------


def _worse_rows(output: str) -> list[Change]:
    """Rows of asv's comparison table (GitHub format) marked "+" (worse) or "!" (failing)."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) == 5 and cells[0] in ("+", "!"):
            _, before, after, ratio, name = cells
            try:
                factor: float | None = float(ratio)
            except ValueError:  # "n/a" for a benchmark that now fails
                factor = None
            rows.append(Change(name, before, after, factor, "timed"))
    return rows


def selecting(name: str) -> str:
    """A ``-b`` regex for ``name`` alone: asv matches a parameterised benchmark's regex
    against ``name(param, ...)``, every combination, and a plain one against its name."""
    return f"^{re.escape(name)}(\\(|$)" if "(" not in name else f"^{re.escape(name)}$"


def _timed_run(pair: _Pair, names: Sequence[str], factor: float, rounds: int) -> Verdict:
    """One ``asv continuous`` of the timed benchmarks ``names`` (or ``name(params)``
    keys) and its verdict."""
    verdict = Verdict(Outcome.PASS, pair.base, pair.head)
    selection = [selecting(name) for name in names]
    status, output = pair.continuous(selection, f"--factor={factor}", "-a", f"rounds={rounds}")
    if _status_problem(status, output, verdict):
        if verdict.outcome is Outcome.BROKEN:
            base, head = pair.load(pair.base), pair.load(pair.head)
            verdict.failures = _failures(base, "base", names) + _failures(head, "head", names)
        return verdict
    if status == 1:
        flagged = [row for row in _worse_rows(output) if not is_counted(row.key)]
        verdict.regressions = flagged or [Change("(asv's table above)", "", "", None, "timed")]
        verdict.outcome = Outcome.REGRESSION
    return verdict


def _timed_part(
    pair: _Pair, verdict: Verdict, names: Sequence[str], factor: float, rounds: int, confirm: int
) -> None:
    print(f"\n== Timed benchmarks (factor {factor}, {rounds} rounds) ==", file=pair.out)
    timed = _timed_run(pair, names, factor, rounds)
    for attempt in range(1, confirm + 1):
        if timed.outcome is not Outcome.REGRESSION:
            break
        keys = sorted({change.key for change in timed.regressions})
        print(f"\nConfirming {len(keys)} flagged timing(s), run {attempt + 1}:", file=pair.out)
        again = _timed_run(pair, keys, factor, rounds)
        if again.outcome in (Outcome.BROKEN, Outcome.ERROR):
            timed = again
            break
        still = {change.key for change in again.regressions}
        timed.unconfirmed += [c for c in timed.regressions if c.key not in still]
        timed.regressions = again.regressions
        if not timed.regressions:
            timed.outcome = Outcome.PASS
    verdict.regressions += timed.regressions
    verdict.unconfirmed += timed.unconfirmed
    verdict.failures += timed.failures
    if timed.outcome in (Outcome.BROKEN, Outcome.ERROR):
        verdict.outcome, verdict.message = timed.outcome, timed.message
        verdict.asv_status = timed.asv_status
    confirmed = f", a flagged one confirmed by {confirm} more run(s)" if confirm else ""
    verdict.decided_on.append(
        f"timed: {len(names)} benchmark(s), asv's statistics at factor {factor}, "
        f"{rounds} rounds{confirmed}"
    )


# -- the gate -----------------------------------------------------------------------------


def run_gate(
    project: Project,
    base: str | None = None,
    head: str = "HEAD",
    *,
    threshold: float = DEFAULT_THRESHOLD,
    factor: float = DEFAULT_FACTOR,
    rounds: int = DEFAULT_ROUNDS,
    confirm: int = DEFAULT_CONFIRM,
    full: bool = False,
    bench: Sequence[str] = (),
    results_dir: Path | None = None,
    measure_identical: bool = False,
    out: TextIO = sys.stdout,
) -> Verdict:
    """Judge ``head`` against ``base`` (default: its parent); see the module docstring.

    ``bench`` (regexes) narrows both parts to the benchmarks it selects. Commits with
    identical measured code pass at once, unmeasured, unless ``measure_identical``.
    """
    started = time.monotonic()
    try:
        head_hash = project.rev_parse(head)
        base_hash = project.rev_parse(base if base else f"{head_hash}^")
    except ProjectError as exc:  # an unknown revision, or a root commit without parent
        return Verdict(Outcome.ERROR, base or f"{head}^", head, message=str(exc))
    if not measure_identical and project.measured_code(base_hash) == project.measured_code(
        head_hash
    ):
        # The suite is the working tree's on both sides: the same package and dependencies
        # measure the same, so there is nothing to build, count or time.
        verdict = Verdict(Outcome.PASS, base_hash, head_hash, message=IDENTICAL)
        verdict.decided_on.append(
            "the measured code (src/, pyproject.toml) alone: identical at both commits, "
            "nothing built or measured"
        )
        verdict.seconds = time.monotonic() - started
        return verdict
    gate_dir = project.work_dir / "gate"
    results_dir = results_dir or gate_dir / "results"
    config = project.derive(
        gate_dir / "asv.conf.json",
        results_dir=results_dir,
        html_dir=gate_dir / "html",
        env_dir=gate_dir / "env",
    )
    verdict = Verdict(Outcome.PASS, base_hash, head_hash)
    for command in project.describe_machine(config):
        status, _ = _tee(command, project.root, out)
        if status != 0:
            break
    if status != 0:
        verdict.outcome, verdict.asv_status = Outcome.ERROR, status
        verdict.message = "asv machine failed"
        return verdict
    reason = counting_unavailable()
    if reason is not None:
        print(f"Instruction counts are n/a: {reason}. The gate decides on time alone.", file=out)
        verdict.decided_on.append(f"time alone for the CPU-bound code: {reason}")
    pair = _Pair(project, config, results_dir, base_hash, head_hash, out)
    if _counted_part(pair, verdict, threshold, bench, reason):
        everything_timed = full or reason is not None
        names = [
            name
            for name in benchmark_names(results_dir)
            if not is_counted(name)
            and (everything_timed or _matches(name, TIMED))
            and (not bench or _matches(name, bench))
        ]
        changed = _changed_connection_code(project, base_hash, head_hash)
        if names and not everything_timed and not changed:
            verdict.skipped = names
            verdict.decided_on.append(
                f"no timing: the change touches none of the code only the timings measure "
                f"({', '.join(CONNECTION_CODE)}); {len(names)} timing(s) skipped"
            )
        elif names:
            _timed_part(pair, verdict, names, factor, rounds, confirm)
    if verdict.outcome is Outcome.PASS and verdict.regressions:
        verdict.outcome = Outcome.REGRESSION
    verdict.seconds = time.monotonic() - started
    return verdict


# -- reporting ----------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def _changed_connection_code(project: Project, base: str, head: str) -> list[str]:
    """The files of :data:`CONNECTION_CODE` that differ between ``base`` and ``head``."""
    return project.git("diff", "--name-only", base, head, "--", *CONNECTION_CODE).split()


def _headline(verdict: Verdict) -> str:
    pair = f"{verdict.base[:8]} -> {verdict.head[:8]}"
    if verdict.outcome is Outcome.PASS:
        return f"GATE PASS ({pair})" + (f": {verdict.message}" if verdict.message else "")
    if verdict.outcome is Outcome.REGRESSION:
        return f"GATE FAIL: REGRESSION ({pair})"
    if verdict.outcome is Outcome.BROKEN:
        return f"GATE FAIL: BROKEN ({pair}): {verdict.message}"
    status = f" (asv status {verdict.asv_status})" if verdict.asv_status else ""
    return f"GATE ERROR{status}: {verdict.message}"


def print_verdict(verdict: Verdict, threshold: float, out: TextIO) -> None:
    print("", file=out)
    if verdict.improvements:
        print(f"Better by more than {threshold:.0%} (counted):", file=out)
        for change in verdict.improvements:
            print(f"  {change}", file=out)
    if verdict.floors_moved:
        print("Floors that moved (bare library calls no ws_stack change can slow: not judged):",
              file=out)  # fmt: skip
        for change in verdict.floors_moved:
            print(f"  {change}", file=out)
    if verdict.not_compared:
        print("Not compared:", file=out)
        for line in verdict.not_compared:
            print(f"  {line}", file=out)
    if verdict.unconfirmed:
        print("Timings flagged once but not confirmed by a second run (noise):", file=out)
        for change in verdict.unconfirmed:
            print(f"  {change}", file=out)
    if verdict.skipped:
        print("Timings skipped (the change touches no connection code; --full runs them):",
              file=out)  # fmt: skip
        for name in verdict.skipped:
            print(f"  {name}", file=out)
    print(_headline(verdict), file=out)
    for change in verdict.regressions:
        print(f"  {change.how}: {change}", file=out)
        if change.key in verdict.where:
            address = verdict.where[change.key]
            print("    where, by Python function (executed bytecodes per call):", file=out)
            lines = [str(shift) for shift in address.python]
            for line in lines or ["no Python function changed"]:
                print(f"      {line}", file=out)
            print("    where, by C function (instructions per call, callgrind):", file=out)
            lines = [str(shift) for shift in address.c]
            for line in lines or [address.c_unavailable or "no C function changed"]:
                print(f"      {line}", file=out)
        if change.key in verdict.flame_graphs:
            print(f"    flame graphs: {verdict.flame_graphs[change.key]}", file=out)
        if change.key in verdict.where_failed:
            print(f"    where: not found ({verdict.where_failed[change.key]})", file=out)
    for line in verdict.failures if verdict.outcome is Outcome.BROKEN else []:
        print(f"  {line}", file=out)
    for line in verdict.decided_on:
        print(f"Decided on {line}.", file=out)
    print(f"Gate wall time: {minutes(verdict.seconds)}.", file=out)


def _markdown_rows(changes: Sequence[Change]) -> list[str]:
    rows = [
        "| judged by | benchmark | before | after | ratio |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for change in changes:
        ratio = "from 0" if change.ratio is None else f"{change.ratio:.3f}x"
        cells = (change.how, f"`{change.key}`", change.before, change.after, ratio)
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _where_rows(kind: str, unit: str, found: Sequence[Shift]) -> list[str]:
    if not found:
        return [f"No {kind} changed ({unit}).", ""]
    rows = [f"| {kind} | where | before | after | change ({unit}) |"]
    rows.append("| --- | --- | ---: | ---: | ---: |")
    rows += [
        f"| `{shift.function}` | `{shift.place}` | {shift.before:,.1f} | {shift.after:,.1f} | "
        f"{shift.change:+,.1f} |"
        for shift in found
    ]
    return [*rows, ""]


def write_markdown(verdict: Verdict, threshold: float, path: Path) -> None:
    """The verdict as Markdown, for a pull-request comment or a CI job summary."""
    lines = [f"## ws_stack gate: {verdict.outcome.name}", ""]
    lines.append(f"`{verdict.base[:8]}` → `{verdict.head[:8]}`, {minutes(verdict.seconds)}.")
    if verdict.message:
        lines.append(f"{verdict.message}.")
    lines.append("")
    lines += [f"- decided on {line}" for line in verdict.decided_on]
    lines.append("")
    if verdict.regressions:
        lines += ["### Worse", "", *_markdown_rows(verdict.regressions), ""]
    for key, address in verdict.where.items():
        lines += [f"#### Where: `{key}`", ""]
        if key in verdict.flame_graphs:
            page = os.path.relpath(verdict.flame_graphs[key], path.parent)
            lines += [f"[Flame graphs]({page}): the head's call trees, each function "
                      "coloured by how much its own work grew.", ""]  # fmt: skip
        lines += _where_rows("Python function", "executed bytecodes per call", address.python)
        lines += _where_rows("C function", "instructions per call, callgrind", address.c)
        if address.c_unavailable:
            lines += [f"C functions: {address.c_unavailable}.", ""]
    for key, why in verdict.where_failed.items():
        lines += [f"#### Where: `{key}`", "", f"Not found: {why}.", ""]
    if verdict.improvements:
        lines += [f"### Better by more than {threshold:.0%}", ""]
        lines += [*_markdown_rows(verdict.improvements), ""]
    if verdict.floors_moved:
        lines += ["### Floors that moved (bare library calls, not judged)", ""]
        lines += [*_markdown_rows(verdict.floors_moved), ""]
    if verdict.failures:
        lines += ["### Failed", "", *[f"- `{line}`" for line in verdict.failures], ""]
    if verdict.unconfirmed:
        lines += ["### Flagged once, not confirmed (noise)", ""]
        lines += [*_markdown_rows(verdict.unconfirmed), ""]
    if verdict.skipped:
        lines += ["### Timings skipped: the change touches no connection code", ""]
        lines += [*[f"- `{name}`" for name in verdict.skipped], ""]
    if verdict.not_compared:
        lines += ["### Not compared", "", *[f"- `{line}`" for line in verdict.not_compared], ""]
    counted_changes = len(verdict.improvements) + sum(
        change.how == "counted" for change in verdict.regressions
    )
    within = verdict.compared - counted_changes
    lines.append(f"{within} of {verdict.compared} counted metrics within {threshold:.0%}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
