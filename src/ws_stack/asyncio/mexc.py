"""The asyncio connection to MEXC spot v3: MEXC's protocol on the venue-neutral engine.

A module per venue, so that using MEXC loads nothing of Gate.io (see :mod:`ws_stack.venues`).
"""

from __future__ import annotations

from ws_stack.mexc.protocol import MexcProtocol

from .connection import Connection

__all__ = ["MexcConnection"]


class MexcConnection(MexcProtocol, Connection):
    """A connection to MEXC spot v3 (at most 30 subscriptions; see ConnectionGroup)."""
