"""``make bench``'s choice of commits (``ws_stack_bench.history``), the measured-code
digest it rests on, and the commands that fall back to a commit's measured ancestor."""

from __future__ import annotations

import io
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ws_stack_bench import cli, history
from ws_stack_bench.history import plan, print_plan
from ws_stack_bench.results import ResultsError, load_measured

from .asv_results import write_results
from .repository import Repository

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    history = Repository(tmp_path / "repo")
    history.commit("code", "src/ws_stack/book.py", "one\n")
    history.commit("readme", "README.md", "words\n")
    history.commit("tooling", "src/ws_stack/bench/cli.py", "tool\n")
    history.commit("tests", "tests/test_book.py", "test\n")
    history.commit("faster", "src/ws_stack/book.py", "two\n")
    history.commit("dependency", "pyproject.toml", "[project]\n")
    history.commit("docs", "README.md", "more words\n")
    return history


def _newest_first(repo: Repository) -> list[str]:
    return repo.project.git("rev-list", "--first-parent", "HEAD").split()


def test_the_measured_code_is_the_package_and_its_dependencies_without_the_tooling(
    repo: Repository,
) -> None:
    code = {label: repo.project.measured_code(commit) for label, commit in repo.commits.items()}
    assert code["code"] == code["readme"] == code["tooling"] == code["tests"]
    assert code["faster"] != code["code"]
    assert code["dependency"] == code["docs"] != code["faster"]


def test_one_commit_per_stretch_of_identical_measured_code_where_it_changed(
    repo: Repository,
) -> None:
    stretches = plan(repo.project, _newest_first(repo), stored=set())
    c = repo.commits
    assert [stretch.commits for stretch in stretches] == [
        (c["code"], c["readme"], c["tooling"], c["tests"]),
        (c["faster"],),
        (c["dependency"], c["docs"]),
    ]
    assert [stretch.measured for stretch in stretches] == [c["code"], c["faster"], c["dependency"]]
    out = io.StringIO()
    print_plan(stretches, out)
    assert "7 commit(s) in 3 stretch(es)" in out.getvalue()
    assert f"{c['code'][:8]} stands for 3 skipped commit(s)" in out.getvalue()


def test_a_stretch_is_measured_where_results_are_already_stored(repo: Repository) -> None:
    c = repo.commits
    stored = {c["readme"], c["tests"]}
    stretches = plan(repo.project, _newest_first(repo), stored)
    assert stretches[0].measured == c["tests"]  # the newest stored: asv fills in the rest
    assert stretches[0].skipped == (c["code"], c["readme"], c["tooling"])


def test_a_stretch_cut_by_the_window_is_measured_where_it_began(repo: Repository) -> None:
    # The window (the last 6 commits) begins inside the first stretch, whose code was
    # measured at its first commit: that commit stands for it, nothing to measure again.
    c = repo.commits
    window = _newest_first(repo)[:6]
    stretches = plan(repo.project, window, stored={c["code"]})
    assert stretches[0].commits == (c["readme"], c["tooling"], c["tests"])
    assert stretches[0].measured == c["code"]
    assert stretches[0].skipped == stretches[0].commits
    # Nothing stored with that code: its oldest commit in the window, as before.
    assert plan(repo.project, window, stored={c["faster"]})[0].measured == c["readme"]


def test_results_fall_back_to_the_nearest_ancestor_with_identical_measured_code(
    repo: Repository,
) -> None:
    c, project = repo.commits, repo.project
    write_results(project.results_dir, c["code"], {"bench_x.A.time_b": 1.0})
    own, note = load_measured(project, c["code"])
    assert own.commit == c["code"] and note is None
    found, note = load_measured(project, c["tests"])
    assert found.commit == c["code"]
    assert note == (
        f"No stored results for {c['tests'][:8]}: using {c['code'][:8]}'s, its nearest "
        "measured ancestor with identical measured code."
    )
    with pytest.raises(ResultsError):  # "faster" changed the code: no stand-in
        load_measured(project, c["faster"])


def test_compliance_of_a_commit_without_results_says_whose_it_uses(
    repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    c, project = repo.commits, repo.project
    write_results(project.results_dir, c["dependency"], {"bench_x.A.time_b": 1.0})
    status = cli.main(["--root", str(repo.root), "compliance"])
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == (
        f"No stored results for {c['docs'][:8]}: using {c['dependency'][:8]}'s, its nearest "
        "measured ancestor with identical measured code."
    )
    assert f"HFT targets at commit {c['dependency'][:8]}" in printed
    assert status == 0  # every target n/a, nothing fails without --strict


def test_no_benchmark_imports_the_tooling_the_digest_leaves_out() -> None:
    for module in (REPO / "benchmarks").glob("*.py"):
        assert "ws_stack_bench" not in module.read_text(), module.name


def test_measuring_goes_newest_first_and_shows_progress_and_the_slowest_benchmarks(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    project = repo.project

    def run(command: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        commit = command[-1].removesuffix("^!")
        # asv stores what it measured, with when each benchmark started and how long it
        # took; the third commit's were all stored before this run, which measures nothing.
        started = 1_000 if len(ran) == 3 else int(time.time() * 1000)
        write_results(project.results_dir, commit, {"bench_x.A.time_a": 1.0,
                      "bench_x.A.time_b": 2.0, "bench_x.B.time_c": 3.0, "bench_x.B.time_d": 4.0},
                      durations={"bench_x.A.time_a": 5.0, "bench_x.A.time_b": 70.0,
                                 "bench_x.B.time_c": 30.0, "bench_x.B.time_d": 0.5},
                      date=started, machine=platform.node())  # fmt: skip
        return subprocess.CompletedProcess(command, 2 if len(ran) == 2 else 0)

    stretches = plan(project, _newest_first(repo), stored=set())
    monkeypatch.setattr(history.subprocess, "run", run)  # asv's runs only, from here on
    out, published = io.StringIO(), []
    status = history.measure(project, stretches, out, after_each=published.append)
    assert status == 2  # a benchmark failed at the second commit: a gap, not the end
    newest_first = list(reversed(stretches))
    assert [command[-1] for command in ran] == [f"{s.measured}^!" for s in newest_first]
    assert "--skip-existing-successful" in ran[0]
    # Benchmark processes forked from asv's forkserver, not a new interpreter each.
    assert ran[0][ran[0].index("--launch-method") + 1] == "forkserver"
    assert published == [1, 2, 3]  # a page after every commit, the newest first
    lines = [line for line in out.getvalue().splitlines() if line]
    first, second = newest_first[0].measured[:8], newest_first[1].measured[:8]
    assert lines[0].startswith(f"[1/3] {first} (for 2 commit(s)); no estimate")
    assert lines[1].startswith(f"[1/3] {first} took ")
    assert lines[1].endswith(
        "; slowest: bench_x.A.time_b 70 s, bench_x.B.time_c 30 s, bench_x.A.time_a 5 s"
    )
    assert lines[2].startswith(f"[2/3] {second} (for 1 commit(s)); about ")
    assert lines[2].endswith(" left")
    assert lines[5].startswith("[3/3] ") and "slowest" not in lines[5]  # nothing new measured


def test_a_fixed_machine_name_files_every_commit_under_it(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def run(command: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        return subprocess.CompletedProcess(command, 0)

    stretches = plan(repo.project, _newest_first(repo), stored=set())
    monkeypatch.setattr(history.subprocess, "run", run)
    history.measure(repo.project, stretches, io.StringIO(), machine="github-ubuntu-24.04")
    assert len(ran) == len(stretches)
    for command in ran:  # as CI runs it: runners' host names change, the history must not
        assert command[command.index("--machine") + 1] == "github-ubuntu-24.04"
    describe = repo.project.describe_machine(None, "github-ubuntu-24.04")
    assert all(command[command.index("--machine") + 1] == "github-ubuntu-24.04"
               for command in describe)  # fmt: skip


def test_counts_first_measures_the_newest_commits_counts_and_publishes_before_the_rest(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[list[str], dict[str, str] | None]] = []

    def run(command: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess[str]:
        ran.append((command, options.get("env")))
        return subprocess.CompletedProcess(command, 0)

    stretches = plan(repo.project, _newest_first(repo), stored=set())
    monkeypatch.setattr(history.subprocess, "run", run)
    events: list[object] = []
    counted = (r"Instructions\.track_", r"^bench_pool\.HandlerStream\.track_")

    def after_each(measured: int) -> None:
        events.append(("published", measured, len(ran)))

    out = io.StringIO()
    history.measure(repo.project, stretches, out, after_each=after_each, counts_first=counted)
    newest = stretches[-1].measured
    first, env = ran[0]
    assert first[-1] == f"{newest}^!"
    assert [first[i + 1] for i, word in enumerate(first) if word == "--bench"] == list(counted)
    assert env is None  # every count benchmark counted, as in a whole run
    # The page of the counts comes before any other run; then the whole plan, newest first.
    assert events[0] == ("published", 0, 1)
    assert [command[-1] for command, _ in ran[1:]] == [
        f"{s.measured}^!" for s in reversed(stretches)
    ]
    assert all("--bench" not in command for command, _ in ran[1:])
    assert f"[counts first] {newest[:8]}: the counted benchmarks alone" in out.getvalue()
