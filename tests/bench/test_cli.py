"""The ``ws-stack-bench`` command's own decisions (its subcommands are tested with theirs)."""

from __future__ import annotations

import platform
import re
from pathlib import Path

import pytest

from ws_stack_bench import gate
from ws_stack_bench.cli import main
from ws_stack_bench.project import Project, machine_description

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


def test_validate_is_incomplete_without_results_to_judge(
    project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _validate(project_root, capsys)
    assert status == 2
    assert "HFT compliance: could not run" in out
    assert out.rstrip().endswith("VALIDATION INCOMPLETE (exit 2)")


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
    "argv", [[], ["history"], ["publish"], ["compliance"], ["gate"], ["validate"], ["targets"]]
)
def test_help_is_plain_text(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ws-stack-bench")
    for markup in ("``", ":mod:", ":class:", ":func:", "::"):
        assert markup not in out, markup
