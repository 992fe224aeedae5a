"""ws_stack: market-data WebSocket stack for MEXC spot v3 and Gate.io spot v4.

Two layers. The pure core takes values and returns values, and imports no I/O library:
typed messages, the per-venue codecs and handlers (:mod:`ws_stack.mexc`,
:mod:`ws_stack.gateio`), order books and their resynchronisation, the connection protocols
(:mod:`ws_stack.protocol`), the monitor's figures and metric families. On top of it,
:mod:`ws_stack.asyncio` (connections, streams, the monitor's loop and HTTP server),
:mod:`ws_stack.sim` (a local venue simulator) and :mod:`ws_stack.cli` do the I/O.

The typed messages, the exceptions, the local order book and the handler base are here;
each venue's handler and parsers are in its package, so that using one venue loads
nothing of the other.
"""

from ws_stack.book import ApplyResult, LocalOrderBook, SequenceGap
from ws_stack.exceptions import (
    ConfigError,
    ConnectionFailed,
    FrameError,
    FrameErrorReason,
    InvalidStateTransition,
    WsStackError,
)
from ws_stack.handler import HandlerStats, MessageHandler
from ws_stack.messages import (
    BookTicker,
    Level,
    Message,
    OrderBookUpdate,
    Pong,
    Side,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
)
from ws_stack.pool import LevelPool, PoolStats

__version__ = "0.1.0"

__all__ = [
    "ApplyResult",
    "BookTicker",
    "ConfigError",
    "ConnectionFailed",
    "FrameError",
    "FrameErrorReason",
    "HandlerStats",
    "InvalidStateTransition",
    "Level",
    "LevelPool",
    "LocalOrderBook",
    "Message",
    "MessageHandler",
    "OrderBookUpdate",
    "Pong",
    "PoolStats",
    "SequenceGap",
    "Side",
    "SubscriptionAck",
    "Trade",
    "Venue",
    "VenueError",
    "WebSocketMessageType",
    "WsStackError",
]
