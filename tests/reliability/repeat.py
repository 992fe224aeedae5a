"""Repeated runs of the tests that use the ``repetition`` fixture
(``@pytest.mark.usefixtures("repetition")``): ``--repeat N`` runs each of them N times.

``make reliability`` runs the slow-consumer fault runs (every venue, transport and overflow
policy) 200 times each this way, to catch what goes wrong once in a hundred runs, as the
drop race of issue 34 did on CI. ``make test`` runs each once (no option). The time is
bounded: once ``--repeat-budget`` seconds have passed, the repetitions left are skipped,
and the summary says how many ran, failed and were skipped.

The conftest of this directory imports the hooks and the fixture; pytest reads options
only from the conftests it loads first, so the options work when this directory (or a
file in it) is named on the command line.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

__all__ = [
    "pytest_addoption",
    "pytest_generate_tests",
    "pytest_runtest_logreport",
    "repeat_report",
    "repetition",
]

_STARTED = time.monotonic()
#: Outcomes of the repeated tests' calls: passed, failed, skipped past the budget.
_OUTCOMES = {"passed": 0, "failed": 0, "skipped": 0}
#: The node ids of the repeated tests' runs.
_REPEATED: set[str] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reliability")
    group.addoption(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each test using the 'repetition' fixture N times (make reliability: 200)",
    )
    group.addoption(
        "--repeat-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="skip the repetitions left once this long has passed since the session began",
    )


def _count(config: pytest.Config) -> int:
    count: int = config.getoption("repeat", default=1)
    return max(1, count)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    count = _count(metafunc.config)
    if count > 1 and "repetition" in metafunc.fixturenames:
        metafunc.parametrize(
            "repetition", range(1, count + 1), indirect=True, ids=lambda n: f"{n}of{count}"
        )


@pytest.fixture
def repetition(request: pytest.FixtureRequest) -> Any:
    """The number of this run of a repeated test (1 when not repeated); skips it once the
    budget is spent."""
    _REPEATED.add(request.node.nodeid)
    budget = request.config.getoption("repeat_budget", default=None)
    if budget is not None and time.monotonic() - _STARTED > budget:
        _OUTCOMES["skipped"] += 1
        pytest.skip(f"--repeat-budget of {budget:g} s spent")
    return getattr(request, "param", 1)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.nodeid in _REPEATED:
        _OUTCOMES["passed" if report.passed else "failed"] += 1


def repeat_report(config: pytest.Config) -> str | None:
    """One line on the repeated runs, or ``None`` when nothing was repeated."""
    if _count(config) == 1:
        return None
    elapsed = time.monotonic() - _STARTED
    return (
        f"repeated x{_count(config)}: {_OUTCOMES['passed']} runs passed, "
        f"{_OUTCOMES['failed']} failed, {_OUTCOMES['skipped']} skipped past the budget, "
        f"in {elapsed / 60:.1f} min"
    )
