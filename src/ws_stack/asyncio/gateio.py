"""The asyncio connection to Gate.io spot v4: Gate.io's protocol on the venue-neutral engine.

A module per venue, so that using Gate.io loads nothing of MEXC (see :mod:`ws_stack.venues`).
"""

from __future__ import annotations

from ws_stack.gateio.protocol import GateioProtocol

from .connection import Connection

__all__ = ["GateioConnection"]


class GateioConnection(GateioProtocol, Connection):
    """A connection to Gate.io spot v4."""
