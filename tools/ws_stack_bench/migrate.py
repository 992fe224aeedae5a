"""Stored results kept in step with benchmarks that gained a parameter.

asv keys a parameterised benchmark's values by the tuple of its parameter values, so a
benchmark that gains a parameter would lose its history: a value stored for
``('gateio',)`` matches nothing of ``('gateio', 'websockets')``, and the graph starts
again. Where the old values were measured at one value of the new parameter (every
connection benchmark ran on websockets before the transport could be chosen), they are
that value's series. :func:`migrate` rewrites them so in the stored results: the new
parameter goes last, the old values become the values at :attr:`Added.stored_as`, and
the other values of the new parameter are n/a (NaN) at those commits, as a benchmark that
could not run there would have stored.

Every command that reads or extends the stored history runs it first; it is idempotent
(a result that already has the parameter is left alone).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PARAMETERS_ADDED", "Added", "migrate"]


@dataclass(frozen=True)
class Added:
    """A parameter added last to a benchmark: its values, and which one old results had."""

    values: tuple[str, ...]
    stored_as: str

    def __post_init__(self) -> None:
        if self.stored_as not in self.values:
            raise ValueError(f"{self.stored_as!r} is not one of {self.values}")


_TRANSPORT = Added(values=("websockets", "picows"), stored_as="websockets")

#: Benchmarks that gained a parameter, and what their earlier results were measured at.
PARAMETERS_ADDED: dict[str, Added] = {
    f"bench_connection.{name}": _TRANSPORT
    for name in (
        "ConsumeFrame.time_consume_frame",
        "ConsumeFrameInstructions.track_consume_frame",
        "EndToEnd.time_1000_frames",
        "EndToEnd.track_handler_latency_p99_ns",
        "BareReceive.time_1000_frames",
        "EndToEndOverBare.track_ratio",
        "ParseApplyOverBare.track_ratio",
        "Subscriptions.track_frame_time",
        "SubscriptionsSpread.track_spread",
    )
}

#: Result columns with one entry per parameter combination, and what a combination that
#: was never measured holds in each (``result``: n/a; statistics and samples: none).
_PER_COMBINATION = {
    "result": math.nan,
    "stats_ci_99_a": None,
    "stats_ci_99_b": None,
    "stats_q_25": None,
    "stats_q_75": None,
    "stats_number": None,
    "stats_repeat": None,
    "samples": None,
}


def migrate(results_dir: Path, added: dict[str, Added] | None = None) -> list[Path]:
    """Rewrite the result files under ``results_dir`` that predate a parameter in
    ``added`` (default :data:`PARAMETERS_ADDED`); the files changed."""
    added = PARAMETERS_ADDED if added is None else added
    changed = []
    for path in sorted(results_dir.glob("*/*.json")):
        if path.name == "machine.json":
            continue
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "result_columns" not in data:
            continue
        columns = data["result_columns"]
        rows = data.get("results", {})
        touched = False
        for name, parameter in added.items():
            row = rows.get(name)
            if row is not None and _add_parameter(row, columns, parameter):
                touched = True
        if touched:
            # As asv writes its results: compact, NaN as a bare NaN.
            path.write_text(json.dumps(data))
            changed.append(path)
    return changed


def _add_parameter(row: list[Any], columns: list[str], parameter: Added) -> bool:
    at = {column: index for index, column in enumerate(columns)}
    params = row[at["params"]]
    values = [repr(value) for value in parameter.values]
    if not params:
        raise ValueError("a parameter is only ever added to a parameterised benchmark")
    if params[-1] == values:
        return False
    slot = values.index(repr(parameter.stored_as))
    row[at["params"]] = [*params, values]
    for column, missing in _PER_COMBINATION.items():
        index = at.get(column)
        if index is None or index >= len(row) or row[index] is None:
            continue
        old = row[index]
        row[index] = [
            value if position == slot else missing
            for value in old
            for position in range(len(values))
        ]
    return True
