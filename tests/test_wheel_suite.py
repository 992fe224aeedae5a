"""The built wheel passes the tests: the suites of the code the compiled twins serve, run
against an installed compiled wheel (issue 33: "`python -m build` makes a wheel that holds
the extensions; a fresh venv with that wheel passes the tests").

tests/test_install.py builds the wheel (its ``compiled_wheel`` fixture, shared here) and
checks what an installed wheel says it runs; this module goes on to run the codec, handler
and book suites in a fresh venv holding that wheel and its ``test`` extra. The suites run
from a copy of tests/ outside the repository, with the project's pytest configuration, so
that ``import ws_stack`` finds the installed wheel and never src/; and the twins' own
differential tests must run there, not be skipped as "not built". ``make wheel-check``
runs it (CI does, after ``make test``, which leaves it out for time).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import test_install
from test_install import REPO, Build, _env, _run

from ws_stack.implementation import TWINS

pytestmark = pytest.mark.slow

#: The session's compiled wheel, built once for this module as for test_install's tests.
compiled_wheel = test_install.compiled_wheel

#: The test modules of the code the compiled twins serve: the codecs, the handlers, the book.
SUITES = (
    "tests/mexc/test_push.py",
    "tests/mexc/test_push_reader.py",
    "tests/mexc/test_decoder.py",
    "tests/mexc/test_dispatch.py",
    "tests/mexc/test_handler.py",
    "tests/gateio/test_decoder.py",
    "tests/gateio/test_updates.py",
    "tests/gateio/test_handler.py",
    "tests/test_book.py",
    "tests/test_book_side.py",
    "tests/test_handler.py",
    "tests/test_handler_core.py",
    "tests/test_metrics.py",
    "tests/test_metrics_twin.py",
    "tests/asyncio/test_queue.py",
    "tests/asyncio/test_queue_core.py",
)
#: Fewer passes than this means that whole suites went missing, or the twins' tests: 703
#: pass today where the twins are built, 532 (171 skipped) where they are not.
MIN_PASSED = 600
#: The bound on installing the wheel's dependencies (the test extra, from the registry)
#: and on running the suites: on a loaded machine the suites take a few minutes.
INSTALL_TIMEOUT = 600
SUITE_TIMEOUT = 900


def _venv_with_test_extra(wheel: Path, venv: Path) -> Path:
    """A fresh venv (no system site-packages) holding ``wheel`` with its ``test`` extra;
    pip is this environment's, pointed at the venv, as in test_install."""
    _run([sys.executable, "-m", "venv", "--without-pip", venv], env=_env(), cwd=venv.parent)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
               "--disable-pip-version-check", f"{wheel}[test]"]  # fmt: skip
    done = subprocess.run([str(arg) for arg in install], cwd=venv.parent, env=_env(),
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                          check=False)  # fmt: skip
    assert done.returncode == 0, f"{install} failed:\n{done.stdout}\n{done.stderr}"
    return python


def _pytest_ini() -> str:
    """The project's [tool.pytest.ini_options] as a pytest.ini (lists one item a line)."""
    with (REPO / "pyproject.toml").open("rb") as file:
        options = tomllib.load(file)["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]"]
    for key, value in options.items():
        if isinstance(value, list):
            lines.append(f"{key} =" + "".join(f"\n    {item}" for item in value))
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


#: The copy's own conftest: where the run's ws_stack came from, at the end of the report.
WHERE = "ws_stack imported from: "
CONFTEST = f"""\
import ws_stack


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line({WHERE!r} + ws_stack.__file__)
"""


def _copy_tests(target: Path) -> Path:
    """tests/ (fixtures, conftests, helper modules) and the pytest configuration, outside
    the repository: nothing there puts src/ on the path."""
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    shutil.copytree(REPO / "tests", target / "tests", ignore=ignore)
    (target / "pytest.ini").write_text(_pytest_ini())
    (target / "conftest.py").write_text(CONFTEST)
    return target


def _counts(report: str) -> dict[str, int]:
    """pytest's summary, ``700 passed, 3 skipped in 9.9s``, as {outcome: count}."""
    summary = [line for line in report.splitlines() if re.search(r"\d+ passed.* in ", line)][-1]
    found = re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)", summary)
    return {outcome.rstrip("s") if outcome.startswith("error") else outcome: int(count)
            for count, outcome in found}  # fmt: skip


def test_an_installed_compiled_wheel_passes_the_twins_suites(
    compiled_wheel: Build, tmp_path: Path
) -> None:
    python = _venv_with_test_extra(compiled_wheel.artifact, tmp_path / "venv")
    suite = _copy_tests(tmp_path / "suite")
    assert not suite.is_relative_to(REPO)

    # From the copy, ws_stack is the wheel's, compiled, every twin.
    code = ("import ws_stack, sysconfig; from ws_stack import implementation; "
            "print(ws_stack.__file__); print(sysconfig.get_path('purelib')); "
            "print(implementation.describe())")  # fmt: skip
    location, site_packages, description = _run(
        [python, "-c", code], env=_env(), cwd=suite
    ).stdout.splitlines()
    assert Path(site_packages).is_relative_to(tmp_path / "venv")
    assert Path(location).is_relative_to(site_packages), location
    assert description == "compiled (Cython): " + ", ".join(sorted(TWINS))

    missing = [name for name in SUITES if not (REPO / name).is_file()]
    assert not missing, f"a suite of the twins' code is gone: {missing}"
    args = [python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *SUITES]
    done = subprocess.run([str(arg) for arg in args], cwd=suite, env=_env(),
                          capture_output=True, text=True, timeout=SUITE_TIMEOUT,
                          check=False)  # fmt: skip
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    # The suites ran on the wheel too, not on src/.
    (where,) = [line for line in report.splitlines() if line.startswith(WHERE)]
    assert Path(where.removeprefix(WHERE)).is_relative_to(site_packages), where

    counts = _counts(done.stdout)
    assert not counts.get("failed") and not counts.get("error"), report
    assert counts.get("passed", 0) >= MIN_PASSED, report
    # Each twin's differential tests are skipped "… is not built" without it: none were.
    not_built = [line for line in report.splitlines()
                 if line.startswith("SKIPPED") and "not built" in line]  # fmt: skip
    assert not not_built, "\n".join(not_built)
