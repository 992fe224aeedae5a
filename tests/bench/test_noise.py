"""Noise on identical code (``ws_stack_bench.noise``), the Regressions page's thresholds
from it, and the check that the page lists no step between commits of identical code."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import pytest

from ws_stack_bench import noise
from ws_stack_bench.noise import Noise, listed_steps, measure_noise, print_noise, thresholds

from .asv_results import write_results
from .repository import Repository

TIME = "bench_codec.ParseTrade.time_parse"
COUNT = "bench_codec.ParseTradeInstructions.track_parse"


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    history = Repository(tmp_path / "repo")
    history.commit("code", "src/ws_stack/book.py", "one\n")
    history.commit("readme", "README.md", "words\n")
    history.commit("tests", "tests/test_book.py", "test\n")
    history.commit("faster", "src/ws_stack/book.py", "two\n")
    return history


def _store(repo: Repository, label: str, time: list[float], count: float) -> None:
    write_results(
        repo.project.results_dir,
        repo.commits[label],
        {TIME: time, COUNT: count},
        params={TIME: {"venue": ["mexc", "gateio"]}},
        units={TIME: "seconds", COUNT: "instructions"},
    )


def test_noise_is_the_largest_spread_over_commits_of_identical_code(repo: Repository) -> None:
    _store(repo, "code", [1.0e-6, 2.0e-6], 1000)
    _store(repo, "readme", [1.3e-6, 2.1e-6], 1000)
    _store(repo, "tests", [1.1e-6, 2.0e-6], 1000)
    _store(repo, "faster", [0.5e-6, 1.0e-6], 900)  # alone in its stretch: no spread
    found = {item.benchmark: item for item in measure_noise(repo.project, "testbox")}
    assert math.isclose(found[TIME].spread, 0.3)
    assert found[TIME].samples == 2  # two parameter combinations, one group
    assert found[TIME].where.startswith("venue=mexc over 3 commits")
    assert found[COUNT].spread == 0.0
    out = io.StringIO()
    print_noise(list(found.values()), out)
    assert "30.0%" in out.getvalue()
    assert "counted metrics: 1 benchmarks, none moved on identical code" in out.getvalue()


def test_thresholds_follow_each_benchmark_own_noise() -> None:
    measured = [Noise(TIME, 0.30, 4, ""), Noise("bench_x.Quiet.time_a", 0.02, 4, "")]
    limits = thresholds(measured, [TIME, "bench_x.Quiet.time_a", COUNT, "bench_x.New.time_c"])
    by_name = {name: next(v for r, v in limits.items() if re.match(r, name)) for name in (
        f"{TIME}('mexc')@main", "bench_x.Quiet.time_a@main", f"{COUNT}('mexc')",
        "bench_x.New.time_c",
    )}  # fmt: skip
    assert by_name == {
        f"{TIME}('mexc')@main": 0.45,  # 1.5 times its noise
        "bench_x.Quiet.time_a@main": noise.LEAST_THRESHOLD,
        f"{COUNT}('mexc')": noise.COUNTED_THRESHOLD,
        "bench_x.New.time_c": noise.UNKNOWN_NOISE_THRESHOLD,
    }
    # One regex per benchmark: asv takes the largest that matches, and a longer name
    # sharing a prefix is not caught by a shorter one's.
    assert not any(re.match(regex, f"{TIME}Slow.time_x") for regex in limits)


def test_floors_are_never_regression_candidates() -> None:
    floors = noise.first_commits()
    assert set(floors.values()) == {None}  # asv: no regression detection at all
    for name in (
        "bench_codec.DetectType.time_find_marker('mexc', 'json', 'pong')@main",
        "bench_codec.ParseOrderBook.time_floor('mexc', 'protobuf', 'update', 20)@main",
        "bench_codec.ParseOrderBookInstructions.track_floor('gateio', 'json', 'update', 5)",
        "bench_connection.BareReceive.time_1000_frames('mexc')@main",
        "bench_codec.MexcDepthLowerBound.time_make_levels@main",
    ):
        assert any(re.match(regex, name) for regex in floors), name
    assert not any(re.match(r, "bench_codec.ParseOrderBook.time_parse(1)") for r in floors)


def _published(repo: Repository, html: Path, revisions: dict[int, str], jumps: list) -> None:
    """A published page with one regression of TIME('mexc') and the given steps."""
    graph = "graphs/branch-main/bench_codec.ParseTrade.time_parse.json"
    (html / "graphs" / "branch-main").mkdir(parents=True)
    series = [[rev, [1.0 + rev, 2.0]] for rev in sorted(revisions)]
    (html / graph).write_text(json.dumps(series))
    (html / "index.json").write_text(
        json.dumps({"revision_to_hash": {str(rev): c for rev, c in revisions.items()}})
    )
    entry = [f"{TIME}('mexc')", graph, {}, 0, 2.0, 1.0, jumps]
    (html / "regressions.json").write_text(json.dumps({"regressions": [entry]}))


def test_a_listed_step_between_commits_of_identical_code_is_told_apart(
    repo: Repository, tmp_path: Path
) -> None:
    c = repo.commits
    html = tmp_path / "html"
    revisions = {1: c["code"], 2: c["readme"], 4: c["faster"]}
    _published(repo, html, revisions, [[None, 2, 1.0, 1.6], [2, 4, 1.6, 3.0]])
    steps = listed_steps(repo.project, html)
    assert [(s.before, s.after, s.identical) for s in steps] == [
        (c["code"], c["readme"], True),  # README only: noise
        (c["readme"], c["faster"], False),  # the code changed: a candidate
    ]
    assert math.isclose(steps[0].ratio, 1.6)


def test_the_noise_page_shows_each_benchmark_and_its_threshold(tmp_path: Path) -> None:
    measured = [Noise(TIME, 0.30, 4, "venue=mexc over 3 commits from abcdef12")]
    page = tmp_path / "noise.html"
    noise.write_page(measured, thresholds(measured, [TIME]), page)
    text = page.read_text()
    assert f"<td><code>{TIME}</code></td><td>30.0%</td><td>45%</td><td>4</td>" in text
    assert 'href="index.html"' in text
