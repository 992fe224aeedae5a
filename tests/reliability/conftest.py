"""Fixtures of the reliability tests: loopback-only sockets and bounded event loops."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Callable, Iterator

import pytest
from bounded_loop import run_bounded
from transports import transport  # noqa: F401  # the fixture: every test taking it runs per transport

from .helpers import TEST_TIMEOUT
from .repeat import (  # noqa: F401  # hooks and fixture of the repeated runs
    pytest_addoption,
    pytest_generate_tests,
    pytest_runtest_logreport,
    repeat_report,
    repetition,
)

_real_bind = socket.socket.bind


def _loopback_only(self: socket.socket, address: object) -> None:
    """``socket.bind`` that refuses every address but 127.0.0.1 (and unix sockets)."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if host != "127.0.0.1":
            raise PermissionError(f"reliability tests bind 127.0.0.1 only, not {host!r}")
    _real_bind(self, address)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every server a reliability test starts in this process must bind 127.0.0.1."""
    monkeypatch.setattr(socket.socket, "bind", _loopback_only)
    yield


@pytest.fixture
def run() -> Callable[..., None]:
    return functools.partial(run_bounded, timeout=TEST_TIMEOUT)


_FIGURES: list[tuple[str, dict[str, object]]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    """``figures(summary)`` records the figures of a run for the end-of-session table."""

    def record(summary: dict[str, object]) -> None:
        _FIGURES.append((request.node.nodeid.rpartition("::")[2], summary))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the reliability tests measured (RELIABILITY.md quotes them); of
    repeated runs, only the totals."""
    repeated = repeat_report(terminalreporter.config)
    if not _FIGURES and repeated is None:
        return
    terminalreporter.section("reliability figures")
    if repeated is not None:
        terminalreporter.write_line(repeated)
    checks: dict[str, list[int]] = {}
    for name, summary in _FIGURES:
        if repeated is None:
            terminalreporter.write_line(f"{name}: {json.dumps(summary, sort_keys=True)}")
        if "oracle_checks" in summary:
            runs = checks.setdefault(f"{summary['venue']} on {summary['transport']}", [0, 0, 0])
            runs[0] += 1
            runs[1] += int(summary["oracle_checks"])
            runs[2] += int(summary["divergent"])
    for label, (runs, made, breached) in sorted(checks.items()):
        terminalreporter.write_line(
            f"oracle, {label}: {made} checks of live books in {runs} runs, "
            f"{breached} books breached"
        )
