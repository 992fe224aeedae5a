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
    """Print the figures the reliability tests measured (RELIABILITY.md quotes them)."""
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, summary in _FIGURES:
        terminalreporter.write_line(f"{name}: {json.dumps(summary, sort_keys=True)}")
