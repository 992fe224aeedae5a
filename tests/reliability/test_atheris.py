"""A bounded atheris (libFuzzer) run over both handlers; see :mod:`.fuzz_atheris`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")  # installed by the test extra on Linux

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: Inputs per run in the test suite (about 5 s); the documented full run uses 2,000,000.
RUNS = int(os.environ.get("WS_STACK_ATHERIS_RUNS", "150000"))


def test_atheris_finds_no_crash(tmp_path, figures):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.fuzz_atheris",
            f"-runs={RUNS}",
            "-max_len=4096",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",  # crash-* files
            "--seed",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    done = [line for line in result.stderr.splitlines() if "DONE" in line]
    assert done, result.stderr[-3000:]
    figures({"runs": RUNS, "libfuzzer": done[-1].split("DONE", 1)[1].strip()})
