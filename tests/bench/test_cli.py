"""The ``ws-stack-bench`` command's own decisions (its subcommands are tested with theirs)."""

from __future__ import annotations

import platform
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ws_stack_bench import cli, gate, history
from ws_stack_bench.cli import main
from ws_stack_bench.project import Project, machine_description
from ws_stack_bench.targets import benchmarks_of

from .asv_results import write_results
from .repository import Repository


def test_the_machine_is_described_without_what_differs_between_vms_of_one_kind() -> None:
    options = dict(zip(*[iter(machine_description())] * 2, strict=True))
    # No kernel build in the OS, RAM in whole GB: a fresh VM of the same kind continues
    # the stored history instead of starting a series of its own.
    assert options["--os"] == platform.system()
    assert re.fullmatch(r"[1-9][0-9]*GB", options["--ram"])


# -- validate: the gate and the compliance table, one verdict ------------------------------


@pytest.fixture
def project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-commit repository whose asv runs are faked: every run passes."""
    history = Repository(tmp_path / "repo")
    history.commit("code", "src/ws_stack/book.py", "one\n")
    history.commit("more code", "src/ws_stack/book.py", "two\n")
    monkeypatch.setattr(gate, "counting_unavailable", lambda: None)
    passing = (0, "NOT SIGNIFICANTLY CHANGED")
    monkeypatch.setattr(gate, "_tee", lambda command, cwd, out, env=None: passing)
    monkeypatch.setattr(gate, "_run_at_once", lambda runs, cwd, out, env: [passing] * len(runs))
    return history.root


def _validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--root", str(root), "validate"])
    return status, capsys.readouterr().out


def _stored(root: Path, detect_seconds: float) -> None:
    project = Project(root)
    name = "bench_codec.DetectType.time_detect_type"
    write_results(project.results_dir, project.rev_parse("HEAD"), {name: detect_seconds},
                  units={name: "seconds"})  # fmt: skip


def test_validate_passes_when_the_gate_and_the_targets_pass(
    project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stored(project_root, 1e-6)  # detection in 1 us: within its 8 us
    status, out = _validate(project_root, capsys)
    assert status == 0
    assert "  regression gate (" in out and "PASS" in out
    assert "  HFT compliance: PASS (1 PASS, 0 FAIL," in out
    assert out.rstrip().endswith("VALIDATION PASS (exit 0)")


def test_validate_fails_when_a_target_fails(
    project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stored(project_root, 20e-6)  # 20 us: over its 8 us
    status, out = _validate(project_root, capsys)
    assert status == 1
    assert "  HFT compliance: FAIL (0 PASS, 1 FAIL," in out
    assert out.rstrip().endswith("VALIDATION FAIL (exit 1)")


def _fake_asv(
    monkeypatch: pytest.MonkeyPatch, detect_seconds: float | None, status: int = 0
) -> list[list[str]]:
    """asv as the measuring fallback runs it: ``asv machine`` does nothing; ``asv run``
    stores ``detect_seconds`` for the commit it is given (none for ``None``) on this
    machine and exits with ``status``. The ``asv run`` commands, in order."""
    runs: list[list[str]] = []
    real_run = subprocess.run

    def run(command: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess[Any]:
        if command[1:3] != ["-m", "asv"]:  # git
            return real_run(command, cwd=cwd, **options)
        runs.append(command)
        if detect_seconds is not None:
            project, commit = Project(cwd), command[-1].removesuffix("^!")
            name = "bench_codec.DetectType.time_detect_type"
            write_results(project.results_dir, commit, {name: detect_seconds},
                          units={name: "seconds"}, machine=platform.node())  # fmt: skip
        return subprocess.CompletedProcess(command, status)

    monkeypatch.setattr(cli, "_run", lambda command, cwd: 0)
    monkeypatch.setattr(history.subprocess, "run", run)
    return runs


def test_compliance_measures_a_commit_without_results_and_stores_them(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _fake_asv(monkeypatch, 20e-6)  # 20 us: over its 8 us
    status = main(["--root", str(project_root), "compliance"])
    out = capsys.readouterr().out
    head = Project(project_root).rev_parse("HEAD")
    assert status == 1  # measured, then judged: a FAIL
    assert f"no stored asv results for commit {head[:8]}" in out
    assert "measuring what the targets need now" in out
    (command,) = runs
    assert command[-1] == f"{head}^!" and "--skip-existing-successful" in command
    selected = [command[i + 1] for i, word in enumerate(command) if word == "--bench"]
    assert "^bench_codec\\.DetectType\\.time_detect_type(\\(|$)" in selected
    assert len(selected) == len(benchmarks_of())
    assert f"HFT targets at commit {head[:8]}" in out
    # Stored in the history: the next run judges without measuring.
    assert main(["--root", str(project_root), "compliance"]) == 1
    assert len(runs) == 1


def test_compliance_measures_nothing_with_stored_only(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _fake_asv(monkeypatch, 1e-6)
    status = main(["--root", str(project_root), "compliance", "--stored-only"])
    assert status == 2 and not runs
    assert "(run `make bench` first)" in capsys.readouterr().err


def test_compliance_cannot_measure_for_another_machine(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _fake_asv(monkeypatch, 1e-6)
    status = main(["--root", str(project_root), "compliance", "--machine", "elsewhere"])
    assert status == 2 and not runs
    assert "so it cannot measure for 'elsewhere'" in capsys.readouterr().err


def test_validate_measures_a_head_without_results(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_asv(monkeypatch, 1e-6)
    status, out = _validate(project_root, capsys)
    assert status == 0
    assert "  HFT compliance: PASS (1 PASS, 0 FAIL," in out


def test_validate_is_incomplete_when_measuring_fails(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_asv(monkeypatch, None, status=1)  # asv could not build the commit
    status = main(["--root", str(project_root), "validate"])
    captured = capsys.readouterr()
    assert status == 2
    assert "HFT compliance: could not run" in captured.out
    assert captured.out.rstrip().endswith("VALIDATION INCOMPLETE (exit 2)")
    assert "ws-stack-bench: asv run failed (1)" in captured.err


# -- status: which stretches have no results ------------------------------------------------


def test_status_lists_the_stretches_without_results(
    project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(project_root)
    first = project.rev_parse("HEAD^")
    write_results(project.results_dir, first, {"bench_x.A.time_b": 1.0, "bench_x.A.time_c": 1.0},
                  machine=platform.node())  # fmt: skip
    status = main(["--root", str(project_root), "status"])
    out = capsys.readouterr().out
    assert status == 1
    lines = out.splitlines()
    head = project.rev_parse("HEAD")
    assert lines[1].split()[0] == head[:8] and lines[1].endswith("NO RESULTS")
    assert lines[2].split()[0] == first[:8] and lines[2].endswith(f"measured at {first[:8]}")
    assert lines[-1] == "1 stretch(es) without results: `make bench` measures them."
    # Results of some benchmarks only (as compliance stores them) are shown as such.
    write_results(project.results_dir, head, {"bench_x.A.time_b": 1.0}, machine=platform.node())
    assert main(["--root", str(project_root), "status"]) == 0
    out = capsys.readouterr().out
    assert f"measured at {head[:8]}, 1 of 2 benchmarks (make bench adds the rest)" in out
    assert out.rstrip().endswith("Every stretch has results.")


def test_validate_fails_on_a_gate_regression(
    project_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stored(project_root, 1e-6)
    project = Project(project_root)
    results_dir = project.work_dir / "gate" / "results"
    name = "bench_x.AInstructions.track_b"
    write_results(results_dir, project.rev_parse("HEAD^"), {name: 1000.0})
    write_results(results_dir, project.rev_parse("HEAD"), {name: 1100.0})
    status, out = _validate(project_root, capsys)
    assert status == 1
    assert "REGRESSION" in out and out.rstrip().endswith("VALIDATION FAIL (exit 1)")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        *[[command] for command in ("history", "publish", "compliance", "status", "merge")],
        *[[command] for command in ("gate", "validate", "targets")],
    ],
)
def test_help_is_plain_text(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ws-stack-bench")
    for markup in ("``", ":mod:", ":class:", ":func:", "::"):
        assert markup not in out, markup
