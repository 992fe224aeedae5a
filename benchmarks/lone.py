"""Lone frames: one frame at a time, the caches left cold by other work in between.

The hot-loop benchmarks time the same frame again and again, with ws_stack's code and
data in the caches. A market-data process does not work like that: it mostly waits, a
frame arrives, and the event loop and the strategy's own work have pushed ws_stack's
lines out of the caches since the last one. That is the latency a strategy pays, and the
targets are judged on it, at p95 (the compliance table: docs/benchmarks.md).

Between two lone frames, :class:`Interference` writes INTERFERENCE_BYTES (4 MiB) of
memory, every cache line of a buffer of its own: the data other work would leave in the
caches. Nothing else comes between two frames in process (an idle wait would add wall
time and nothing the caches see); through a socket the frames also arrive apart in time
(``bench_connection.LoneFrameSocket``). :class:`LoneHandler` is one venue's handler with
the callbacks of a strategy following the market (every delta applied to a 1,000-level
book, the other messages kept) and a stream of distinct frames of one kind to feed it.
The counted twin (``bench_handler.LoneFrameMisses``) runs the same frame after the same
interference under valgrind's cache simulation (``benchmarks/cache_misses.py``).
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

from .asv_support import require
from .connections import BookFollower
from .parsers import detector, make_handler
from .venue_frames import frame

#: What the other work between two lone frames writes, and in pieces of how much: a C
#: library may write a large block with stores that bypass the caches, which would leave
#: them as they were.
INTERFERENCE_BYTES = 4 << 20
INTERFERENCE_PIECE = 64 << 10
#: Levels a side of a lone order-book delta: the small deltas venues mostly send.
LONE_DEPTH = 3
#: Each venue's own format: what its connections subscribe to.
OWN_FORMAT = {"mexc": "protobuf", "gateio": "json"}
#: The percentiles reported, by the name their benchmarks carry.
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p999": 0.999}


class Interference:
    """The other work between two lone frames: INTERFERENCE_BYTES written, a byte value
    that changes on every call (so that every line is written, never found as it was)."""

    def __init__(self, size: int = INTERFERENCE_BYTES) -> None:
        self._buffer = (ctypes.c_char * size)()
        start = ctypes.addressof(self._buffer)
        self._pieces = range(start, start + size, INTERFERENCE_PIECE)
        self._value = 0

    def __call__(self) -> None:
        self._value = value = (self._value + 1) & 0xFF
        memset = ctypes.memset
        for address in self._pieces:
            memset(address, value, INTERFERENCE_PIECE)


def percentile(ordered: list[int], fraction: float) -> int:
    """The nearest-rank percentile of ``ordered`` (sorted)."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def percentiles(latencies: list[int]) -> dict[str, int]:
    """``{"p50": ..., "p95": ..., ...}`` of ``latencies`` (see PERCENTILES)."""
    ordered = sorted(latencies)
    return {name: percentile(ordered, fraction) for name, fraction in PERCENTILES.items()}


class _Keep:
    """A strategy's callback for trades and tickers: keeps the latest message."""

    def __init__(self) -> None:
        self.latest: Any = None

    def __call__(self, message: Any) -> None:
        self.latest = message


def lone_stream(venue: str, fmt: str, channel: str, count: int) -> list[Any]:
    """``count`` distinct frames of one kind, as a venue sends them one after another
    (sequence numbers follow on; order-book deltas have LONE_DEPTH levels a side)."""
    return [frame(venue, fmt, channel, LONE_DEPTH, seq=seq) for seq in range(1, count + 1)]


def _as_is(channel: str, callback: Any) -> Any:
    return callback


def strategy_callbacks(handler: Any, venue: str, wrap: Any = _as_is) -> None:
    """Subscribe ``handler`` as a strategy would: every delta into a 1,000-level book
    (:class:`~benchmarks.connections.BookFollower`), the latest trade and ticker kept.
    ``wrap(channel, callback)`` gives the callback registered for each channel."""
    kinds = require("ws_stack.messages", "WebSocketMessageType").WebSocketMessageType
    handler.on(kinds.ORDER_BOOK, wrap("order_book", BookFollower(venue)))
    handler.on(kinds.TRADE, wrap("trade", _Keep()))
    handler.on(kinds.BOOK_TICKER, wrap("book_ticker", _Keep()))


class LoneHandler:
    """One venue's handler with a strategy's callbacks, fed one frame at a time.

    :meth:`handle_next` and :meth:`detect_next` take the next frame of a stream of
    ``frames`` distinct frames (round and round); :meth:`interfere` is the work between
    two lone frames.
    """

    def __init__(self, venue: str, fmt: str, channel: str, frames: int = 200) -> None:
        self.handler = make_handler(venue)
        strategy_callbacks(self.handler, venue)
        self.detect = detector(venue)
        self.stream = lone_stream(venue, fmt, channel, frames)
        self.interfere = Interference()
        self._next = 0
        for data in self.stream[:20]:  # specialised code, filled pools: a running handler
            if self.handler.handle(data) < 1:
                raise RuntimeError(f"handler rejected the frame: {self.handler.stats()}")

    def next_frame(self) -> Any:
        data = self.stream[self._next]
        self._next = (self._next + 1) % len(self.stream)
        return data

    def handle_next(self) -> None:
        self.handler.handle(self.next_frame())

    def detect_next(self) -> None:
        self.detect(self.next_frame())
