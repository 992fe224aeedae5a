"""The asyncio connection layer: thin I/O on top of ws_stack's pure protocol classes.

* :mod:`~ws_stack.asyncio.connection` - one self-healing connection, venue-neutral;
* :mod:`~ws_stack.asyncio.config` - its settings (:class:`ConnectionConfig`);
* :mod:`~ws_stack.asyncio.transport` - the WebSocket library under it, chosen per
  connection: :mod:`~ws_stack.asyncio.transport_websockets` (the default) or
  :mod:`~ws_stack.asyncio.transport_picows`;
* :mod:`~ws_stack.asyncio.consumer` - the queued frames into the handler, timed;
* :mod:`~ws_stack.asyncio.replies` - which subscriptions the venue acknowledged;
* :mod:`~ws_stack.asyncio.mexc`, :mod:`~ws_stack.asyncio.gateio` - the connection of
  each venue (:class:`MexcConnection`, :class:`GateioConnection`);
* :mod:`~ws_stack.asyncio.group` - subscriptions sharded over connections;
* :mod:`~ws_stack.asyncio.monitor` - sampling, alerts, Prometheus metrics, export;
* :mod:`~ws_stack.asyncio.exposition` - a monitor sample as Prometheus metric families;
* :mod:`~ws_stack.asyncio.queue` - the bounded receive queue and its overflow policy;
* :mod:`~ws_stack.asyncio.rest` - the HTTP GET of order-book snapshots;
* :mod:`~ws_stack.asyncio.stream` - connections + handler + synchronised books;
* :mod:`~ws_stack.asyncio.tls` - the TLS settings of the WebSocket and HTTP clients.

``MexcConnection`` and ``GateioConnection`` are imported on first use, so that importing
this package, or using one venue, loads nothing of the other venue.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ws_stack.asyncio.connection import Connection, ConnectionConfig, FrameTap
from ws_stack.asyncio.group import ConnectionGroup
from ws_stack.asyncio.monitor import Monitor
from ws_stack.asyncio.queue import OverflowPolicy, ReceiveQueue
from ws_stack.asyncio.rest import HttpError, http_get
from ws_stack.asyncio.stream import MarketStream, StreamSummary

if TYPE_CHECKING:
    from ws_stack.asyncio.gateio import GateioConnection
    from ws_stack.asyncio.mexc import MexcConnection

__all__ = [
    "Connection",
    "ConnectionConfig",
    "ConnectionGroup",
    "FrameTap",
    "GateioConnection",
    "HttpError",
    "MarketStream",
    "MexcConnection",
    "Monitor",
    "OverflowPolicy",
    "ReceiveQueue",
    "StreamSummary",
    "http_get",
]

_VENUE_CONNECTIONS = {
    "MexcConnection": "ws_stack.asyncio.mexc",
    "GateioConnection": "ws_stack.asyncio.gateio",
}


def __getattr__(name: str) -> object:
    """The venue connection classes, each imported from its module when first asked for."""
    module = _VENUE_CONNECTIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
