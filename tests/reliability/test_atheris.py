"""Bounded atheris (libFuzzer) runs: both handlers (:mod:`.fuzz_atheris`), the compiled
MEXC push reader against its reference (:mod:`.fuzz_push_reader`), and the compiled
Gate.io delta reader against its references (:mod:`.fuzz_gateio_updates`)."""

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
#: Inputs of the differential run (about 10 s); `make reliability` runs 1,000,000.
DIFFERENTIAL_RUNS = int(os.environ.get("WS_STACK_ATHERIS_DIFFERENTIAL_RUNS", "100000"))


def test_atheris_finds_no_crash(tmp_path, figures):
    result = _fuzz("tests.reliability.fuzz_atheris", RUNS, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    done = [line for line in result.stderr.splitlines() if "DONE" in line]
    assert done, result.stderr[-3000:]
    figures({"runs": RUNS, "libfuzzer": done[-1].split("DONE", 1)[1].strip()})


@pytest.mark.parametrize(
    ("module", "twin"),
    [
        ("tests.reliability.fuzz_push_reader", "ws_stack.mexc._push_reader"),
        ("tests.reliability.fuzz_gateio_updates", "ws_stack.gateio._updates"),
    ],
)
def test_compiled_reader_matches_its_reference(tmp_path, figures, module, twin):
    from ws_stack import implementation

    if implementation.compiled(twin) is None:
        pytest.skip(f"{twin} is not built (pure Python install)")
    result = _fuzz(module, DIFFERENTIAL_RUNS, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    compared = [line for line in result.stderr.splitlines() if line.startswith("compared")]
    assert compared, result.stderr[-3000:]
    inputs, read_in_c = (int(word) for word in compared[-1].split() if word.isdigit())
    assert inputs >= DIFFERENTIAL_RUNS - 10_000
    assert read_in_c > 0  # the compiled path itself was compared, not only its hand-overs
    figures({"runs": DIFFERENTIAL_RUNS, "compared": compared[-1]})


def _fuzz(module: str, runs: int, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            f"-runs={runs}",
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
