"""A local venue simulator: MEXC spot v3 or Gate.io spot v4 market data on 127.0.0.1.

Tests and benchmarks run against it, and so can users who want to exercise a strategy
offline::

    async with VenueSimulator(Venue.MEXC, SimConfig(symbols=("BTCUSDT",), rate_hz=50)) as sim:
        async with websockets.asyncio.client.connect(sim.ws_url) as ws:
            ...

The market (:mod:`~ws_stack.sim.market`), the sessions and simulated venues
(:mod:`~ws_stack.sim.session`, :mod:`~ws_stack.sim.mexc`, :mod:`~ws_stack.sim.gateio`)
and the fault schedule
(:mod:`~ws_stack.sim.faults`) are pure; :mod:`~ws_stack.sim.server` is the thin asyncio
layer on top.
"""

from ws_stack.sim.config import FaultConfig, SimConfig
from ws_stack.sim.server import VenueSimulator
from ws_stack.sim.stats import SimStats

__all__ = ["FaultConfig", "SimConfig", "SimStats", "VenueSimulator"]
