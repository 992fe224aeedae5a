"""The simulated market: a seeded, deterministic order book and trade generator per symbol.

Pure: no clock, no I/O, no asyncio. Each :meth:`SymbolMarket.step` advances one symbol by
one sequence number and returns a :class:`Tick`: the levels that changed (inserts, size
changes and deletes as size ``"0"``), the trades of that step, and the new version. The
same seed and the same sequence of ``step`` calls give the same ticks.

Prices and sizes are kept as integers (ticks and lots) and written as fixed-point decimal
strings, so ``float(text)`` is the same number on both ends of the socket and a client
that applies the ticks to a :class:`~ws_stack.book.LocalOrderBook` gets exactly
:meth:`SymbolMarket.book`.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ws_stack.book import LocalOrderBook
from ws_stack.messages import Level, OrderBookUpdate, Side, Venue

__all__ = [
    "HISTORY_TICKS",
    "BookState",
    "LevelText",
    "Market",
    "SimTrade",
    "SymbolMarket",
    "Tick",
    "merge_ticks",
]

#: Ticks kept per symbol so that a subscriber that fell behind can catch up.
HISTORY_TICKS = 10_000
#: A symbol that keeps its books (``keep_books``) stores a whole one every this many
#: versions and rebuilds those between from the ticks: a few kilobytes per 64 versions.
KEEP_BOOK_EVERY = 64
#: ``(price, size)`` as wire text; size ``"0"`` removes the level.
LevelText = tuple[str, str]

_SIZE_DECIMALS = 4
_MAX_LOTS = 20_000
#: Starting mid prices of well-known bases; other symbols get a seeded price.
_START_PRICES = {"BTC": 50_000, "ETH": 3_000, "SOL": 150, "XRP": 0.5, "DOGE": 0.1}
_QUOTES = ("USDT", "USDC", "USD", "BTC", "ETH")


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One simulated trade; ``side`` is the taker's side."""

    trade_id: int
    price: str
    size: str
    side: Side
    time_ms: int


@dataclass(frozen=True, slots=True)
class BookState:
    """One symbol's whole book at one version, as a client reads it off the wire:
    ``(price, size)`` floats, best first (what ``LocalOrderBook.bids()`` and ``asks()``
    give)."""

    version: int
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Tick:
    """What one step changed: levels best first, trades, and the version it leads to."""

    version: int
    time_ms: int
    bids: tuple[LevelText, ...]
    asks: tuple[LevelText, ...]
    trades: tuple[SimTrade, ...]


class _BookSide:
    """Lots by price tick, prices kept sorted ascending; records what a step touched."""

    __slots__ = ("before", "lots", "prices")

    def __init__(self) -> None:
        self.lots: dict[int, int] = {}
        self.prices: list[int] = []
        #: Lots at the start of the current step of every price the step touched.
        self.before: dict[int, int] = {}

    def set(self, price: int, lots: int) -> None:
        old = self.lots.get(price, 0)
        self.before.setdefault(price, old)
        if lots <= 0:
            if old:
                del self.lots[price]
                del self.prices[bisect_left(self.prices, price)]
        elif old:
            self.lots[price] = lots
        else:
            self.lots[price] = lots
            insort(self.prices, price)

    def changes(self) -> list[tuple[int, int]]:
        """``(price, lots)`` of every level the step changed (0 lots: removed)."""
        out = [
            (price, self.lots.get(price, 0))
            for price, old in self.before.items()
            if self.lots.get(price, 0) != old
        ]
        self.before.clear()
        return out


class SymbolMarket:
    """One symbol's order book (``depth_levels`` per side) with a drifting mid price."""

    def __init__(
        self,
        symbol: str,
        *,
        depth_levels: int = 20,
        seed: int = 0,
        history: int = HISTORY_TICKS,
        keep_books: int = 0,
    ) -> None:
        """``keep_books``: of how many of the latest versions :meth:`book_at` can tell the
        whole book (0: none, and no cost per step)."""
        self.symbol = symbol
        self.depth_levels = depth_levels
        self._rng = random.Random(f"{seed}:{split_symbol(symbol)}")
        rng = self._rng
        start = _START_PRICES.get(split_symbol(symbol)[0]) or round(10 ** rng.uniform(0, 3), 2)
        # Tick size: about seven significant digits at the starting price.
        digits = len(str(int(start))) if start >= 1 else 0
        self.price_decimals = max(2, min(8, 7 - digits))
        self.size_decimals = _SIZE_DECIMALS
        self._bids = _BookSide()
        self._asks = _BookSide()
        #: Sequence number of the current book state.
        self.version = rng.randint(1_000, 9_999) * 1_000_000
        self._next_trade_id = rng.randint(1_000, 9_999) * 100_000
        self._history: deque[Tick] = deque(maxlen=history)
        self._last_mid = 0
        self._seed_book(round(start * 10**self.price_decimals))
        self._keep_books = keep_books
        #: Whole books every KEEP_BOOK_EVERY versions, from the first one on.
        self._books: deque[BookState] | None = None
        self._rebuilt: BookState | None = None
        if keep_books > 0:
            self._books = deque(maxlen=keep_books // KEEP_BOOK_EVERY + 2)
            self._keep_book()

    # -- reading ---------------------------------------------------------------

    def top(self, depth: int | None = None) -> tuple[list[LevelText], list[LevelText]]:
        """The best ``depth`` bids and asks (all when ``None``), best first, as text."""
        bid_prices = (
            self._bids.prices[::-1] if depth is None else self._bids.prices[: -depth - 1 : -1]
        )
        ask_prices = self._asks.prices if depth is None else self._asks.prices[:depth]
        return (
            [self._level(p, self._bids.lots[p]) for p in bid_prices],
            [self._level(p, self._asks.lots[p]) for p in ask_prices],
        )

    def best(self) -> tuple[LevelText, LevelText]:
        """Best bid and best ask as text (the book never has an empty side)."""
        bid = self._bids.prices[-1]
        ask = self._asks.prices[0]
        return self._level(bid, self._bids.lots[bid]), self._level(ask, self._asks.lots[ask])

    def book_at(self, version: int) -> BookState | None:
        """The whole book at ``version``, if it is one of the latest ``keep_books``
        versions (and the ticks since are still in the history)."""
        books = self._books
        if not books or not self.version - self._keep_books < version <= self.version:
            return None
        index = (version - books[0].version) // KEEP_BOOK_EVERY
        if not 0 <= index < len(books):
            return None
        kept = books[index]
        if kept.version == version:
            return kept
        # The ticks after the kept book, up to ``version``, from the end of the history.
        history = self._history
        behind = self.version - kept.version
        if behind > len(history):
            return None
        # Rebuilt from the latest book rebuilt before, when it is on the way: checks ask
        # for the versions of a client that moves forward.
        last = self._rebuilt
        if last is not None and kept.version < last.version <= version:
            kept = last
        start = len(history) - (self.version - kept.version)
        bids, asks = dict(kept.bids), dict(kept.asks)
        for n in range(start, start + version - kept.version):
            tick = history[n]
            for side, levels in ((bids, tick.bids), (asks, tick.asks)):
                for price_text, size_text in levels:
                    price, size = float(price_text), float(size_text)
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
        self._rebuilt = BookState(
            version,
            tuple(sorted(bids.items(), reverse=True)),
            tuple(sorted(asks.items())),
        )
        return self._rebuilt

    def _keep_book(self) -> None:
        assert self._books is not None
        bids, asks = self.top()
        self._books.append(
            BookState(
                self.version,
                tuple((float(price), float(size)) for price, size in bids),
                tuple((float(price), float(size)) for price, size in asks),
            )
        )

    @property
    def last_trade_id(self) -> int:
        """Id of the latest trade (trade ids increase by one per trade)."""
        return self._next_trade_id

    def ticks_after(self, version: int) -> list[Tick]:
        """The kept ticks newer than ``version``, oldest first.

        If ``version`` is older than the history, the list starts later than
        ``version + 1``: a subscriber that far behind sees a gap, as it would on the venue.
        """
        count = min(self.version - version, len(self._history))
        if count <= 0:
            return []
        history = self._history
        size = len(history)
        return [history[i] for i in range(size - count, size)]

    def book(self, venue: Venue = Venue.MEXC) -> LocalOrderBook:
        """A fresh :class:`LocalOrderBook` holding the current book and version."""
        bids, asks = self.top()
        book = LocalOrderBook(venue, self.symbol)
        book.apply(
            OrderBookUpdate(
                venue,
                self.symbol,
                bids=[Level(float(p), float(s)) for p, s in bids],
                asks=[Level(float(p), float(s)) for p, s in asks],
                is_snapshot=True,
                last_update_id=self.version,
            )
        )
        return book

    # -- stepping --------------------------------------------------------------

    def step(self, time_ms: int) -> Tick:
        """Advance one version: a trade or two, some size changes, inserts and deletes."""
        rng = self._rng
        trades = [self._trade(time_ms) for _ in range(rng.choice((1, 1, 2)))]
        for _ in range(rng.randint(1, 3)):
            self._resize_random_level()
        if rng.random() < 0.5:
            self._delete_random_level()
        for _ in range(rng.randint(1, 2)):
            self._insert_random_level()
        self._refill()
        self.version += 1
        tick = Tick(
            self.version,
            time_ms,
            tuple(self._level(p, n) for p, n in sorted(self._bids.changes(), reverse=True)),
            tuple(self._level(p, n) for p, n in sorted(self._asks.changes())),
            tuple(trades),
        )
        self._history.append(tick)
        if (
            self._books is not None
            and (self.version - self._books[0].version) % KEEP_BOOK_EVERY == 0
        ):
            self._keep_book()
        return tick

    def _seed_book(self, mid: int) -> None:
        rng = self._rng
        self._last_mid = mid
        spread = rng.randint(1, 3)
        bid = mid - spread // 2 - 1
        ask = bid + spread
        for _ in range(self.depth_levels):
            self._bids.set(bid, self._lots())
            self._asks.set(ask, self._lots())
            bid -= rng.randint(1, 3)
            ask += rng.randint(1, 3)
        self._bids.before.clear()
        self._asks.before.clear()

    def _trade(self, time_ms: int) -> SimTrade:
        rng = self._rng
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        book = self._asks if side is Side.BUY else self._bids
        if not book.prices:  # emptied by the step's first trade (depth 1): refill first
            self._refill()
        price = book.prices[0] if side is Side.BUY else book.prices[-1]
        available = book.lots[price]
        # Mostly partial fills; sometimes the whole level goes, which moves the price.
        lots = available if rng.random() < 0.2 else rng.randint(1, available)
        book.set(price, available - lots)
        self._next_trade_id += 1
        return SimTrade(self._next_trade_id, self._price(price), self._size(lots), side, time_ms)

    def _random_side(self) -> _BookSide:
        return self._bids if self._rng.random() < 0.5 else self._asks

    def _resize_random_level(self) -> None:
        side = self._random_side()
        if side.prices:
            side.set(self._rng.choice(side.prices), self._lots())

    def _delete_random_level(self) -> None:
        side = self._random_side()
        if len(side.prices) > 1:
            side.set(self._rng.choice(side.prices), 0)

    def _insert_random_level(self) -> None:
        rng = self._rng
        best_bid = self._bids.prices[-1] if self._bids.prices else None
        best_ask = self._asks.prices[0] if self._asks.prices else None
        if best_bid is None or best_ask is None:
            return
        reach = 2 * self.depth_levels
        if rng.random() < 0.5:
            # A bid between (best_ask - reach) and best_ask - 1: never crosses the book.
            price = best_ask - rng.randint(1, reach)
            if price > 0 and price not in self._bids.lots:
                self._bids.set(price, self._lots())
        else:
            price = best_bid + rng.randint(1, reach)
            if price not in self._asks.lots:
                self._asks.set(price, self._lots())

    def _refill(self) -> None:
        """Keep ``depth_levels`` per side: trim the deepest, add deeper levels."""
        rng = self._rng
        bids, asks = self._bids, self._asks
        if not bids.prices and not asks.prices:  # only possible with depth 1
            asks.set(self._last_mid + 1, self._lots())
        if not bids.prices:
            bids.set(max(1, asks.prices[0] - rng.randint(1, 3)), self._lots())
        if not asks.prices:
            asks.set(bids.prices[-1] + rng.randint(1, 3), self._lots())
        while len(bids.prices) > self.depth_levels:
            bids.set(bids.prices[0], 0)
        while len(asks.prices) > self.depth_levels:
            asks.set(asks.prices[-1], 0)
        while len(bids.prices) < self.depth_levels and bids.prices[0] > 1:
            bids.set(max(1, bids.prices[0] - rng.randint(1, 3)), self._lots())
        while len(asks.prices) < self.depth_levels:
            asks.set(asks.prices[-1] + rng.randint(1, 3), self._lots())
        self._last_mid = (bids.prices[-1] + asks.prices[0]) // 2

    def _lots(self) -> int:
        return self._rng.randint(1, _MAX_LOTS)

    def _price(self, ticks: int) -> str:
        return _fixed(ticks, self.price_decimals)

    def _size(self, lots: int) -> str:
        return _fixed(lots, self.size_decimals)

    def _level(self, price: int, lots: int) -> LevelText:
        return self._price(price), self._size(lots)


class Market:
    """The markets of several symbols, keyed by the symbol as the venue writes it."""

    def __init__(
        self,
        symbols: Iterable[str],
        *,
        depth_levels: int = 20,
        seed: int = 0,
        history: int = HISTORY_TICKS,
        keep_books: int = 0,
    ) -> None:
        self.symbols: dict[str, SymbolMarket] = {
            symbol: SymbolMarket(
                symbol,
                depth_levels=depth_levels,
                seed=seed,
                history=history,
                keep_books=keep_books,
            )
            for symbol in symbols
        }

    def __getitem__(self, symbol: str) -> SymbolMarket:
        return self.symbols[symbol]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.symbols


def merge_ticks(ticks: Sequence[Tick]) -> tuple[list[LevelText], list[LevelText]]:
    """One delta equivalent to ``ticks`` applied in order: the last size per price wins."""
    if len(ticks) == 1:
        return list(ticks[0].bids), list(ticks[0].asks)
    bids: dict[str, str] = {}
    asks: dict[str, str] = {}
    for tick in ticks:
        bids.update(tick.bids)
        asks.update(tick.asks)
    return (
        sorted(bids.items(), key=lambda level: float(level[0]), reverse=True),
        sorted(asks.items(), key=lambda level: float(level[0])),
    )


def _fixed(units: int, decimals: int) -> str:
    """``units`` scaled by ``10**-decimals`` as plain decimal text; zero is ``"0"``."""
    if units == 0:
        return "0"
    digits = str(units).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits


def split_symbol(symbol: str) -> tuple[str, str]:
    """``BTC_USDT`` or ``BTCUSDT`` -> ``("BTC", "USDT")`` (unknown quote: ``(symbol, "")``)."""
    upper = symbol.upper()
    if "_" in upper:
        base, _, quote = upper.partition("_")
        return base, quote
    for quote in _QUOTES:
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    return upper, ""
