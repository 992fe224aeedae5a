"""The asyncio connection layer (``ws_stack.asyncio.connection``) as the benchmarks use it.

A connection made here retries at once, forever, with no keepalive traffic: what a
benchmark times is the connection's own work, not a backoff sleep or a ping.
:class:`MessageCounter` and :class:`BookFollower` are handler callbacks, one to wait for
a number of messages, the other to apply every delta to a deep local book as a client
following the market does.
"""

from __future__ import annotations

from typing import Any

from .asv_support import require
from .common import SYMBOLS
from .parsers import make_handler
from .venue_frames import ladder


def connection_class(venue: str) -> Any:
    """``MexcConnection`` or ``GateioConnection``."""
    name = "MexcConnection" if venue == "mexc" else "GateioConnection"
    return getattr(require("ws_stack.asyncio.connection", name), name)


def connection_config(**overrides: Any) -> Any:
    """A connection configuration that retries at once, forever, with no keepalive noise."""
    connection = require("ws_stack.asyncio.connection", "ConnectionConfig")
    reconnect = require("ws_stack.reconnect", "ReconnectionPolicy")
    policy = reconnect.ReconnectionPolicy(initial_delay=0.0, jitter=0.0, max_attempts=None)
    settings: dict[str, Any] = {
        "reconnect": policy,
        "heartbeat": False,
        "ws_ping_interval": None,
        "dead_peer_timeout": None,
    }
    settings.update(overrides)
    return connection.ConnectionConfig(**settings)


def require_connection_layer(venue: str) -> None:
    """Raise ``NotImplementedError`` (in a setup) unless the connection layer is there."""
    connection_class(venue)
    connection_config()
    require("ws_stack.state", "ConnectionState")


def new_connection(venue: str, url: str, handler: Any = None, kind: str = "depth") -> Any:
    """A connection (not started) to ``url`` subscribed to one stream of the symbol."""
    cls = connection_class(venue)
    return cls(
        handler if handler is not None else make_handler(venue),
        [cls.subscription(SYMBOLS[venue], kind)],
        url=url,
        config=connection_config(),
    )


class MessageCounter:
    """A handler callback that wakes a waiter once it has seen enough messages."""

    def __init__(self) -> None:
        import asyncio

        self.count = 0
        self.target = 0
        self.reached = asyncio.Event()

    def __call__(self, message: Any) -> None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()

    async def wait_for(self, more: int, timeout: float = 60.0) -> None:
        """Wait for ``more`` messages; raise ``TimeoutError`` saying how many came."""
        import asyncio

        self.target = self.count + more
        self.reached.clear()
        try:
            async with asyncio.timeout(timeout):
                await self.reached.wait()
        except TimeoutError:
            got = more - (self.target - self.count)
            raise TimeoutError(f"{got} of {more} messages within {timeout} s") from None


class BookFollower:
    """A handler callback that applies every order-book delta to a 1,000-level local book.

    The simulator replays the same deltas over and over, whose sequence numbers would make
    the book ignore every round after the first as stale: each delta is renumbered to
    follow on, so that every one is applied (the sequence checks still run).
    """

    def __init__(self, venue: str) -> None:
        book = require("ws_stack.book", "LocalOrderBook")
        messages = require("ws_stack.messages", "OrderBookUpdate", "Level", "Venue")
        Level, symbol = messages.Level, SYMBOLS[venue]
        ws_venue = messages.Venue.MEXC if venue == "mexc" else messages.Venue.GATEIO
        bids, asks = ladder(500, 49_999.5, -0.5), ladder(500, 50_000.0, 0.5)
        self.book = book.LocalOrderBook(ws_venue, symbol)
        self.book.apply(
            messages.OrderBookUpdate(
                ws_venue,
                symbol,
                [Level(p, s) for p, s in bids],
                [Level(p, s) for p, s in asks],
                True,
                last_update_id=0,
            )
        )
        self.seq = 0

    def __call__(self, update: Any) -> None:
        self.seq += 1
        update.first_update_id = update.last_update_id = self.seq
        self.book.apply(update)


def counting_handler(venue: str) -> tuple[Any, MessageCounter]:
    """The venue's handler with a :class:`MessageCounter` on its order-book messages."""
    messages = require("ws_stack.messages", "WebSocketMessageType")
    handler = make_handler(venue)
    counter = MessageCounter()
    handler.on(messages.WebSocketMessageType.ORDER_BOOK, counter)
    return handler, counter
