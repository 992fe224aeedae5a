"""The realistic mix: a recorded stream of many symbols through the handler and the books.

Per venue, a pass handles the stream of :mod:`benchmarks.recordings` (20 symbols, trades,
book tickers and order-book deltas as the simulator's market model produces them; the
proportions are in ``docs/benchmarks.md``) with the venue's default handler, whose
callbacks do what a trading client does with each message: apply every delta to its
symbol's :class:`~ws_stack.book.LocalOrderBook`, keep the latest trade and ticker per
symbol. A pass starts by putting every book back to its first snapshot (20 applies, a
small share of the pass, stated in ``docs/benchmarks.md``), so that each pass does the
same work.

``RealisticMix.time_pass`` is the time of a pass; frames per second are its frames over
it. ``RealisticMixInstructions`` counts the instructions and allocations of a pass per
frame of the stream. The set-up checks the work: a pass must leave no frame unhandled and
every book equal to its symbol's last snapshot.
"""

from __future__ import annotations

from typing import Any

from .asv_support import require
from .common import VENUES
from .instructions import Counted
from .parsers import make_handler
from .recordings import load


class _Mix:
    """The stream of one venue, a handler and a book per symbol, ready for passes."""

    def __init__(self, venue: str) -> None:
        messages = require("ws_stack.messages", "WebSocketMessageType", "Venue")
        book_class = require("ws_stack.book", "LocalOrderBook").LocalOrderBook
        kind = messages.WebSocketMessageType
        recording = load(venue)
        self.stream = recording.stream
        starts = _snapshots(venue, recording.start)
        self.ends = _snapshots(venue, recording.end)
        self.books = {symbol: book_class(messages.Venue(venue), symbol) for symbol in starts}
        self.resets = [(self.books[symbol], update) for symbol, update in starts.items()]
        self.trades: dict[str, Any] = {}
        self.tickers: dict[str, Any] = {}
        self.handler = make_handler(venue)
        books, trades, tickers = self.books, self.trades, self.tickers

        def on_book(update: Any) -> None:
            books[update.symbol].apply(update)

        def on_trade(trade: Any) -> None:
            trades[trade.symbol] = trade

        def on_ticker(ticker: Any) -> None:
            tickers[ticker.symbol] = ticker

        self.handler.on(kind.ORDER_BOOK, on_book)
        self.handler.on(kind.TRADE, on_trade)
        self.handler.on(kind.BOOK_TICKER, on_ticker)

    def run(self) -> None:
        for book, snapshot in self.resets:
            book.apply(snapshot)
        handle = self.handler.handle
        for frame in self.stream:
            handle(frame)

    def check(self) -> None:
        """One pass must handle every frame and end at every symbol's last snapshot."""
        before = self.handler.stats()
        self.run()
        after = self.handler.stats()
        if after.errors != before.errors:
            raise RuntimeError(f"frames of the recording failed: {after.errors}")
        for symbol, end in self.ends.items():
            book = self.books[symbol]
            bids = [(level.price, level.size) for level in end.bids]
            asks = [(level.price, level.size) for level in end.asks]
            if (book.last_update_id, book.bids(), book.asks()) != (end.last_update_id, bids, asks):
                raise RuntimeError(f"{symbol}: the book does not end at the last snapshot")


def _snapshots(venue: str, frames: list[bytes | str]) -> dict[str, Any]:
    """The snapshot each of ``frames`` holds, by symbol, as ws_stack parses it."""
    kind = require("ws_stack.messages", "WebSocketMessageType").WebSocketMessageType
    handler = make_handler(venue)
    found: list[Any] = []
    handler.on(kind.ORDER_BOOK, lambda update: found.append(update.copy()))
    for frame in frames:
        handler.handle(frame)
    if len(found) != len(frames) or not all(update.is_snapshot for update in found):
        raise RuntimeError(f"the recording's snapshots do not parse: {handler.stats()}")
    return {update.symbol: update for update in found}


class RealisticMix:
    """A pass of the venue's recorded stream through the handler and the books."""

    version = 1
    params = [VENUES]
    param_names = ["venue"]

    def setup(self, venue: str) -> None:
        self.mix = _Mix(venue)
        self.mix.check()

    def time_pass(self, venue: str) -> None:
        self.mix.run()


class RealisticMixInstructions(Counted):
    """Instructions and allocations of a pass, per frame of the stream."""

    twin = RealisticMix
    # A pass is about a thousand frames: a few are enough, and cheap under callgrind.
    warm_up_calls = 2
    calls_per_part = 1
    parts = 3

    def setup(self, suite: dict[str, Any], *params: Any) -> None:
        super().setup(suite, *params)
        self.frames = len(load(*params).stream)

    track_per_frame = Counted.of("time_pass", per="frames")
    track_allocations_per_frame = Counted.of("time_pass", allocations=True, per="frames")
