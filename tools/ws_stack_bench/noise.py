"""How far each benchmark moves on identical code: its noise, from the stored history.

Commits whose measured code is identical (:meth:`Project.measured_code`) should give the
same figures; whatever spread their stored values show is the machine's noise. For every
benchmark, at every parameter combination, each group of two or more such commits gives
one spread, largest over smallest value minus one; a benchmark's noise is the largest of
them. A change smaller than that means nothing on this machine; the published
Regressions page uses it as the benchmark's threshold (see :func:`thresholds`), and the
counts (instructions, allocations) show a noise of 0.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ws_stack_bench.gate import FLOORS, is_counted
from ws_stack_bench.project import Project, ProjectError
from ws_stack_bench.results import CommitResults, ResultsError, history, is_number, load_commit

__all__ = [
    "FLOORS",
    "Noise",
    "Step",
    "first_commits",
    "listed_steps",
    "measure_noise",
    "print_noise",
    "thresholds",
    "write_page",
]

#: The least threshold of a timed benchmark, and how far above its noise it is set.
LEAST_THRESHOLD = 0.10
NOISE_MARGIN = 1.5
#: The threshold of a timed benchmark whose noise is unknown (no two commits of identical
#: measured code measured it yet): the gate's factor.
UNKNOWN_NOISE_THRESHOLD = 0.25
#: The threshold of a counted metric: the gate's.
COUNTED_THRESHOLD = 0.02


@dataclass(frozen=True)
class Noise:
    benchmark: str
    #: Largest over smallest value minus one, the largest over groups and parameters.
    spread: float
    #: Spreads measured: (parameter combination, group of identical code) pairs.
    samples: int
    #: Where the largest spread was seen: parameters and the group's commits.
    where: str


def _groups(project: Project, machine: str) -> list[list[str]]:
    """Stored commits of ``machine`` grouped by identical measured code (2 or more)."""
    groups: dict[str, list[str]] = {}
    for _, commit in history(project.results_dir, machine):
        try:
            code = project.measured_code(commit)
        except ProjectError:  # a commit no longer in this repository
            continue
        groups.setdefault(code, []).append(commit)
    return [commits for commits in groups.values() if len(commits) >= 2]


def measure_noise(project: Project, machine: str) -> list[Noise]:
    """Every benchmark's noise on ``machine``, from its stored results, by name."""
    spreads: dict[str, list[tuple[float, str]]] = {}
    for commits in _groups(project, machine):
        loaded: list[CommitResults] = []
        for commit in commits:
            try:
                loaded.append(load_commit(project.results_dir, commit, machine))
            except ResultsError:
                continue
        names = sorted({name for results in loaded for name in results.names()})
        for name in names:
            by_params: dict[str, list[float]] = {}
            for results in loaded:
                for value in results.values(name):
                    if is_number(value.value) and value.value and value.value > 0:
                        params = ", ".join(f"{k}={v}" for k, v in value.params.items())
                        by_params.setdefault(params, []).append(float(value.value))
            for params, values in by_params.items():
                if len(values) >= 2:
                    where = f"{params or '-'} over {len(values)} commits from {commits[0][:8]}"
                    spreads.setdefault(name, []).append((max(values) / min(values) - 1, where))
    found = []
    for name, measured in sorted(spreads.items()):
        spread, where = max(measured)
        found.append(Noise(name, spread, len(measured), where))
    return found


def _exactly(name: str) -> str:
    """A regex for asv's ``regressions_*`` settings that matches benchmark ``name`` alone:
    asv matches it against ``name(params)@branch``."""
    return f"{re.escape(name)}(\\(|@|$)"


def thresholds(noise: Sequence[Noise], names: Sequence[str]) -> dict[str, float]:
    """asv's ``regressions_thresholds`` for benchmarks ``names``: each one's own, from its
    noise (asv takes the largest threshold whose regex matches, so there is one per name)."""
    spreads = {item.benchmark: item.spread for item in noise}
    found: dict[str, float] = {}
    for name in names:
        if is_counted(name):
            threshold = COUNTED_THRESHOLD
        elif name in spreads:
            threshold = max(LEAST_THRESHOLD, round(NOISE_MARGIN * spreads[name], 2))
        else:
            threshold = UNKNOWN_NOISE_THRESHOLD
        found[_exactly(name)] = threshold
    return found


def first_commits() -> dict[str, None]:
    """asv's ``regressions_first_commits``: no regression is reported for a floor."""
    return dict.fromkeys(FLOORS)


def print_noise(noise: Sequence[Noise], out: TextIO) -> None:
    timed = [item for item in noise if not is_counted(item.benchmark)]
    counted = [item for item in noise if is_counted(item.benchmark)]
    print("Noise: how far each timed benchmark moved on identical measured code", file=out)
    width = max((len(item.benchmark) for item in timed), default=10)
    for item in sorted(timed, key=lambda item: -item.spread):
        print(
            f"  {item.benchmark:<{width}}  {item.spread:7.1%}  ({item.samples} spreads; "
            f"largest at {item.where})",
            file=out,
        )
    moved = [item for item in counted if item.spread > 0]
    print(
        f"  counted metrics: {len(counted)} benchmarks, "
        f"{'none moved' if not moved else f'{len(moved)} moved'} on identical code",
        file=out,
    )
    for item in moved:
        print(f"    {item.benchmark}: {item.spread:.2%} at {item.where}", file=out)


def write_page(noise: Sequence[Noise], limits: dict[str, float], path: Path) -> None:
    """A page of the noise table, published next to asv's ``index.html``."""
    rows = []
    for item in sorted(noise, key=lambda item: (is_counted(item.benchmark), -item.spread)):
        limit = next(
            (value for regex, value in limits.items() if re.match(regex, item.benchmark)), None
        )
        cells = [
            f"<code>{html.escape(item.benchmark)}</code>",
            f"{item.spread:.1%}",
            "-" if limit is None else f"{limit:.0%}",
            str(item.samples),
            html.escape(item.where),
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    path.write_text(
        _PAGE.format(rows="\n".join(rows), floors=html.escape(", ".join(FLOORS))),
        encoding="utf-8",
    )


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ws_stack benchmarks: noise</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}
tr:nth-child(even){{background:#f4f4f4}}</style></head><body>
<h1>Noise on identical code</h1>
<p>Commits whose measured code (the package and its dependencies) is identical should give
the same figures. For each benchmark: the largest spread (largest over smallest value,
minus one) its stored values show over a group of such commits, at any parameters; a
change smaller than that means nothing on this machine. The Regressions page reports a
step of a timed benchmark only beyond its threshold here (at least 10 %, and 1.5 times its
noise), of a counted one beyond 2 %, and never of a floor ({floors}).
<a href="index.html">Back to the graphs</a>.</p>
<table><tr><th>benchmark</th><th>noise</th><th>threshold</th><th>spreads</th>
<th>largest at</th></tr>
{rows}
</table></body></html>
"""


@dataclass(frozen=True)
class Step:
    """A step asv's Regressions page lists, and the two measured commits around it."""

    entry: str
    before: str
    after: str
    ratio: float
    #: Whether the two commits' measured code is identical: the step is noise.
    identical: bool


def listed_steps(project: Project, html_dir: Path) -> list[Step]:
    """Every step the published Regressions page in ``html_dir`` lists."""
    regressions = html_dir / "regressions.json"
    if not regressions.is_file():
        return []
    index = json.loads((html_dir / "index.json").read_text())
    commits = {int(rev): commit for rev, commit in index["revision_to_hash"].items()}
    steps = []
    for entry, graph, _, column, _, _, jumps in json.loads(regressions.read_text())["regressions"]:
        series = json.loads((html_dir / graph).read_text())
        measured = sorted(rev for rev, value in series if _value_at(value, column) is not None)
        for _, after_rev, before_value, after_value in jumps:
            earlier = [rev for rev in measured if rev < after_rev]
            if not earlier or after_rev not in commits or earlier[-1] not in commits:
                continue
            before, after = commits[earlier[-1]], commits[after_rev]
            identical = project.measured_code(before) == project.measured_code(after)
            ratio = after_value / before_value if before_value else math.inf
            steps.append(Step(entry, before, after, ratio, identical))
    return steps


def _value_at(value: Any, column: int | None) -> Any:
    """The value of one parameter combination in a graph's point (a list per combination,
    or a single value for a benchmark without parameters)."""
    if isinstance(value, list):
        return value[column] if column is not None and column < len(value) else None
    return value
