"""Shared helpers of the asyncio tests: bounded runs on loopback, fast configs.

No ``__init__.py`` in this directory on purpose: as a package it would be importable as
``asyncio`` and shadow the standard library.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bounded_loop import run_bounded
from transports import transport  # noqa: F401  # the fixture: every test taking it runs per transport

from ws_stack.asyncio.connection import ConnectionConfig
from ws_stack.reconnect import ReconnectionPolicy

#: The checkout (for the benchmarks' pump).
REPO = Path(__file__).resolve().parents[2]
#: The bound the close-under-load tests assert: issue 34's 100 ms, while the peer streams
#: as fast as it can. Measured 11-46 ms (RELIABILITY.md, bug 11) on two cores shared with
#: the pump and other jobs; the old behaviour, waiting out the 2 s close_timeout, stays
#: far out of this bound.
CLOSE_UNDER_LOAD = 0.1
#: Upper bound of any single test, in seconds; the tests themselves take well under it.
TEST_TIMEOUT = 30.0


@pytest.fixture
def run() -> Callable[..., None]:
    return functools.partial(run_bounded, timeout=TEST_TIMEOUT)


def fast_config(**overrides: object) -> ConnectionConfig:
    """Small timeouts and delays, so fault tests finish in a fraction of a second."""
    settings: dict[str, object] = {
        "connect_timeout": 2.0,
        "close_timeout": 0.2,
        "heartbeat_interval": 0.2,
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
        "dead_peer_timeout": 2.0,
        "reconnect": ReconnectionPolicy(
            initial_delay=0.01, factor=2, max_delay=0.05, max_attempts=5, jitter=0.5, seed=3
        ),
    }
    settings.update(overrides)
    return ConnectionConfig(**settings)  # type: ignore[arg-type]


async def wait_until(predicate: Callable[[], bool], interval: float = 0.01) -> None:
    """Poll ``predicate`` until it holds (the caller's timeout bounds the wait)."""
    while not predicate():
        await asyncio.sleep(interval)


def pumped_deltas() -> Any:
    """A pump (``benchmarks/pump.py``, in a child process) streaming Gate.io order-book
    deltas at whoever connects, as fast as the client reads, for at most a minute; the
    caller stops it with ``close(at_once=True)``."""
    if str(REPO) not in sys.path:
        # ``python -m pytest`` (make test) has the checkout on the path, the pytest
        # script not: the pump is the benchmarks' own.
        sys.path.append(str(REPO))
    from benchmarks.pump import PumpProcess
    from benchmarks.venue_frames import frame

    deltas = [frame("gateio", "json", "order_book", 3, n) for n in range(100)]
    return PumpProcess(deltas, loops=100_000, lifetime=60)
