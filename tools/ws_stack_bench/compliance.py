"""The compliance report: every HFT target against asv's stored results for one commit.

A target passes when the worst of its selected values meets its rule. A target whose
benchmark has no value at that commit (the feature is newer, or the benchmark was skipped)
is MISSING: it is shown, and fails the report only with ``strict``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from ws_stack_bench.results import (
    BenchmarkValue,
    CommitResults,
    ResultsError,
    history,
    is_number,
    load_commit,
)
from ws_stack_bench.targets import TARGETS, Target

__all__ = ["Row", "Status", "baseline_finder", "evaluate", "format_figure", "print_report"]


class Status(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    MISSING = "n/a"


@dataclass(frozen=True)
class Row:
    target: Target
    status: Status
    #: The deciding figure, in the benchmark's unit (a factor for relative targets).
    measured: float | None = None
    #: Parameters of the deciding value, and for relative targets the baseline it used.
    detail: str = ""


#: Finds the baseline results for a relative target: (benchmark name) -> results or None.
BaselineFinder = Callable[[str], CommitResults | None]


def baseline_finder(
    results_dir: Path, measured: CommitResults, fixed: str | None = None
) -> BaselineFinder:
    """Where relative targets find their baseline: commit ``fixed`` (a full hash) if given,
    else the oldest stored commit, not newer than ``measured``, that measured the benchmark.
    """
    cache: dict[str, CommitResults | None] = {}

    def load(commit: str) -> CommitResults | None:
        if commit not in cache:
            try:
                cache[commit] = load_commit(results_dir, commit, measured.machine)
            except ResultsError:
                cache[commit] = None
        return cache[commit]

    stored = history(results_dir, measured.machine)

    def find(benchmark: str) -> CommitResults | None:
        if fixed is not None:
            return load(fixed)
        for date, commit in stored:
            if date > measured.date:
                break
            found = load(commit)
            values = found.values(benchmark) if found is not None else []
            if any(is_number(value.value) for value in values):
                return found
        return None

    return find


def _selected(values: list[BenchmarkValue], wanted: dict[str, Any]) -> list[BenchmarkValue]:
    return [v for v in values if all(_wanted(v.params, key, want) for key, want in wanted.items())]


def _wanted(params: dict[str, Any], key: str, want: Any) -> bool:
    if key not in params:
        return True
    return params[key] in want if isinstance(want, list | tuple) else params[key] == want


def _key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())


def _evaluate_one(target: Target, results: CommitResults, find_baseline: BaselineFinder) -> Row:
    values = [v for v in _selected(results.values(target.benchmark), target.params)]
    figures: list[Figure] = []
    if target.minus is not None:
        base = _numbers_by_params(results, target.minus)
        paired = _numbers_by_params(results, target.paired) if target.paired else {}
        for value in values:
            other = base.get(_key(value.params))
            if other is not None and is_number(value.value):
                note = f"{_shown(value)} - {_shown(other)}"
                difference = _number(value) - _number(other)
                figures.append(_decided(difference, value, note, paired, shown="time"))
    elif target.over is not None:
        figures = _ratios(target, values, results)
    elif target.spread is not None:
        figures = _spreads(target, values, results)
    elif target.relative:
        baseline = find_baseline(target.benchmark)
        if baseline is None:
            return Row(target, Status.MISSING, detail="no baseline commit with a value")
        before = {tuple(sorted(v.params.items())): v for v in baseline.values(target.benchmark)}
        for value in values:
            old = before.get(tuple(sorted(value.params.items())))
            if old is None or not is_number(value.value) or not is_number(old.value):
                continue
            assert value.value is not None and old.value is not None
            factor = (
                value.value / old.value if old.value else (1.0 if not value.value else math.inf)
            )
            note = (
                f"{_plain(value.value, value.unit)} vs {_plain(old.value, value.unit)} "
                f"at baseline {baseline.commit[:8]}"
            )
            figures.append((factor, value, note))
    else:
        figures = [(v.value, v, "") for v in values if is_number(v.value)]
    figures += _paired_only(target, results, {_key(value.params) for _, value, _ in figures})
    if not figures:
        return Row(target, Status.MISSING, detail="no value at this commit")
    worst = target.comparison.worst([figure for figure, _, _ in figures])
    _, value, note = next(f for f in figures if f[0] == worst)
    bound = _bound_note(target, value, results)
    beside = _beside_note(target, value, results)
    parts = (_params_text(value.params), beside, note, bound)
    detail = "; ".join(part for part in parts if part)
    status = Status.PASS if target.comparison.holds(worst, target.limit) else Status.FAIL
    return Row(target, status, worst, detail)


def _paired_only(target: Target, results: CommitResults, covered: set[Any]) -> list[Figure]:
    """The figures of the ``paired`` benchmark where the separate benchmarks have none
    (``covered``: the parameters they gave a figure for): the paired one decides anyway,
    and a commit measured for its targets alone (``ws-stack-bench compliance``) has only
    it."""
    if target.paired is None:
        return []
    figures: list[Figure] = []
    for pair in _selected(results.values(target.paired), target.params):
        if _key(pair.params) in covered or not is_number(pair.value):
            continue
        figure = 1.0 / _number(pair) if target.inverse else _number(pair)
        figures.append((figure, pair, "paired in one process"))
    return figures


def _beside_note(target: Target, value: BenchmarkValue, results: CommitResults) -> str:
    """The figure shown beside the deciding ``value`` (its p99, say), where measured."""
    if target.beside is None:
        return ""
    label, benchmark = target.beside
    for other in _selected(results.values(benchmark), value.params):
        if is_number(other.value):
            return f"{label} {format_figure(_number(other), target.display)}"
    return ""


def _bound_note(target: Target, value: BenchmarkValue, results: CommitResults) -> str:
    """The target's bound where the deciding ``value`` has one: the lowest ratio any
    implementation can reach there, and whether the rule lies within it."""
    if target.bound is None:
        return ""
    for bound in _selected(results.values(target.bound), value.params):
        if is_number(bound.value):
            figure = 1.0 / _number(bound) if target.inverse else _number(bound)
            reach = "within" if target.comparison.holds(figure, target.limit) else "out of"
            return f"bound {format_figure(figure, target.display)}: {reach} reach"
    return ""


Figure = tuple[float, BenchmarkValue, str]


def _ratios(target: Target, values: list[BenchmarkValue], results: CommitResults) -> list[Figure]:
    """Each value over its floor (the ``over`` benchmark at the same parameters), or the
    ratio the ``paired`` benchmark measured in one process where it has one."""
    assert target.over is not None
    floors = _numbers_by_params(results, target.over)
    paired = _numbers_by_params(results, target.paired) if target.paired else {}
    figures = []
    for value in values:
        floor = floors.get(_key({**value.params, **target.over_params}))
        if floor is None or not is_number(value.value):
            continue
        top, bottom = (floor, value) if target.inverse else (value, floor)
        if not _number(bottom):
            continue
        ratio = _number(top) / _number(bottom)
        note = f"{_shown(top)} / {_shown(bottom)}"
        figures.append(_decided(ratio, value, note, paired, target.inverse))
    return figures


def _decided(
    apart: float,
    value: BenchmarkValue,
    note: str,
    paired: dict[Any, BenchmarkValue],
    inverse: bool = False,
    shown: str = "multiple",
) -> Figure:
    """The figure of ``value``: its paired ratio (or difference) where measured,
    inverted for an inverse target and showing the figure of the separate benchmarks
    too, else the figure of the separate benchmarks."""
    pair = paired.get(_key(value.params))
    if pair is None:
        return apart, value, note
    figure = 1.0 / _number(pair) if inverse else _number(pair)
    apart_text = format_figure(apart, shown)
    return figure, value, f"paired in one process; apart {note} = {apart_text}"


def _numbers_by_params(results: CommitResults, benchmark: str) -> dict[Any, BenchmarkValue]:
    return {_key(v.params): v for v in results.values(benchmark) if is_number(v.value)}


def _spreads(target: Target, values: list[BenchmarkValue], results: CommitResults) -> list[Figure]:
    """Largest over smallest value across the ``spread`` parameter, per combination of the
    other parameters, or the spread the ``paired`` benchmark measured where it has one."""
    axis = target.spread
    assert axis is not None
    paired = _numbers_by_params(results, target.paired) if target.paired else {}
    groups: dict[tuple[tuple[str, Any], ...], list[BenchmarkValue]] = {}
    for value in values:
        if is_number(value.value):
            rest = {key: v for key, v in value.params.items() if key != axis}
            groups.setdefault(_key(rest), []).append(value)
    figures = []
    for group in groups.values():
        high, low = max(group, key=_number), min(group, key=_number)
        if len(group) < 2 or not _number(low):
            continue
        most, least = high.params[axis], low.params[axis]
        note = f"{axis}={most}: {_shown(high)} vs {axis}={least}: {_shown(low)}"
        rest = {key: v for key, v in high.params.items() if key != axis}
        spread = _number(high) / _number(low)
        figures.append(_decided(spread, replace(high, params=rest), note, paired))
    return figures


def _shown(value: BenchmarkValue) -> str:
    """A value with its unit, times as a person writes them (12.3 us)."""
    if value.unit == "seconds":
        return format_figure(_number(value), "time")
    return _plain(_number(value), value.unit)


def _number(value: BenchmarkValue) -> float:
    assert value.value is not None
    return value.value


def evaluate(
    results: CommitResults,
    find_baseline: BaselineFinder,
    targets: Sequence[Target] = TARGETS,
) -> list[Row]:
    """One row per target, in the order of the targets table."""
    return [_evaluate_one(target, results, find_baseline) for target in targets]


def _plain(value: float, unit: str) -> str:
    return f"{value:g} {unit}".strip()


def format_figure(value: float | None, display: str) -> str:
    """A figure as a person reads it: 12.3 us, 81.0 %, 1.04x, 0."""
    if value is None:
        return "-"
    if display == "time":
        for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {unit}"
        return f"{value / 1e-9:.3g} ns"
    if display == "ratio":
        return f"{value * 100:.1f} %"
    if display == "factor":
        return f"{value * 100:.1f} % of baseline"
    if display == "multiple":
        return f"{value:.2f}x"
    return f"{value:g}"


def print_report(rows: Sequence[Row], commit: str, machine: str, out: TextIO) -> None:
    """The PASS/FAIL table and a one-line verdict."""
    header = ("target", "rule", "measured", "status", "worst case")
    lines = [
        (
            row.target.title,
            row.target.rule,
            format_figure(row.measured, row.target.display),
            row.status.value,
            row.detail,
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(4)]
    print(f"HFT targets at commit {commit[:8]} (asv machine {machine!r}):", file=out)

    def emit(cells: Sequence[str]) -> None:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        print("  " + "  ".join([*padded, cells[4]]).rstrip(), file=out)

    emit(header)
    emit(["-" * width for width in widths] + ["-" * len(header[4])])
    for cells in lines:
        emit(cells)
    counts = {status: sum(row.status is status for row in rows) for status in Status}
    print(
        f"{counts[Status.PASS]} PASS, {counts[Status.FAIL]} FAIL, "
        f"{counts[Status.MISSING]} n/a (not measured at this commit)",
        file=out,
    )
