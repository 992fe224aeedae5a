"""A bounded run of :mod:`.soak` (the full run is ``python -m tests.reliability.soak``)."""

from __future__ import annotations

import asyncio
import os

import pytest

from .soak import run_soak

pytestmark = pytest.mark.slow

#: Frames and reconnect cycles in the test suite; the full figure is 1,000,000 and 1,000.
FRAMES = int(os.environ.get("WS_STACK_SOAK_FRAMES", "50000"))
CYCLES = int(os.environ.get("WS_STACK_SOAK_CYCLES", "50"))


def test_soak_stays_flat_and_leaks_nothing(figures, transport):
    result = asyncio.run(run_soak(FRAMES, CYCLES, transport=transport))
    figures(result.summary())
    result.check(FRAMES, CYCLES)
