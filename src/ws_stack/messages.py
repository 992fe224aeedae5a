"""Typed market data and control events, shared by both venues.

Every message is a ``msgspec.Struct`` so JSON decoders can build it directly from the
frame bytes, with no intermediate dicts. Numeric bounds live in the types (``Price``,
``Size``) and are checked by msgspec in C while decoding: NaN, infinity, negative sizes
and absurd magnitudes are rejected per frame instead of reaching an order book.
"""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar

import msgspec

__all__ = [
    "MAX_NUMBER",
    "BookTicker",
    "Level",
    "Message",
    "OrderBookUpdate",
    "Pong",
    "Price",
    "Side",
    "Size",
    "SubscriptionAck",
    "Trade",
    "Venue",
    "VenueError",
    "WebSocketMessageType",
    "check_price",
    "check_size",
]

#: Upper bound (exclusive) for any price or size: far above any real instrument, far below
#: the magnitudes that a corrupt or hostile frame (a 40-digit price) would produce.
MAX_NUMBER = 1e15

Price = Annotated[float, msgspec.Meta(gt=0.0, lt=MAX_NUMBER)]
Size = Annotated[float, msgspec.Meta(ge=0.0, lt=MAX_NUMBER)]


class Venue(enum.Enum):
    MEXC = "mexc"
    GATEIO = "gateio"


class WebSocketMessageType(enum.Enum):
    """What a frame carries; type detection answers with one of these."""

    TRADE = "trade"
    BOOK_TICKER = "book_ticker"
    ORDER_BOOK = "order_book"
    SUBSCRIPTION = "subscription"
    PONG = "pong"
    ERROR = "error"


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


class Level(msgspec.Struct, array_like=True, gc=False):
    """One price level. Mutable so that a :class:`~ws_stack.pool.LevelPool` can reuse it.

    Encoded as ``[price, size]``, which is also how Gate.io sends levels.
    """

    price: Price
    size: Size


class Trade(msgspec.Struct, frozen=True, gc=False):
    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.TRADE

    venue: Venue
    symbol: str
    price: float
    size: float
    side: Side
    time_ms: int
    #: Venue trade id where the venue sends one (Gate.io), else ``None``.
    trade_id: int | None = None


class BookTicker(msgspec.Struct, frozen=True, gc=False):
    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.BOOK_TICKER

    venue: Venue
    symbol: str
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float
    #: Event time in ms where the venue sends one (MEXC: the wrapper's send time).
    time_ms: int | None = None
    #: Gate.io ``u``; ``None`` for MEXC.
    update_id: int | None = None


class OrderBookUpdate(msgspec.Struct, gc=False):
    """A full top-N snapshot (``is_snapshot``) or an incremental delta.

    Sequence fields, per venue:

    * Gate.io delta: ``first_update_id`` = ``U``, ``last_update_id`` = ``u``;
      snapshot: ``last_update_id`` = ``lastUpdateId`` (or ``u`` on a ``full`` frame).
    * MEXC aggregated delta: ``fromVersion`` / ``toVersion``; per-event delta: both equal
      ``version``; snapshot: ``last_update_id`` = ``version``.

    A size of ``0`` in a delta removes the level. When the update came from a handler
    with a level pool, its levels are on loan until the callback returns: call
    :meth:`copy` to keep them.
    """

    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.ORDER_BOOK

    venue: Venue
    symbol: str
    bids: list[Level]
    asks: list[Level]
    is_snapshot: bool
    first_update_id: int | None = None
    last_update_id: int | None = None
    time_ms: int | None = None

    def copy(self) -> OrderBookUpdate:
        """An independent copy whose levels no pool will ever reuse."""
        return msgspec.structs.replace(
            self,
            bids=[Level(level.price, level.size) for level in self.bids],
            asks=[Level(level.price, level.size) for level in self.asks],
        )


class SubscriptionAck(msgspec.Struct, frozen=True, gc=False):
    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.SUBSCRIPTION

    venue: Venue
    #: The channel the venue confirmed (MEXC: its ``msg``; Gate.io: its ``channel``).
    channel: str
    unsubscribe: bool = False
    request_id: int | None = None


class Pong(msgspec.Struct, frozen=True, gc=False):
    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.PONG

    venue: Venue
    time_ms: int | None = None


class VenueError(msgspec.Struct, frozen=True, gc=False):
    """An error the venue reported in a control message (refused subscription...)."""

    msg_type: ClassVar[WebSocketMessageType] = WebSocketMessageType.ERROR

    venue: Venue
    code: int
    message: str
    channel: str | None = None
    request_id: int | None = None


Message = Trade | BookTicker | OrderBookUpdate | SubscriptionAck | Pong | VenueError


def check_price(value: float) -> float:
    """Return ``value`` if it is a valid price (the bound ``Price`` declares), else raise."""
    if not 0.0 < value < MAX_NUMBER:  # also false for NaN
        raise ValueError(f"price {value!r} is outside (0, {MAX_NUMBER:g})")
    return value


def check_size(value: float) -> float:
    """Return ``value`` if it is a valid size (the bound ``Size`` declares), else raise."""
    if not 0.0 <= value < MAX_NUMBER:
        raise ValueError(f"size {value!r} is outside [0, {MAX_NUMBER:g})")
    return value
