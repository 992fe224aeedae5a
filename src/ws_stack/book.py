"""A local order book that applies snapshots and deltas and detects sequence gaps.

Both venues number their depth updates so that a client can tell when it missed one, and
:class:`~ws_stack.messages.OrderBookUpdate` carries those numbers in the same two fields
(Gate.io ``U``/``u``, MEXC ``fromVersion``/``toVersion``; a snapshot's id in
``last_update_id``). The rule is therefore one for both venues:

* a delta whose ``last_update_id`` is not newer than the book is stale and ignored;
* the first delta after a snapshot must straddle it: ``first_update_id <= book + 1``;
* every later delta must continue exactly: ``first_update_id == book + 1``.

Anything else is a gap: the book marks itself out of sync, records the gap and refuses
further deltas until a new snapshot arrives, instead of applying wrong data.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from ws_stack import implementation
from ws_stack.messages import Level, OrderBookUpdate, Venue

__all__ = ["ApplyResult", "LocalOrderBook", "SequenceGap"]


class ApplyResult(enum.Enum):
    SNAPSHOT = "snapshot"
    APPLIED = "applied"
    #: Older than the book (e.g. buffered before the snapshot): ignored.
    STALE = "stale"
    #: This delta revealed a gap; the book is now out of sync.
    GAP = "gap"
    #: The book was already out of sync (or never had a snapshot): ignored.
    OUT_OF_SYNC = "out_of_sync"


_APPLIED = ApplyResult.APPLIED
_STALE = ApplyResult.STALE
_OUT_OF_SYNC = ApplyResult.OUT_OF_SYNC


class SequenceGap(msgspec.Struct, frozen=True):
    """The update that could not follow the book."""

    expected: int
    first_update_id: int
    last_update_id: int


class _Side:
    """One side of the book: sizes by price plus the prices in ascending order.

    The pure-Python reference of ``ws_stack._book_side.BookSide`` (its compiled twin, which
    the compiled book uses): plain enough to read as the specification, and what the
    differential tests hold the twin to.
    """

    __slots__ = ("prices", "sizes")

    def __init__(self) -> None:
        self.sizes: dict[float, float] = {}
        self.prices: list[float] = []

    def replace(self, levels: Iterable[Level]) -> None:
        """Hold exactly ``levels`` with a positive size (a later duplicate price wins)."""
        self.sizes = {level.price: level.size for level in levels if level.size > 0.0}
        self.prices = sorted(self.sizes)

    def apply(self, levels: Iterable[Level]) -> None:
        """Apply a delta in order: a zero size removes its price, any other sets it."""
        sizes = self.sizes
        prices = self.prices
        # `in` and `del` rather than get()/pop(): operators, not method calls, per level.
        for level in levels:
            price = level.price
            size = level.size
            if size:  # sizes are validated finite and >= 0: false only for a removal
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = size
            elif price in sizes:
                del sizes[price]
                del prices[bisect_left(prices, price)]

    def best_high(self) -> tuple[float, float] | None:
        """The highest price and its size (``None`` when empty)."""
        prices = self.prices
        return (prices[-1], self.sizes[prices[-1]]) if prices else None

    def best_low(self) -> tuple[float, float] | None:
        """The lowest price and its size (``None`` when empty)."""
        prices = self.prices
        return (prices[0], self.sizes[prices[0]]) if prices else None

    def top_high(self, depth: int | None = None) -> list[tuple[float, float]]:
        """The ``depth`` highest levels (all when ``None``), highest first.

        A negative ``depth`` leaves out the ``-depth`` lowest levels, as slicing does.
        """
        prices = self.prices
        top = prices[::-1] if depth is None else prices[: -depth - 1 : -1]
        sizes = self.sizes
        return [(price, sizes[price]) for price in top]

    def top_low(self, depth: int | None = None) -> list[tuple[float, float]]:
        """The ``depth`` lowest levels (all when ``None``), lowest first.

        A negative ``depth`` leaves out the ``-depth`` highest levels, as slicing does.
        """
        prices = self.prices if depth is None else self.prices[:depth]
        sizes = self.sizes
        return [(price, sizes[price]) for price in prices]

    def __len__(self) -> int:
        return len(self.prices)


class _PureLocalOrderBook:
    """The pure-Python reference of :class:`LocalOrderBook`.

    ``ws_stack._book_side.BookCore`` is its compiled twin, which :class:`LocalOrderBook`
    derives from when it is built; the tests run both and hold the twin to this one.
    """

    def __init__(self, venue: Venue, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self._bids = _Side()
        self._asks = _Side()
        #: Sequence number of the last update applied (``None`` before a snapshot).
        self.last_update_id: int | None = None
        self._awaiting_first_delta = False
        self.in_sync = False
        #: Gaps detected since creation.
        self.gaps = 0
        self.last_gap: SequenceGap | None = None

    def apply(self, update: OrderBookUpdate) -> ApplyResult:
        """Apply a snapshot or a delta; see the module docstring for the sequence rule."""
        if update.is_snapshot:
            return self._replace(update)
        if not self.in_sync:
            return _OUT_OF_SYNC
        # The fast path of every delta: locals, results bound at import (an Enum member
        # read through the class goes through its metaclass's attribute hook), and an
        # empty side skipped without a call.
        first, last, current = update.first_update_id, update.last_update_id, self.last_update_id
        if first is not None and last is not None and current is not None:
            if last <= current:
                return _STALE
            if first != current + 1 and not (self._awaiting_first_delta and first <= current):
                return self._gap(current + 1, first, last)
            self.last_update_id = last
        self._awaiting_first_delta = False
        bids, asks = update.bids, update.asks
        if bids:
            self._bids.apply(bids)
        if asks:
            self._asks.apply(asks)
        return _APPLIED

    def _replace(self, snapshot: OrderBookUpdate) -> ApplyResult:
        self._bids.replace(snapshot.bids)
        self._asks.replace(snapshot.asks)
        self.last_update_id = snapshot.last_update_id
        self._awaiting_first_delta = True
        self.in_sync = True
        return ApplyResult.SNAPSHOT

    def _gap(self, expected: int, first: int, last: int) -> ApplyResult:
        self.in_sync = False
        self.gaps += 1
        self.last_gap = SequenceGap(expected, first, last)
        return ApplyResult.GAP

    def invalidate(self) -> None:
        """Mark the book out of sync (e.g. the connection dropped) until a new snapshot."""
        self.in_sync = False

    def best_bid(self) -> tuple[float, float] | None:
        return self._bids.best_high()

    def best_ask(self) -> tuple[float, float] | None:
        return self._asks.best_low()

    def bids(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Best ``depth`` bids (all when ``None``), best first, as (price, size)."""
        return self._bids.top_high(depth)

    def asks(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Best ``depth`` asks (all when ``None``), best first, as (price, size)."""
        return self._asks.top_low(depth)

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)


_compiled = implementation.compiled("ws_stack._book_side")
if TYPE_CHECKING:
    _Implementation = _PureLocalOrderBook
else:
    #: What :class:`LocalOrderBook` derives from: the compiled twin when built, else the
    #: reference. Either way the class is a plain Python one: it can be subclassed, take
    #: extra attributes and have its methods replaced, as before there was a twin.
    _Implementation = _PureLocalOrderBook if _compiled is None else _compiled.BookCore


class LocalOrderBook(_Implementation):
    """The order book of one symbol, kept from a snapshot and a stream of deltas.

    ``LocalOrderBook(venue, symbol)``; :meth:`apply` takes each
    :class:`~ws_stack.messages.OrderBookUpdate` and says what it did with it.
    """
