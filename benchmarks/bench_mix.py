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

``RealisticMixSocket`` is the same work end to end, what a user gets: a pump in a child
process (:mod:`benchmarks.pump`) sends the recording (the snapshots, then the stream) over
and over through a socket, never waiting for the client, and a connection on the
``transport`` parameter hands it to the same handler and books. Its figure is the client's
CPU time per frame through socket, transport, queue, handler and books; frames per second
per core are its inverse. ``RealisticMixSocketSpeedup`` compares the two transports in one
process.

``RealisticMixCompiledOverPure`` and ``RealisticMixSocketCompiledOverPure`` (on picows)
are what the compiled twins buy: the same work on their pure-Python references over the
work on the twins, in one process (:mod:`benchmarks.implementations`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .asv_support import PLAIN_SAMPLES, Timed, require, take_turns
from .common import VENUES
from .connections import TRANSPORTS, PumpedStream
from .implementations import reference_book_class, reference_handler, use_reference_receiver
from .instructions import Counted
from .parsers import make_handler
from .recordings import load


class _Mix:
    """The stream of one venue, a handler and a book per symbol, ready for passes.

    With ``reference``, the handler and the books are the pure-Python references of the
    compiled twins (:mod:`benchmarks.implementations`).
    """

    def __init__(self, venue: str, reference: bool = False) -> None:
        messages = require("ws_stack.messages", "WebSocketMessageType", "Venue")
        if reference:
            book_class = reference_book_class()
        else:
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
        self.handler = reference_handler(venue) if reference else make_handler(venue)
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


class RealisticMix(Timed):
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


#: Book tickers a window of the socket benchmarks waits for: about a third of the frames,
#: so some 3,000 frames (three passes of the recording).
SOCKET_WINDOW_TICKERS = 1000
#: Windows per process of ``RealisticMixSocket`` (its samples, as many as any plain
#: figure's), and rotations of the speedup.
SOCKET_WINDOWS = PLAIN_SAMPLES
SPEEDUP_ROTATIONS = 10


def _pumped_mix(venue: str, transport: str, reference: bool = False) -> PumpedStream:
    """A connection on ``transport`` receiving the venue's recording from a pump, handled
    as a pass of ``RealisticMix`` handles it (by the references of the compiled twins with
    ``reference``); checked and warmed up."""
    mix = _Mix(venue, reference)
    recording = load(venue)
    stream = PumpedStream(venue, recording.start + recording.stream, mix.handler, transport)
    try:
        if reference:
            use_reference_receiver(stream.connection)
        stream.count_messages("BOOK_TICKER")
        stream.frame_time(SOCKET_WINDOW_TICKERS)  # warm-up
        stream.check()
    except BaseException:
        stream.close()
        raise
    return stream


class RealisticMixSocket(Timed):
    """Client CPU time per frame of the realistic mix end to end, through a socket.

    The inverse is frames per second per core, which the README's performance table shows.
    """

    version = 1
    params = [VENUES, TRANSPORTS]
    param_names = ["venue", "transport"]
    timeout = 180

    def setup(self, venue: str, transport: str) -> None:
        self.stream = _pumped_mix(venue, transport)

    def teardown(self, venue: str, transport: str) -> None:
        if getattr(self, "stream", None) is not None:
            self.stream.close()

    def track_frame_time(self, venue: str, transport: str) -> dict[str, Any]:
        samples = [self.stream.frame_time(SOCKET_WINDOW_TICKERS) for _ in range(SOCKET_WINDOWS)]
        self.stream.check()
        return {"samples": samples, "number": 1}

    track_frame_time.unit = "seconds"  # type: ignore[attr-defined]


class RealisticMixSocketSpeedup:
    """The realistic mix end to end on picows against websockets, in one process: the
    websockets client's CPU time per frame over the picows client's, the two taking windows
    in turn (each one first every other time); asv keeps the median of the rotations. It is
    the ratio of frames per second per core that choosing picows buys.
    """

    version = 1
    params = [VENUES]
    param_names = ["venue"]
    unit = "ratio"
    timeout = 300

    def setup(self, venue: str) -> None:
        self.streams: list[PumpedStream] = []
        for transport in TRANSPORTS:
            self.streams.append(_pumped_mix(venue, transport))

    def teardown(self, venue: str) -> None:
        for stream in getattr(self, "streams", []):
            stream.close()

    def track_ratio(self, venue: str) -> dict[str, Any]:
        windows = [partial(stream.frame_time, SOCKET_WINDOW_TICKERS) for stream in self.streams]
        websockets, picows = take_turns(windows, SPEEDUP_ROTATIONS)
        for stream in self.streams:
            stream.check()
        return {"samples": [a / b for a, b in zip(websockets, picows, strict=True)], "number": 1}


class RealisticMixCompiledOverPure:
    """What the compiled twins buy on the realistic mix, in process: a pass's time on the
    pure-Python references over its time on the compiled twins, the two taking passes in
    turn in one process (:mod:`benchmarks.implementations`). n/a before the twins existed.
    """

    version = 1
    params = [VENUES]
    param_names = ["venue"]
    unit = "ratio"

    def setup(self, venue: str) -> None:
        self.mixes = [_Mix(venue, reference=True), _Mix(venue)]
        for mix in self.mixes:
            mix.check()

    def track_ratio(self, venue: str) -> dict[str, Any]:
        pure, compiled = take_turns([partial(_pass_time, mix) for mix in self.mixes], PASS_TURNS)
        for mix in self.mixes:
            mix.check()
        return {"samples": [a / b for a, b in zip(pure, compiled, strict=True)], "number": 1}


#: Rotations of RealisticMixCompiledOverPure, and passes a turn times: a pass takes
#: milliseconds, so ten make a window long beside the clock's resolution and short beside
#: the machine's load changes (twenty before; docs/history.md has what it cost).
PASS_TURNS = 30
PASSES_A_TURN = 10


def _pass_time(mix: _Mix) -> float:
    import time

    start = time.perf_counter()
    for _ in range(PASSES_A_TURN):
        mix.run()
    return time.perf_counter() - start


class RealisticMixSocketCompiledOverPure:
    """What the compiled twins buy end to end, through a socket on picows: the client's CPU
    time per frame with the pure-Python references over the same with the compiled twins,
    the two connections taking windows in turn in one process (as
    ``RealisticMixSocketSpeedup`` compares transports). n/a before the twins existed.
    """

    version = 1
    params = [VENUES]
    param_names = ["venue"]
    unit = "ratio"
    timeout = 300

    def setup(self, venue: str) -> None:
        self.streams: list[PumpedStream] = []
        for reference in (True, False):
            self.streams.append(_pumped_mix(venue, "picows", reference))

    def teardown(self, venue: str) -> None:
        for stream in getattr(self, "streams", []):
            stream.close()

    def track_ratio(self, venue: str) -> dict[str, Any]:
        windows = [partial(stream.frame_time, SOCKET_WINDOW_TICKERS) for stream in self.streams]
        pure, compiled = take_turns(windows, COMPILED_ROTATIONS)
        for stream in self.streams:
            stream.check()
        return {"samples": [a / b for a, b in zip(pure, compiled, strict=True)], "number": 1}


#: Rotations of RealisticMixSocketCompiledOverPure.
COMPILED_ROTATIONS = 6


def main() -> None:
    """``python -m benchmarks.bench_mix``: the mix through a socket on each transport, as
    frames per second per core (the inverse of ``RealisticMixSocket``'s figure, the median
    of its windows), for the working tree's package; nothing is stored."""
    import statistics

    for venue in VENUES:
        rates = {}
        for transport in TRANSPORTS:
            stream = _pumped_mix(venue, transport)
            try:
                windows = [stream.frame_time(SOCKET_WINDOW_TICKERS) for _ in range(SOCKET_WINDOWS)]
                stream.check()
            finally:
                stream.close()
            rates[transport] = 1 / statistics.median(windows)
        shown = ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())
        speedup = rates["picows"] / rates["websockets"]
        print(f"{venue}: frames per second per core: {shown} (picows {speedup:.2f}x)")


if __name__ == "__main__":
    main()
