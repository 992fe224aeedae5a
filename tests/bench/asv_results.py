"""Writes asv result files (api version 2) for tests that must not run asv."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

ENV = "virtualenv-py3.11"


def write_results(
    results_dir: Path,
    commit: str,
    values: dict[str, Any],
    *,
    params: dict[str, dict[str, list[Any]]] | None = None,
    units: dict[str, str] | None = None,
    durations: dict[str, float] | None = None,
    date: int = 1_700_000_000_000,
    machine: str = "testbox",
) -> Path:
    """Results of ``commit``: ``values[name]`` is one value, or a list over the product of
    ``params[name]`` (parameter name -> values, in asv's order); ``units[name]`` defaults
    to ``"x"``; ``durations[name]``, the seconds asv took to measure it, is stored where
    given."""
    params = params or {}
    machine_dir = results_dir / machine
    machine_dir.mkdir(parents=True, exist_ok=True)
    (machine_dir / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))
    meta_path = results_dir / "benchmarks.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"version": 2}
    rows = {}
    for name, value in values.items():
        axes = params.get(name, {})
        reprs = [[repr(v) for v in axis] for axis in axes.values()]
        result = value if axes else [value]
        assert len(result) == len(list(itertools.product(*reprs)) if axes else [0])
        rows[name] = [result, reprs, "1"]
        if durations:
            rows[name] += [date, durations.get(name)]  # started_at (ms), duration (s)
        unit = (units or {}).get(name, "x")
        meta[name] = {"name": name, "param_names": list(axes), "params": reprs, "unit": unit,
                      "version": "1"}  # fmt: skip
    meta_path.write_text(json.dumps(meta))
    data = {
        "commit_hash": commit,
        "env_name": ENV,
        "date": date,
        "params": {"machine": machine},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": [
            "result",
            "params",
            "version",
            *(["started_at", "duration"] if durations else []),
        ],
        "results": rows,
        "durations": {},
        "version": 2,
    }
    path = machine_dir / f"{commit[:8]}-{ENV}.json"
    path.write_text(json.dumps(data))
    return path
