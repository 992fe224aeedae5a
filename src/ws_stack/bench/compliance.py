"""The compliance report: every HFT target against asv's stored results for one commit.

A target passes when the worst of its selected values meets its rule. A target whose
benchmark has no value at that commit (the feature is newer, or the benchmark was skipped)
is MISSING: it is shown, and fails the report only with ``strict``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ws_stack.bench.results import BenchmarkValue, CommitResults, is_number
from ws_stack.bench.targets import TARGETS, Target

__all__ = ["Row", "Status", "evaluate", "format_figure", "print_report"]


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


def _selected(values: list[BenchmarkValue], wanted: dict[str, Any]) -> list[BenchmarkValue]:
    return [
        v for v in values if all(v.params.get(key, want) == want for key, want in wanted.items())
    ]


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())


def _evaluate_one(target: Target, results: CommitResults, find_baseline: BaselineFinder) -> Row:
    values = [v for v in _selected(results.values(target.benchmark), target.params)]
    figures: list[tuple[float, BenchmarkValue, str]] = []
    if target.minus is not None:
        base = {tuple(sorted(v.params.items())): v for v in results.values(target.minus)}
        for value in values:
            other = base.get(tuple(sorted(value.params.items())))
            if other is not None and is_number(value.value) and is_number(other.value):
                figures.append((value.value - other.value, value, ""))  # type: ignore[operator]
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
        figures = [(v.value, v, "") for v in values if is_number(v.value)]  # type: ignore[misc]
    if not figures:
        return Row(target, Status.MISSING, detail="no value at this commit")
    worst = target.comparison.worst([figure for figure, _, _ in figures])
    _, value, note = next(f for f in figures if f[0] == worst)
    detail = "; ".join(part for part in (_params_text(value.params), note) if part)
    status = Status.PASS if target.comparison.holds(worst, target.limit) else Status.FAIL
    return Row(target, status, worst, detail)


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
