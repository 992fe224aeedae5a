"""ws_stack: market-data WebSocket stack for MEXC spot v3 and Gate.io spot v4."""

from ws_stack.exceptions import (
    ConfigError,
    ConnectionFailed,
    FrameError,
    FrameErrorReason,
    InvalidStateTransition,
    WsStackError,
)
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
    "BookTicker",
    "ConfigError",
    "ConnectionFailed",
    "FrameError",
    "FrameErrorReason",
    "InvalidStateTransition",
    "Level",
    "LevelPool",
    "Message",
    "OrderBookUpdate",
    "Pong",
    "PoolStats",
    "Side",
    "SubscriptionAck",
    "Trade",
    "Venue",
    "VenueError",
    "WebSocketMessageType",
    "WsStackError",
]
