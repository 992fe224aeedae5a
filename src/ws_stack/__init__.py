"""ws_stack: market-data WebSocket stack for MEXC spot v3 and Gate.io spot v4.

The typed messages, the exceptions, the local order book and the handler base are here;
each venue's handler and parsers are in its package (:mod:`ws_stack.mexc`,
:mod:`ws_stack.gateio`), so that using one venue loads nothing of the other; the
connections, streams and the monitor are in :mod:`ws_stack.asyncio`.
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
