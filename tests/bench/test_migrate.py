"""Stored results brought in step with benchmarks that gained a parameter."""

from __future__ import annotations

import json
import math

from ws_stack_bench import results
from ws_stack_bench.migrate import PARAMETERS_ADDED, Added, migrate

from .asv_results import write_results

TRANSPORT = Added(values=("websockets", "picows"), stored_as="websockets")
NAME = "bench_connection.EndToEnd.time_1000_frames"
COMMIT = "a" * 40


def test_old_values_become_the_stored_as_series_and_the_rest_is_na(tmp_path):
    path = write_results(
        tmp_path, COMMIT, {NAME: [0.5, 0.25]}, params={NAME: {"venue": ["mexc", "gateio"]}}
    )
    assert migrate(tmp_path, {NAME: TRANSPORT}) == [path]
    row = json.loads(path.read_text())["results"][NAME]
    assert row[1] == [["'mexc'", "'gateio'"], ["'websockets'", "'picows'"]]
    assert row[0][0] == 0.5 and row[0][2] == 0.25
    assert math.isnan(row[0][1]) and math.isnan(row[0][3])
    # The reader sees the websockets series where it was, and n/a for picows.
    meta = tmp_path / "benchmarks.json"
    data = json.loads(meta.read_text())
    data[NAME]["param_names"] = ["venue", "transport"]
    meta.write_text(json.dumps(data))
    values = results.load_commit(tmp_path, COMMIT).values(NAME)
    by_params = {tuple(v.params.values()): v.value for v in values}
    assert by_params[("mexc", "websockets")] == 0.5
    assert by_params[("gateio", "websockets")] == 0.25
    assert math.isnan(by_params[("gateio", "picows")])


def test_statistics_and_samples_follow_their_values(tmp_path):
    path = write_results(tmp_path, COMMIT, {NAME: [1.0]}, params={NAME: {"venue": ["mexc"]}})
    data = json.loads(path.read_text())
    data["result_columns"] = ["result", "params", "version", "stats_q_25", "samples"]
    data["results"][NAME] += [[0.9], [[1.0, 1.1]]]
    path.write_text(json.dumps(data))
    migrate(tmp_path, {NAME: TRANSPORT})
    row = json.loads(path.read_text())["results"][NAME]
    assert row[3] == [0.9, None] and row[4] == [[1.0, 1.1], None]


def test_migrating_twice_changes_nothing_more(tmp_path):
    write_results(tmp_path, COMMIT, {NAME: [0.5]}, params={NAME: {"venue": ["mexc"]}})
    assert len(migrate(tmp_path, {NAME: TRANSPORT})) == 1
    before = {p: p.read_text() for p in tmp_path.rglob("*.json")}
    assert migrate(tmp_path, {NAME: TRANSPORT}) == []
    assert {p: p.read_text() for p in tmp_path.rglob("*.json")} == before


def test_results_measured_with_the_parameter_are_left_alone(tmp_path):
    axes = {"venue": ["mexc"], "transport": ["websockets", "picows"]}
    path = write_results(tmp_path, COMMIT, {NAME: [0.5, 0.2]}, params={NAME: axes})
    text = path.read_text()
    assert migrate(tmp_path, {NAME: TRANSPORT}) == []
    assert path.read_text() == text


def test_every_benchmark_that_gained_the_transport_has_it_last():
    import importlib
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for name, added in PARAMETERS_ADDED.items():
        module, cls, method = name.split(".")
        benchmark = getattr(importlib.import_module(f"benchmarks.{module}"), cls)
        assert hasattr(benchmark, method), name
        if hasattr(benchmark, "twin"):  # a count twin takes its twin's parameters
            benchmark = benchmark.twin
        assert benchmark.param_names[-1] == "transport", name
        assert tuple(benchmark.params[-1]) == added.values, name
