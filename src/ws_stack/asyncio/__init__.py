"""The asyncio connection layer: thin I/O on top of ws_stack's pure protocol classes.

* :mod:`~ws_stack.asyncio.connection` - one self-healing venue connection;
* :mod:`~ws_stack.asyncio.group` - subscriptions sharded over connections;
* :mod:`~ws_stack.asyncio.monitor` - sampling, alerts, Prometheus metrics, export;
* :mod:`~ws_stack.asyncio.queue` - the bounded receive queue and its overflow policy;
* :mod:`~ws_stack.asyncio.rest` - the HTTP GET of order-book snapshots;
* :mod:`~ws_stack.asyncio.stream` - connections + handler + synchronised books.
"""

from ws_stack.asyncio.connection import (
    Connection,
    ConnectionConfig,
    FrameTap,
    GateioConnection,
    MexcConnection,
)
from ws_stack.asyncio.group import ConnectionGroup
from ws_stack.asyncio.monitor import Monitor
from ws_stack.asyncio.queue import OverflowPolicy, ReceiveQueue
from ws_stack.asyncio.rest import HttpError, http_get
from ws_stack.asyncio.stream import MarketStream, StreamSummary

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
