"""Gate.io's wire shapes: the frames as msgspec decodes them, and how each becomes a message.

One envelope Struct per channel, tagged by channel so that a frame of the wrong channel
fails validation instead of half-decoding; unknown keys are ignored. ``strict=False``
turns Gate's numeric strings into numbers, and the ``Price``/``Size`` bounds reject NaN,
infinity, negative and absurd values in C. Each result turns itself into ws_stack's
message (``to_message``); :mod:`ws_stack.gateio.decoder` calls it as
``decode(frame).result.to_message()``, the frames adding no call of their own.

The shapes are shared by the decoder (the reference) and its compiled twin
``ws_stack.gateio._updates``, which makes the same messages from the same decoded results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import msgspec

from ws_stack.gateio.channels import BOOK_TICKER, OBU, ORDER_BOOK, ORDER_BOOK_UPDATE, TRADES
from ws_stack.messages import (
    MAX_NUMBER,
    BookTicker,
    Level,
    OrderBookUpdate,
    Price,
    Side,
    Size,
    Trade,
    Venue,
)

_GATEIO = Venue.GATEIO
Millis = Annotated[float, msgspec.Meta(ge=0.0, lt=MAX_NUMBER)]

# What msgspec raises on bad input: DecodeError (ValidationError is a subclass), and
# outside its hierarchy UnicodeError (UnicodeDecodeError for invalid UTF-8 inside a JSON
# string of a bytes frame, UnicodeEncodeError for a str frame holding lone surrogates) and
# RecursionError (nesting deeper than msgspec recurses: a hostile ``[[[[...`` frame).
DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


class TradeResult(msgspec.Struct, gc=False):
    id: int
    #: A string in the docs ("1606292218213.4578": sub-ms digits after the point).
    create_time_ms: Millis
    side: Side
    currency_pair: str
    amount: Size
    price: Price

    def to_message(self) -> Trade:
        return Trade(
            _GATEIO,
            self.currency_pair,
            self.price,
            self.amount,
            self.side,
            int(self.create_time_ms),
            self.id,
        )


class TradeFrame(msgspec.Struct, gc=False, tag_field="channel", tag=TRADES):
    result: TradeResult


class BookTickerResult(msgspec.Struct, gc=False):
    s: str
    b: Price
    B: Size
    a: Price
    A: Size
    t: int | None = None
    u: int | None = None

    def to_message(self) -> BookTicker:
        return BookTicker(_GATEIO, self.s, self.b, self.B, self.a, self.A, self.t, self.u)


class BookTickerFrame(msgspec.Struct, gc=False, tag_field="channel", tag=BOOK_TICKER):
    result: BookTickerResult


class OrderBookUpdateResult(msgspec.Struct, gc=False):
    s: str
    U: int
    u: int
    # An empty side may come as [], null or not at all.
    b: list[Level] | None = None
    a: list[Level] | None = None
    t: int | None = None
    #: Newer servers send ``"full": true`` on a full-book frame and omit it otherwise.
    full: bool = False

    def to_message(self) -> OrderBookUpdate:
        bids, asks = self.b, self.a
        return OrderBookUpdate(
            _GATEIO,
            self.s,
            bids if bids is not None else [],
            asks if asks is not None else [],
            self.full,
            self.U,
            self.u,
            self.t,
        )


class OrderBookUpdateFrame(msgspec.Struct, gc=False, tag_field="channel", tag=ORDER_BOOK_UPDATE):
    result: OrderBookUpdateResult


class OrderBookResult(msgspec.Struct, gc=False):
    s: str
    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: list[Level] | None = None
    asks: list[Level] | None = None
    t: int | None = None

    def to_message(self) -> OrderBookUpdate:
        bids, asks = self.bids, self.asks
        return OrderBookUpdate(
            _GATEIO,
            self.s,
            bids if bids is not None else [],
            asks if asks is not None else [],
            True,
            None,
            self.last_update_id,
            self.t,
        )


class OrderBookFrame(msgspec.Struct, gc=False, tag_field="channel", tag=ORDER_BOOK):
    result: OrderBookResult


class ObuResult(msgspec.Struct, gc=False):
    #: The stream, ``ob.{pair}.{depth}``.
    s: str
    u: int
    #: Absent on a full push; the first id of an incremental one.
    U: int | None = None
    b: list[Level] | None = None
    a: list[Level] | None = None
    t: int | None = None
    full: bool = False

    def __post_init__(self) -> None:
        # msgspec reports a ValueError raised here as a ValidationError of the frame.
        if not (self.s.startswith("ob.") and self.s.count(".") >= 2):
            raise ValueError(f"stream {self.s!r} is not ob.<pair>.<depth>")
        if not self.full and self.U is None:
            raise ValueError("an incremental push needs U")

    def to_message(self) -> OrderBookUpdate:
        bids, asks = self.b, self.a
        return OrderBookUpdate(
            _GATEIO,
            self.s[3 : self.s.rindex(".")],
            bids if bids is not None else [],
            asks if asks is not None else [],
            self.full,
            self.U,
            self.u,
            self.t,
        )


class ObuFrame(msgspec.Struct, gc=False, tag_field="channel", tag=OBU):
    result: ObuResult


# The update pushes of all five channels as one tagged union, for parse_update: the same
# shapes, and the event must be "update" (what detect_type requires of them too).
class TradePush(TradeFrame, gc=False, tag=TRADES):
    event: Literal["update"]


class BookTickerPush(BookTickerFrame, gc=False, tag=BOOK_TICKER):
    event: Literal["update"]


class OrderBookUpdatePush(OrderBookUpdateFrame, gc=False, tag=ORDER_BOOK_UPDATE):
    event: Literal["update"]


class OrderBookPush(OrderBookFrame, gc=False, tag=ORDER_BOOK):
    event: Literal["update"]


class ObuPush(ObuFrame, gc=False, tag=OBU):
    event: Literal["update"]


class ErrorObject(msgspec.Struct, gc=False):
    code: int
    message: str = ""


class Status(msgspec.Struct, gc=False):
    status: str | None = None


class ControlFrame(msgspec.Struct, gc=False):
    channel: str | None = None
    event: str | None = None
    id: int | None = None
    error: ErrorObject | None = None
    result: Status | None = None
    time: int | None = None
    time_ms: int | None = None


decode_trade = msgspec.json.Decoder(TradeFrame, strict=False).decode
decode_book_ticker = msgspec.json.Decoder(BookTickerFrame, strict=False).decode
decode_order_book_update = msgspec.json.Decoder(OrderBookUpdateFrame, strict=False).decode
decode_order_book = msgspec.json.Decoder(OrderBookFrame, strict=False).decode
# Both order-book channels share WebSocketMessageType.ORDER_BOOK; the channel tag picks the
# shape inside the same single decode, so routing never has to read the channel twice.
decode_obu = msgspec.json.Decoder(ObuFrame, strict=False).decode
# msgspec's stubs type a decoder of a union of structs as decoding to Any (a union is not
# a class), so these two say what they return.
AnyOrderBookFrame = OrderBookUpdateFrame | OrderBookFrame | ObuFrame
decode_any_order_book: Callable[[bytes | str], AnyOrderBookFrame] = msgspec.json.Decoder(
    AnyOrderBookFrame, strict=False
).decode
decode_control = msgspec.json.Decoder(ControlFrame, strict=False).decode
UpdatePush = TradePush | BookTickerPush | OrderBookUpdatePush | OrderBookPush | ObuPush
decode_update: Callable[[bytes | str], UpdatePush] = msgspec.json.Decoder(
    UpdatePush, strict=False
).decode

# ---------------------------------------------------------------------------------------
# Update pushes as Gate writes them: compact JSON, "channel" then "event" then "result".
# What follows the channel marker names the channel and the event at a fixed length,
# which detect_type (and the compiled twin of parse_update) read without decoding.
# ---------------------------------------------------------------------------------------

CHANNEL_MARKER = '"channel":"'
#: The update channels, each with the shape of its push.
UPDATE_PUSHES: dict[str, type[UpdatePush]] = {
    TRADES: TradePush,
    BOOK_TICKER: BookTickerPush,
    ORDER_BOOK_UPDATE: OrderBookUpdatePush,
    ORDER_BOOK: OrderBookPush,
    OBU: ObuPush,
}
# What follows the channel name in a compact update push. The window is as long as the
# longest channel plus its event, so it never reaches past the `result` key.
_UPDATE_TAIL = '","event":"update","result":{'
UPDATE_WINDOW = max(len(channel) for channel in UPDATE_PUSHES) + len('","event":"update"')
#: Each update channel's window: the UPDATE_WINDOW characters after the marker in its
#: pushes. ``spot.obu`` is shorter than the window, which then reaches into the result: it
#: holds the result's first key, ``"t"``, where Gate and ws_stack's encoder put it (a push
#: with another first key is not recognised by its window).
UPDATE_HEADS: dict[str, str] = {
    channel: (channel + _UPDATE_TAIL + ('"t":' if channel == OBU else ""))[:UPDATE_WINDOW]
    for channel in UPDATE_PUSHES
}
assert all(len(head) == UPDATE_WINDOW for head in UPDATE_HEADS.values())
