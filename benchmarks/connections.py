"""The asyncio connection layer (``ws_stack.asyncio.connection``) as the benchmarks use it.

A connection made here retries at once, forever, with no keepalive traffic: what a
benchmark times is the connection's own work, not a backoff sleep or a ping. It runs on
one of the :data:`TRANSPORTS` (``ConnectionConfig.transport``; commits before the choice
existed have ``websockets`` only, and a benchmark of another transport is n/a there).
:class:`MessageCounter` and :class:`BookFollower` are handler callbacks, one to wait for
a number of messages, the other to apply every delta to a deep local book as a client
following the market does. :func:`bare_picows` is the picows floor: a client that only
counts frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .asv_support import require
from .common import SYMBOLS
from .parsers import make_handler
from .venue_frames import ladder


def connection_class(venue: str) -> Any:
    """``MexcConnection`` or ``GateioConnection``."""
    name = "MexcConnection" if venue == "mexc" else "GateioConnection"
    return getattr(require("ws_stack.asyncio.connection", name), name)


#: The transports the connection benchmarks take as a parameter; the first is the one
#: every commit has (and the only one before ``ConnectionConfig.transport``).
TRANSPORTS = ["websockets", "picows"]


def connection_config(transport: str = "websockets", **overrides: Any) -> Any:
    """A connection configuration that retries at once, forever, with no keepalive noise,
    on ``transport``."""
    connection = require("ws_stack.asyncio.connection", "ConnectionConfig")
    if transport != TRANSPORTS[0]:
        if "transport" not in connection.ConnectionConfig.__dataclass_fields__:
            raise NotImplementedError("no choice of transport in this commit")
        require(transport)
        overrides["transport"] = transport
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


#: The closing handshake's timeout of a client whose peer (a child process) is stopped
#: first in tear-down: a client that no longer reads never sees its peer go, and waits out
#: the whole timeout (the default is 2 s), once per connection and tear-down. No figure
#: depends on how a connection closes.
TEARDOWN_CLOSE_TIMEOUT_S = 0.01


def quick_close() -> dict[str, Any]:
    """The configuration override that sets TEARDOWN_CLOSE_TIMEOUT_S, where this commit's
    connections have a ``close_timeout``."""
    fields = require("ws_stack.asyncio.connection", "ConnectionConfig").ConnectionConfig
    if "close_timeout" not in fields.__dataclass_fields__:
        return {}
    return {"close_timeout": TEARDOWN_CLOSE_TIMEOUT_S}


def require_connection_layer(venue: str, transport: str = "websockets") -> None:
    """Raise ``NotImplementedError`` (in a setup) unless the connection layer is there,
    with ``transport``."""
    connection_class(venue)
    connection_config(transport)
    require("ws_stack.state", "ConnectionState")


def new_connection(
    venue: str,
    url: str,
    handler: Any = None,
    kind: str = "depth",
    transport: str = "websockets",
    **settings: Any,
) -> Any:
    """A connection (not started) to ``url`` subscribed to one stream of the symbol;
    ``settings`` go to its configuration."""
    cls = connection_class(venue)
    return cls(
        handler if handler is not None else make_handler(venue),
        [cls.subscription(SYMBOLS[venue], kind)],
        url=url,
        config=connection_config(transport, **settings),
    )


async def bare_picows(url: str, requests: list[str], on_frame: Callable[[Any], None]) -> Any:
    """A bare picows client: connected to ``url``, ``requests`` sent as text, then
    ``on_frame(frame)`` for every frame (a picows ``WSFrame``, valid during the call);
    nothing else. Returns picows' transport (``disconnect()`` it)."""
    picows = require("picows", "ws_connect", "WSListener", "WSMsgType")

    class Listener(picows.WSListener):  # type: ignore[misc,name-defined]
        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            on_frame(frame)

    transport, _ = await picows.ws_connect(Listener, url, max_frame_size=1 << 20)
    for text in requests:
        transport.send(picows.WSMsgType.TEXT, text.encode())
    return transport


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


class PumpedStream:
    """A client of a :class:`~benchmarks.pump.PumpProcess` sending ``frames`` over and over,
    on an event loop of its own (so that several can take turns in one process).

    With ``transport``, the client is a ws_stack connection on that transport, ``handler``
    its handler; without, the bare websockets loop, counting every frame. With ``work``
    instead, a bare picows client (:func:`bare_picows`) that calls ``work(message)`` on
    every frame's payload and counts it: what no stack on picows can skip. The pump runs in
    a child process and never waits for the client, so the figure (:meth:`frame_time`) is
    the client's own CPU time per frame: socket, transport and, for a connection, queue,
    handler and whatever the handler's callbacks do.

    The source always outruns the client: the socket pushes back (both transports take
    about one read's worth of frames into the queue per turn of the event loop, and the
    consumer empties it every turn), every frame is handled, and :meth:`check` fails the
    run if one was dropped.
    """

    def __init__(
        self,
        venue: str,
        frames: list[Any],
        handler: Any = None,
        transport: str | None = None,
        loops: int = 10_000,
        work: Callable[[Any], None] | None = None,
    ) -> None:
        import asyncio

        from .pump import PumpProcess

        if transport is not None:
            require_connection_layer(venue, transport)
        self.loop = asyncio.new_event_loop()
        self.pump = PumpProcess(frames, loops)
        self.connection: Any = None
        self.ws: Any = None
        self.reader: Any = None
        self.picows: Any = None
        self.counter = MessageCounter()
        if work is not None:
            self.picows = self.run(bare_picows(self.pump.ws_url, [], _reading(work, self.counter)))
        elif transport is None:
            cls = connection_class(venue)
            options = connection_config(**quick_close()).connect_options()
            self.ws = self.run(cls.connection_context(self.pump.ws_url, options))
            self.reader = self.loop.create_task(self._count())
        else:
            self.handler = handler
            self.connection = new_connection(venue, self.pump.ws_url, handler, transport=transport,
                                             **quick_close())  # fmt: skip
            self.run(self.connection.start())

    def count_messages(self, message_type: str) -> None:
        """Count the handler's messages of ``message_type`` (what a window waits for)."""
        kind = getattr(require("ws_stack.messages", "WebSocketMessageType").WebSocketMessageType,
                       message_type)  # fmt: skip
        self.handler.on(kind, self.counter)

    async def _count(self) -> None:
        count = self.counter
        async for frame in self.ws:
            count(frame)

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def frames(self) -> int:
        """Frames handled so far (for the bare loop: read)."""
        if self.connection is None:
            return self.counter.count
        return int(self.handler.stats().frames)

    def frame_time(self, messages: int) -> float:
        """CPU seconds of this process per frame, over a window of ``messages`` more
        counted messages (the batch in flight finishes too, and counts)."""
        import time

        frames, start = self.frames(), time.process_time()
        self.run(self.counter.wait_for(messages))
        return (time.process_time() - start) / (self.frames() - frames)

    def check(self) -> None:
        """Raise unless every frame so far was handled: none failed, none dropped."""
        if self.connection is None:
            return
        metrics = self.connection.metrics()
        if metrics.queue_dropped or self.handler.stats().failed_frames:
            raise RuntimeError(f"frames lost or failed: {metrics}")

    def close(self) -> None:
        """Stop the pump, then close the client: a websockets client that closes while its
        peer still streams waits out its ``close_timeout`` (2 s)."""
        import asyncio

        self.pump.close(at_once=True)
        try:
            if self.reader is not None:
                self.reader.cancel()
                self.run(asyncio.gather(self.reader, return_exceptions=True))
            if self.ws is not None:
                self.run(self.ws.close())
            if self.connection is not None:
                self.run(self.connection.close())
            if self.picows is not None:
                self.picows.disconnect()
                self.run(self.picows.wait_disconnected())
        finally:
            self.loop.close()


def _reading(work: Callable[[Any], None], count: MessageCounter) -> Callable[[Any], None]:
    """A bare picows client's ``on_frame``: the payload, as the transport reads it, to
    ``work``, then counted."""
    binary = require("picows", "WSMsgType").WSMsgType.BINARY

    def on_frame(frame: Any) -> None:
        if frame.msg_type is binary:
            data = frame.get_payload_as_bytes()
        else:
            data = frame.get_payload_as_utf8_text()
        work(data)
        count(data)

    return on_frame
