"""A bounded run of :mod:`.load` (the full 60 s run is ``python -m tests.reliability.load``)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict

import pytest

from .load import run_load

pytestmark = pytest.mark.slow

#: Seconds of load in the test suite; ``WS_STACK_LOAD_SECONDS=60`` gives the full figure.
DURATION = float(os.environ.get("WS_STACK_LOAD_SECONDS", "6"))


def test_load_200_symbols_per_venue(figures, transport):
    result = asyncio.run(run_load(DURATION, symbol_count=200, transport=transport))
    summary = asdict(result)
    figures(summary)
    result.check()
    for venue in result.venues:
        # Books compared at the end: equal to the simulator's, or flagged - never wrong.
        assert venue.books_equal + venue.books_flagged == 200
        assert venue.connections == (20 if venue.venue == "mexc" else 1)
        assert venue.subscriptions == 600
        assert venue.reconnects == 0
