"""``ws-stack-bench merge DIR...``: results directories of other runners into the history.

asv keeps one result file per machine, commit and environment
(``<machine>/<commit>-<environment>.json``), a ``machine.json`` per machine and one
``benchmarks.json`` describing the suite. Runners that shared the history's plan
(``ws-stack-bench history --shard K/N``) each hold some of those files; merging them is
mostly copying. Where two hold the same file (the same commit measured on both, say a
stretch both had to fill in), their benchmarks are united: a value one lacks or failed is
taken from the other, and where both have one, the history's own is kept and reported
(counts agree by construction; two timings of one commit differ by the machine's noise,
and one is as good as the other).

What may be merged is in docs/history.md: counts across runners with the same
environment (Python build, valgrind, package versions), timings only under one machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MergeError", "MergeReport", "merge"]


class MergeError(Exception):
    """A directory that is not asv results, or files that cannot be united."""


@dataclass
class MergeReport:
    #: Result files copied as they were (``<machine>/<file>``).
    added: list[str] = field(default_factory=list)
    #: Result files the history had, given benchmarks they lacked.
    merged: list[str] = field(default_factory=list)
    #: Result files the history already had, the same.
    same: list[str] = field(default_factory=list)
    #: ``file: benchmark`` measured in both, differently: the history's kept.
    kept: list[str] = field(default_factory=list)


def merge(results_dir: Path, sources: Sequence[Path]) -> MergeReport:
    """Bring every result file of ``sources`` (asv results directories) into
    ``results_dir``; see the module docstring."""
    report = MergeReport()
    for source in sources:
        if source.resolve() == results_dir.resolve():
            raise MergeError(f"{source} is the history itself")
        if not (source / "benchmarks.json").is_file():
            raise MergeError(f"{source}: no benchmarks.json, not an asv results directory")
        _merge_suite(results_dir / "benchmarks.json", source / "benchmarks.json")
        for machine_file in sorted(source.glob("*/machine.json")):
            target = results_dir / machine_file.parent.name / "machine.json"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(machine_file.read_bytes())
        for path in sorted(source.glob("*/*.json")):
            if path.name == "machine.json":
                continue
            name = f"{path.parent.name}/{path.name}"
            target = results_dir / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
                report.added.append(name)
            elif target.read_bytes() == path.read_bytes():
                report.same.append(name)
            elif _merge_file(target, path, name, report):
                report.merged.append(name)
            else:
                report.same.append(name)
    return report


def _load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: {exc}") from None
    return data


def _merge_suite(target: Path, source: Path) -> None:
    """``benchmarks.json``: the union (a benchmark both describe keeps the history's)."""
    incoming = _load(source)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(incoming, indent=4, sort_keys=True))
        return
    suite = _load(target)
    added = {key: value for key, value in incoming.items() if key not in suite}
    if added:
        target.write_text(json.dumps({**suite, **added}, indent=4, sort_keys=True))


def _has_value(row: list[Any]) -> bool:
    result = row[0] if row else None
    values = result if isinstance(result, list) else [result]
    return any(value is not None for value in values)


def _merge_file(target: Path, source: Path, name: str, report: MergeReport) -> bool:
    """United benchmarks of two result files of one commit; whether ``target`` changed."""
    ours, theirs = _load(target), _load(source)
    for key in ("commit_hash", "env_name", "version"):
        if ours.get(key) != theirs.get(key):
            raise MergeError(f"{name}: {key} differs ({ours.get(key)!r} vs {theirs.get(key)!r})")
    if ours.get("result_columns") != theirs.get("result_columns"):
        raise MergeError(f"{name}: written by different asv versions (result columns differ)")
    changed = False
    results: dict[str, list[Any]] = ours["results"]
    for benchmark, row in theirs["results"].items():
        mine = results.get(benchmark)
        if mine is None or (not _has_value(mine) and _has_value(row)):
            results[benchmark] = row
            changed = True
        elif row[:1] != mine[:1] and _has_value(row):
            report.kept.append(f"{name}: {benchmark}")
    for key, seconds in theirs.get("durations", {}).items():
        if key not in ours.setdefault("durations", {}):
            ours["durations"][key] = seconds
            changed = True
    if changed:
        target.write_text(json.dumps(ours, indent=None, sort_keys=True))
    return changed
