"""Reading asv's stored results (``results_dir/<machine>/<commit>-<env>.json``).

asv's own Python API is not public, so this reads the documented on-disk format (result
file api version 2) directly: one file per machine, commit and environment, with the
benchmark values in ``results[name][0]``, flattened over the product of the parameters in
``results[name][1]``.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from ws_stack_bench.project import Project

__all__ = [
    "BenchmarkValue",
    "CommitResults",
    "ResultsError",
    "benchmark_meta",
    "benchmark_names",
    "history",
    "is_number",
    "load_commit",
    "load_measured",
    "machines",
]

RESULT_API_VERSION = 2


class ResultsError(Exception):
    """Stored results that are missing or not in the expected format."""


@dataclass(frozen=True)
class BenchmarkValue:
    """One value of one benchmark at one parameter combination."""

    name: str
    params: dict[str, Any]
    #: ``None`` when the benchmark failed, NaN when it was skipped (n/a).
    value: float | None
    version: str | None
    unit: str


def _literal(text: str) -> Any:
    """asv stores parameter values as their ``repr``; give back the value."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class CommitResults:
    """Every benchmark value asv stored for one commit on one machine (all environments)."""

    def __init__(
        self, commit: str, machine: str, files: list[Path], benchmarks: Mapping[str, Any]
    ) -> None:
        self.commit = commit
        self.machine = machine
        self.files = files
        self._benchmarks = benchmarks
        self._raw: dict[str, tuple[list[Any], list[list[str]], str | None]] = {}
        for path in files:
            data = json.loads(path.read_text())
            if data.get("version") != RESULT_API_VERSION:
                raise ResultsError(f"{path}: unsupported asv result format {data.get('version')}")
            self.date = int(data.get("date") or 0)
            columns = data["result_columns"]
            at = {column: index for index, column in enumerate(columns)}
            for name, row in data["results"].items():
                result = row[at["result"]]
                params = row[at["params"]] if "params" in at else []
                version = row[at["version"]] if "version" in at else None
                if not isinstance(result, list):
                    result = [result]
                # Environments are alternatives; the first one with a value wins.
                if name not in self._raw or all(v is None for v in self._raw[name][0]):
                    self._raw[name] = (result, params, version)

    def names(self) -> list[str]:
        return sorted(self._raw)

    def values(self, name: str) -> list[BenchmarkValue]:
        """Every stored value of benchmark ``name`` (empty if it was not run)."""
        if name not in self._raw:
            return []
        result, params, version = self._raw[name]
        meta = self._benchmarks.get(name, {})
        param_names = meta.get("param_names", [f"param{i + 1}" for i in range(len(params))])
        unit = meta.get("unit", "")
        combos = list(itertools.product(*params)) if params else [()]
        out = []
        for combo, value in zip(combos, result, strict=False):
            named = {key: _literal(text) for key, text in zip(param_names, combo, strict=False)}
            number = None if value is None else float(value)
            out.append(BenchmarkValue(name, named, number, version, unit))
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def machines(results_dir: Path) -> list[str]:
    """Machine names with a ``machine.json`` under ``results_dir``."""
    if not results_dir.is_dir():
        return []
    return sorted(p.parent.name for p in results_dir.glob("*/machine.json"))


def benchmark_meta(results_dir: Path) -> dict[str, Any]:
    """What asv's last discovery for ``results_dir`` says of each benchmark (its params,
    unit, version...), by name."""
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    data.pop("version", None)
    return data


def benchmark_names(results_dir: Path) -> list[str]:
    """Every benchmark of the suite, as asv's last discovery for ``results_dir`` found it."""
    return sorted(benchmark_meta(results_dir))


def load_commit(results_dir: Path, commit: str, machine: str | None = None) -> CommitResults:
    """The stored results of ``commit`` (a full hash) on ``machine``.

    Without ``machine``, the machine whose results for that commit were written last.
    """
    candidates = [machine] if machine else machines(results_dir)
    found: list[tuple[float, str, list[Path]]] = []
    for name in candidates:
        files = sorted((results_dir / name).glob(f"{commit[:8]}-*.json"))
        files = [f for f in files if _commit_of(f) == commit]
        if files:
            found.append((max(f.stat().st_mtime for f in files), name, files))
    if not found:
        where = f"machine {machine!r}" if machine else f"any machine in {results_dir}"
        raise ResultsError(f"no stored asv results for commit {commit[:8]} on {where}")
    _, name, files = max(found)
    return CommitResults(commit, name, files, benchmark_meta(results_dir))


def _commit_of(path: Path) -> str | None:
    return _header(path)[0]


def _header(path: Path) -> tuple[str | None, int]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, 0
    return data.get("commit_hash"), int(data.get("date") or 0)


def history(results_dir: Path, machine: str) -> list[tuple[int, str]]:
    """``(commit date in ms, commit hash)`` of every commit stored for ``machine``, oldest first."""
    commits: dict[str, int] = {}
    for path in (results_dir / machine).glob("*.json"):
        if path.name == "machine.json":
            continue
        commit, date = _header(path)
        if commit:
            commits[commit] = date
    return sorted((date, commit) for commit, date in commits.items())


def is_number(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value)


def load_measured(
    project: Project, commit: str, machine: str | None = None
) -> tuple[CommitResults, str | None]:
    """The stored results of ``commit``, or of its nearest first-parent ancestor whose
    measured code is identical (a commit that changed only the README, the tests or the
    tooling has the figures of the commit it follows); with the line that says so, or
    ``None`` for the commit's own. Raises :class:`ResultsError` when neither has any."""
    try:
        return load_commit(project.results_dir, commit, machine), None
    except ResultsError as missing:
        for ancestor in project.same_code_ancestors(commit):
            try:
                found = load_commit(project.results_dir, ancestor, machine)
            except ResultsError:
                continue
            note = (
                f"No stored results for {commit[:8]}: using {ancestor[:8]}'s, its nearest "
                f"measured ancestor with identical measured code."
            )
            return found, note
        raise missing from None
