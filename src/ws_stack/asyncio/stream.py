"""End to end: connections, handler and synchronised local order books for some symbols.

:class:`MarketStream` is what ``ws-stack stream`` and ``ws-stack record`` run. It
subscribes to the requested channels of each symbol (sharded over as many connections as
the venue needs), keeps one :class:`~ws_stack.book_sync.BookSync` per symbol when an
order-book channel is subscribed, and reports a :class:`StreamSummary` on demand. A book
that asks for a snapshot gets one from REST, or, on Gate.io's ``spot.obu`` (which has no
REST snapshot), by subscribing to the stream again: its first push is a full book.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence

import msgspec

from ws_stack.book_sync import BookSync, SyncStats
from ws_stack.exceptions import ConfigError, FrameError
from ws_stack.handler import MessageHandler
from ws_stack.messages import BookTicker, OrderBookUpdate, Venue, WebSocketMessageType
from ws_stack.metrics import MetricsSnapshot
from ws_stack.protocol import ChannelKind, Subscription, VenueProtocol
from ws_stack.state import ConnectionState, StateCallback
from ws_stack.venues import connection_class, make_handler

from .connection import Connection, ConnectionConfig, FrameTap
from .group import ConnectionGroup
from .rest import HttpError, http_get

__all__ = [
    "DEFAULT_KINDS",
    "MarketStream",
    "StreamSummary",
    "SymbolSummary",
    "format_status_line",
    "format_summary",
]

logger = logging.getLogger(__name__)

#: What ``ws-stack stream`` subscribes to unless told otherwise.
DEFAULT_KINDS = (ChannelKind.TRADES, ChannelKind.BOOK_TICKER, ChannelKind.DEPTH)

Quote = tuple[float, float]


class SymbolSummary(msgspec.Struct, frozen=True):
    symbol: str
    #: Best bid and ask as ``(price, size)``: from the local book when it is live, else
    #: from the latest book ticker; ``None`` before either exists.
    best_bid: Quote | None
    best_ask: Quote | None
    #: The book's synchronisation counters, when depth is subscribed.
    book: SyncStats | None = None


class StreamSummary(msgspec.Struct, frozen=True):
    venue: str
    url: str
    elapsed_s: float
    metrics: MetricsSnapshot
    symbols: list[SymbolSummary]
    #: REST snapshot fetches that failed (HTTP error or unreadable body).
    snapshot_errors: int

    @property
    def frames_per_s(self) -> float:
        """Average since start."""
        return self.metrics.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def resyncs(self) -> int:
        return sum(s.book.resyncs for s in self.symbols if s.book is not None)


class MarketStream:
    """Live market data of some symbols of one venue, with local books kept in sync."""

    def __init__(
        self,
        venue: Venue,
        symbols: Sequence[str],
        kinds: Iterable[ChannelKind] = DEFAULT_KINDS,
        *,
        url: str | None = None,
        rest_url: str | None = None,
        config: ConnectionConfig | None = None,
        handler: MessageHandler | None = None,
        books: bool = True,
        frame_tap: FrameTap | None = None,
        snapshot_timeout: float = 10.0,
        snapshot_retry_delay: float = 1.0,
        transport: str | None = None,
    ) -> None:
        """``transport`` (``"websockets"`` or ``"picows"``), when given, replaces
        ``config.transport``; see :mod:`ws_stack.asyncio.transport`."""
        if transport is not None:
            config = dataclasses.replace(config or ConnectionConfig(), transport=transport)
        if not symbols:
            raise ConfigError("no symbol given: name at least one, e.g. BTCUSDT")
        kinds = tuple(dict.fromkeys(kinds))
        if not kinds:
            raise ConfigError(
                "no channel given: name at least one of " + ", ".join(k.value for k in ChannelKind)
            )
        self.venue = venue
        cls = connection_class(venue)
        self.protocol: type[VenueProtocol] = cls
        self.symbols = tuple(dict.fromkeys(cls.normalize_symbol(s) for s in symbols))
        self.kinds = kinds
        self.url = cls.default_url if url is None else url
        self.rest_url = cls.default_rest_url if rest_url is None else rest_url
        self.handler = make_handler(venue) if handler is None else handler
        subscriptions = [Subscription(s, k) for s in self.symbols for k in kinds]
        self.group = ConnectionGroup(
            cls, self.handler, subscriptions, url=self.url, config=config, frame_tap=frame_tap
        )
        self._snapshot_timeout = snapshot_timeout
        self._snapshot_retry_delay = snapshot_retry_delay
        self._insecure_rest = self.group.config.insecure_skip_tls_verify
        self.books: dict[str, BookSync] = {}
        book_kinds = [kind for kind in kinds if kind.carries_book]
        #: Books of spot.obu are rebuilt by subscribing again, the others from REST.
        self._in_band = ChannelKind.ORDER_BOOK_V2 in book_kinds
        if self._in_band and len(book_kinds) > 1:
            raise ConfigError(
                "the obu channel keeps its own order book: subscribe to obu, or to depth "
                "and depth_snapshot, not both"
            )
        if books and book_kinds:
            self.books = {symbol: BookSync(venue, symbol) for symbol in self.symbols}
            self.handler.on(WebSocketMessageType.ORDER_BOOK, self._on_book)
            for connection in self.group.connections:
                connection.on_state_change(self._book_watcher(connection))
                connection.on_frames_dropped(self._drop_watcher(connection))
        self._tickers: dict[str, BookTicker] = {}
        self.handler.on(WebSocketMessageType.BOOK_TICKER, self._on_ticker)
        self._fetches: set[asyncio.Task[None]] = set()
        self.snapshot_errors = 0
        self._started_at: float | None = None
        self._stopped_at: float | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Connect and subscribe; raise :class:`ConnectionFailed` if that cannot happen."""
        self._started_at = time.monotonic()
        await self.group.start()

    async def close(self) -> None:
        """Close the connections and stop any snapshot fetch."""
        self._closing = True
        await self.group.close()
        for task in self._fetches:
            task.cancel()
        await asyncio.gather(*self._fetches, return_exceptions=True)
        self._fetches.clear()
        if self._stopped_at is None:
            self._stopped_at = time.monotonic()

    async def __aenter__(self) -> MarketStream:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def run(
        self,
        duration: float | None = None,
        *,
        on_tick: Callable[[StreamSummary], None] | None = None,
        tick_interval: float = 1.0,
    ) -> StreamSummary:
        """Stream for ``duration`` seconds (``None``: until cancelled); return the summary.

        ``on_tick(summary)`` is called every ``tick_interval`` seconds. Raises
        :class:`ConnectionFailed` if a connection gives up; the stream is closed either way.
        """
        try:
            await self.start()
            assert self._started_at is not None
            deadline = None if duration is None else self._started_at + duration
            watcher = asyncio.create_task(self.group.wait_closed(), name="stream-watcher")
            try:
                while True:
                    wait = tick_interval
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            break
                    await asyncio.wait([watcher], timeout=wait)
                    if watcher.done():
                        watcher.result()  # raises ConnectionFailed
                        break
                    if on_tick is not None and (deadline is None or time.monotonic() < deadline):
                        on_tick(self.summary())
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        finally:
            await self.close()
        return self.summary()

    # -- order books -------------------------------------------------------------

    def _books_of(self, connection: Connection) -> list[BookSync]:
        """The books whose depth ``connection`` carries."""
        symbols = dict.fromkeys(
            sub.symbol for sub in connection.subscriptions if sub.kind.carries_book
        )
        return [self.books[symbol] for symbol in symbols if symbol in self.books]

    def _book_watcher(self, connection: Connection) -> StateCallback:
        """A state callback that restarts the books fed by ``connection`` when it drops.

        Deltas may have been lost with the socket, and none arrive while it is down: the
        book must not claim to be in sync meanwhile. It buffers again and is rebuilt
        from a snapshot once the connection is back (both venues' documented recipe).
        """
        books = self._books_of(connection)

        def restart_books(old: ConnectionState, new: ConnectionState) -> None:
            if old is ConnectionState.CONNECTED and new is not ConnectionState.CLOSING:
                for sync in books:
                    sync.restart()

        return restart_books

    def _drop_watcher(self, connection: Connection) -> Callable[[int], None]:
        """A frames-dropped callback: the books fed by ``connection`` may have lost a delta."""
        books = self._books_of(connection)

        def unverify_books(count: int) -> None:
            for sync in books:
                sync.frames_dropped()

        return unverify_books

    def _on_book(self, update: OrderBookUpdate) -> None:
        sync = self.books.get(update.symbol)
        if sync is not None and sync.apply(update) and not self._closing:
            self._request_snapshot(sync)

    def _on_ticker(self, ticker: BookTicker) -> None:
        self._tickers[ticker.symbol] = ticker

    def _request_snapshot(self, sync: BookSync) -> None:
        """Get ``sync`` a new snapshot: from REST, or for spot.obu (which has none) by
        subscribing to the stream again, whose first push is a full book."""
        token = sync.snapshot_requested()
        if self._in_band:
            work, name = self._renew(sync, token), f"resubscribe-{sync.symbol}"
        else:
            work, name = self._snapshot(sync, token), f"snapshot-{sync.symbol}"
        task = asyncio.create_task(work, name=name)
        self._fetches.add(task)
        task.add_done_callback(self._fetches.discard)

    async def _renew(self, sync: BookSync, token: int) -> None:
        subscription = Subscription(sync.symbol, ChannelKind.ORDER_BOOK_V2)
        try:
            await self.group.resubscribe(subscription)
        except Exception as exc:
            logger.warning("resubscribing %s failed: %s", subscription, exc)
            await self._retry_later(sync, token)

    async def _snapshot(self, sync: BookSync, token: int) -> None:
        url = self.protocol.snapshot_url(self.rest_url, sync.symbol)
        try:
            body = await http_get(
                url, timeout=self._snapshot_timeout, insecure_skip_tls_verify=self._insecure_rest
            )
            snapshot = self.protocol.parse_snapshot(body, sync.symbol)
        except Exception as exc:
            logger.warning(
                "order-book snapshot of %s failed: %s",
                sync.symbol,
                exc,
                exc_info=not isinstance(exc, HttpError | FrameError),
            )
            await self._retry_later(sync, token)
            return
        if not sync.apply_snapshot(snapshot, token):
            logger.info(
                "snapshot of %s older than the buffered deltas; fetching again", sync.symbol
            )

    async def _retry_later(self, sync: BookSync, token: int) -> None:
        """A snapshot request failed: count it, and let a later delta ask again, but not
        sooner than the retry delay. Whatever went wrong, the book must ask again: a
        request that died without snapshot_failed() would leave it buffering for good."""
        self.snapshot_errors += 1
        await asyncio.sleep(self._snapshot_retry_delay)
        sync.snapshot_failed(token)

    # -- reporting ---------------------------------------------------------------

    def best(self, symbol: str) -> tuple[Quote | None, Quote | None]:
        """Best bid and ask of ``symbol`` (book when live, else the latest ticker)."""
        symbol = self.protocol.normalize_symbol(symbol)
        sync = self.books.get(symbol)
        if sync is not None and sync.live:
            return sync.book.best_bid(), sync.book.best_ask()
        ticker = self._tickers.get(symbol)
        if ticker is not None:
            return (ticker.bid_price, ticker.bid_size), (ticker.ask_price, ticker.ask_size)
        return None, None

    def summary(self) -> StreamSummary:
        now = time.monotonic() if self._stopped_at is None else self._stopped_at
        elapsed = 0.0 if self._started_at is None else now - self._started_at
        symbols = []
        for symbol in self.symbols:
            bid, ask = self.best(symbol)
            sync = self.books.get(symbol)
            symbols.append(SymbolSummary(symbol, bid, ask, None if sync is None else sync.stats()))
        return StreamSummary(
            venue=self.venue.value,
            url=self.url,
            elapsed_s=elapsed,
            metrics=self.group.metrics(),
            symbols=symbols,
            snapshot_errors=self.snapshot_errors,
        )


# -- presentation (used by the command line) -------------------------------------


def _quote(quote: Quote | None) -> str:
    return "-" if quote is None else f"{quote[0]:.10g} x {quote[1]:.6g}"


def _latency(metrics: MetricsSnapshot) -> str:
    p50, p99 = metrics.latency_p50_us, metrics.latency_p99_us
    if p50 is None or p99 is None:
        return "p50 - p99 -"
    return f"p50 {p50:.1f} us p99 {p99:.1f} us"


def format_status_line(summary: StreamSummary, frames_per_s: float) -> str:
    """One line for the live view: rate, latency, best bid/ask, reconnects, errors."""
    metrics = summary.metrics
    quotes = " ".join(
        f"{s.symbol} {_quote(s.best_bid)} / {_quote(s.best_ask)}" for s in summary.symbols[:3]
    )
    return (
        f"{metrics.state} | {frames_per_s:,.0f} frames/s | {_latency(metrics)} | {quotes} | "
        f"reconnects {metrics.reconnects} | errors {metrics.error_count} | "
        f"resyncs {summary.resyncs} | dropped {metrics.queue_dropped}"
    )


def format_summary(summary: StreamSummary, *, title: str) -> str:
    """The final multi-line summary."""
    metrics = summary.metrics
    messages = ", ".join(f"{k}={v}" for k, v in sorted(metrics.messages_by_type.items()))
    errors = ", ".join(f"{k}={v}" for k, v in sorted(metrics.errors.items())) or "none"
    lines = [
        title,
        f"  duration     {summary.elapsed_s:.1f} s",
        f"  connections  {metrics.connections} ({metrics.subscriptions} subscriptions)",
        f"  frames       {metrics.frames} ({summary.frames_per_s:,.1f}/s), "
        f"{metrics.bytes / 1000:,.1f} kB",
        f"  messages     {messages or 'none'}",
        f"  latency      handler {_latency(metrics)}",
        f"  reconnects   {metrics.reconnects}",
        f"  errors       {metrics.error_count} ({errors})",
        f"  queue        {metrics.queue_dropped} dropped",
    ]
    for symbol in summary.symbols:
        lines.append(
            f"  {symbol.symbol:<12} best bid {_quote(symbol.best_bid)} / "
            f"best ask {_quote(symbol.best_ask)}"
        )
        if symbol.book is not None:
            book = symbol.book
            lines.append(
                f"  {'':<12} book {book.phase}, {book.snapshots} snapshots, "
                f"{book.deltas_applied} deltas, {book.resyncs} resyncs"
            )
    if summary.snapshot_errors:
        lines.append(f"  snapshot errors {summary.snapshot_errors}")
    return "\n".join(lines)
