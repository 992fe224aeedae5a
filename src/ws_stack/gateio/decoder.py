"""Gate.io spot v4 frames -> typed ws_stack messages (pure functions, no I/O).

Two cheap steps per frame:

* :func:`detect_type` names the frame without decoding it. Gate pushes compact JSON with
  ``"channel"`` then ``"event"`` then ``"result"``, so one ``find`` of the ``"channel":"``
  marker and one fixed-size slice after it give a key that names channel *and* event
  (``spot.trades","event":"update","result":{``) for a single dict lookup. Everything
  else (acks, pongs, reordered keys, whitespace) falls back to decoding the envelope.
* Each ``parse_*`` function decodes the whole frame in one ``msgspec`` call straight into
  a private envelope Struct whose ``result`` is the channel's typed result Struct, then
  moves the fields into the public message; levels are never copied. ``strict=False``
  turns Gate's numeric strings into numbers, and the ``Price``/``Size`` bounds reject
  NaN, infinity, negative and absurd values in C.
* :func:`parse_update` does both for the five update channels in one decode (the
  ``channel`` tag picks the Struct inside msgspec): the handler's path for nearly all
  traffic, which leaves every other frame to the two steps above.

A :class:`msgspec.ValidationError` becomes :class:`FrameError` ``INVALID_FIELD`` (the
message names the JSON path); input msgspec cannot parse becomes ``MALFORMED_JSON``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.gateio.channels import (
    BOOK_TICKER,
    EVENT_SUBSCRIBE,
    EVENT_UNSUBSCRIBE,
    EVENT_UPDATE,
    OBU,
    ORDER_BOOK,
    ORDER_BOOK_UPDATE,
    PONG,
    TRADES,
)
from ws_stack.messages import (
    MAX_NUMBER,
    BookTicker,
    Level,
    OrderBookUpdate,
    Pong,
    Price,
    Side,
    Size,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
)

__all__ = [
    "UNKNOWN_ERROR_CODE",
    "detect_type",
    "parse_any_order_book",
    "parse_book_ticker",
    "parse_control",
    "parse_obu",
    "parse_order_book",
    "parse_order_book_update",
    "parse_trade",
    "parse_update",
]

#: ``VenueError.code`` for a refused request that carried ``"status": "fail"`` but no
#: error object (Gate's own codes are positive).
UNKNOWN_ERROR_CODE = -1

_GATEIO = Venue.GATEIO
_Millis = Annotated[float, msgspec.Meta(ge=0.0, lt=MAX_NUMBER)]

# ---------------------------------------------------------------------------------------
# Type detection
# ---------------------------------------------------------------------------------------

_TYPE_BY_UPDATE_CHANNEL: dict[str, WebSocketMessageType] = {
    TRADES: WebSocketMessageType.TRADE,
    BOOK_TICKER: WebSocketMessageType.BOOK_TICKER,
    ORDER_BOOK_UPDATE: WebSocketMessageType.ORDER_BOOK,
    ORDER_BOOK: WebSocketMessageType.ORDER_BOOK,
    OBU: WebSocketMessageType.ORDER_BOOK,
}

_MARKER = '"channel":"'
_MARKER_B = _MARKER.encode()
_MARKER_LEN = len(_MARKER)
# The bytes that follow the channel name in a compact update frame. The window is as long
# as the longest channel plus its event, so it never reaches past the `result` key.
_UPDATE_TAIL = '","event":"update","result":{'
_WINDOW = max(len(channel) for channel in _TYPE_BY_UPDATE_CHANNEL) + len('","event":"update"')
#: The window -> the message type it names. ``spot.obu`` is shorter than the window, which
#: then reaches into the result: its key holds the result's first key, ``"t"``, where Gate
#: and ws_stack's encoder put it (a frame with another first key takes the slow path).
_FAST_STR: dict[str, WebSocketMessageType] = {
    (channel + _UPDATE_TAIL + ('"t":' if channel == OBU else ""))[:_WINDOW]: msg_type
    for channel, msg_type in _TYPE_BY_UPDATE_CHANNEL.items()
}
_FAST_BYTES: dict[bytes, WebSocketMessageType] = {
    key.encode(): msg_type for key, msg_type in _FAST_STR.items()
}
assert all(len(key) == _WINDOW for key in _FAST_STR)


def detect_type(frame: bytes | str) -> WebSocketMessageType:
    """Classify a raw Gate.io frame without decoding it; raise :class:`FrameError` if impossible.

    Subscribe/unsubscribe answers (acks and refusals) are ``SUBSCRIPTION``, whatever their
    channel: :func:`parse_control` turns them into a ``SubscriptionAck`` or ``VenueError``.
    """
    if type(frame) is str:
        start = frame.find(_MARKER)
        if start >= 0:
            start += _MARKER_LEN
            msg_type = _FAST_STR.get(frame[start : start + _WINDOW])
            if msg_type is not None:
                return msg_type
    elif type(frame) is bytes:
        start = frame.find(_MARKER_B)
        if start >= 0:
            start += _MARKER_LEN
            msg_type = _FAST_BYTES.get(frame[start : start + _WINDOW])
            if msg_type is not None:
                return msg_type
    return _detect_by_decoding(frame)


class _Envelope(msgspec.Struct, gc=False):
    channel: str | None = None
    event: str | None = None
    #: Any JSON value; only whether it is null matters for classification.
    error: object = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode

# What msgspec raises on bad input: DecodeError (ValidationError is a subclass), and
# outside its hierarchy UnicodeError (UnicodeDecodeError for invalid UTF-8 inside a JSON
# string of a bytes frame, UnicodeEncodeError for a str frame holding lone surrogates) and
# RecursionError (nesting deeper than msgspec recurses: a hostile ``[[[[...`` frame).
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


def _detect_by_decoding(frame: bytes | str) -> WebSocketMessageType:
    """The slow path of :func:`detect_type`: decode the envelope (skipping ``result``)."""
    try:
        envelope = _decode_envelope(frame)
    except msgspec.ValidationError as exc:
        raise FrameError(
            FrameErrorReason.UNKNOWN_MESSAGE, f"not a Gate.io envelope: {exc}", frame, _GATEIO
        ) from None
    except (*_DECODE_ERRORS, TypeError) as exc:
        raise FrameError(FrameErrorReason.MALFORMED_JSON, str(exc), frame, _GATEIO) from None
    channel, event = envelope.channel, envelope.event
    if event in (EVENT_SUBSCRIBE, EVENT_UNSUBSCRIBE):
        return WebSocketMessageType.SUBSCRIPTION
    if channel == PONG:
        return WebSocketMessageType.PONG
    msg_type = _TYPE_BY_UPDATE_CHANNEL.get(channel) if channel is not None else None
    if msg_type is not None and event == EVENT_UPDATE:
        return msg_type
    if envelope.error is not None:
        # A venue error outside a subscribe exchange (e.g. a malformed request).
        return WebSocketMessageType.SUBSCRIPTION
    if channel is None:
        raise FrameError(FrameErrorReason.UNKNOWN_MESSAGE, "no channel", frame, _GATEIO)
    if msg_type is None:
        raise FrameError(
            FrameErrorReason.UNKNOWN_CHANNEL, f"unknown channel {channel!r}", frame, _GATEIO
        )
    raise FrameError(
        FrameErrorReason.UNKNOWN_MESSAGE, f"{channel}: unexpected event {event!r}", frame, _GATEIO
    )


# ---------------------------------------------------------------------------------------
# Wire shapes: one envelope Struct per channel, tagged by channel so that a frame of the
# wrong channel fails validation instead of half-decoding. Unknown keys are ignored.
# Each result turns itself into ws_stack's message (``to_message``); parsers call it as
# ``decode(frame).result.to_message()``, the frames adding no call of their own.
# ---------------------------------------------------------------------------------------


class _TradeResult(msgspec.Struct, gc=False):
    id: int
    #: A string in the docs ("1606292218213.4578": sub-ms digits after the point).
    create_time_ms: _Millis
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


class _TradeFrame(msgspec.Struct, gc=False, tag_field="channel", tag=TRADES):
    result: _TradeResult


class _BookTickerResult(msgspec.Struct, gc=False):
    s: str
    b: Price
    B: Size
    a: Price
    A: Size
    t: int | None = None
    u: int | None = None

    def to_message(self) -> BookTicker:
        return BookTicker(_GATEIO, self.s, self.b, self.B, self.a, self.A, self.t, self.u)


class _BookTickerFrame(msgspec.Struct, gc=False, tag_field="channel", tag=BOOK_TICKER):
    result: _BookTickerResult


class _OrderBookUpdateResult(msgspec.Struct, gc=False):
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


class _OrderBookUpdateFrame(msgspec.Struct, gc=False, tag_field="channel", tag=ORDER_BOOK_UPDATE):
    result: _OrderBookUpdateResult


class _OrderBookResult(msgspec.Struct, gc=False):
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


class _OrderBookFrame(msgspec.Struct, gc=False, tag_field="channel", tag=ORDER_BOOK):
    result: _OrderBookResult


class _ObuResult(msgspec.Struct, gc=False):
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


class _ObuFrame(msgspec.Struct, gc=False, tag_field="channel", tag=OBU):
    result: _ObuResult


# The update pushes of all five channels as one tagged union, for parse_update: the same
# shapes, and the event must be "update" (what detect_type requires of them too).
class _TradePush(_TradeFrame, gc=False, tag=TRADES):
    event: Literal["update"]


class _BookTickerPush(_BookTickerFrame, gc=False, tag=BOOK_TICKER):
    event: Literal["update"]


class _OrderBookUpdatePush(_OrderBookUpdateFrame, gc=False, tag=ORDER_BOOK_UPDATE):
    event: Literal["update"]


class _OrderBookPush(_OrderBookFrame, gc=False, tag=ORDER_BOOK):
    event: Literal["update"]


class _ObuPush(_ObuFrame, gc=False, tag=OBU):
    event: Literal["update"]


class _Error(msgspec.Struct, gc=False):
    code: int
    message: str = ""


class _Status(msgspec.Struct, gc=False):
    status: str | None = None


class _ControlFrame(msgspec.Struct, gc=False):
    channel: str | None = None
    event: str | None = None
    id: int | None = None
    error: _Error | None = None
    result: _Status | None = None
    time: int | None = None
    time_ms: int | None = None


_decode_trade = msgspec.json.Decoder(_TradeFrame, strict=False).decode
_decode_book_ticker = msgspec.json.Decoder(_BookTickerFrame, strict=False).decode
_decode_order_book_update = msgspec.json.Decoder(_OrderBookUpdateFrame, strict=False).decode
_decode_order_book = msgspec.json.Decoder(_OrderBookFrame, strict=False).decode
# Both order-book channels share WebSocketMessageType.ORDER_BOOK; the channel tag picks the
# shape inside the same single decode, so routing never has to read the channel twice.
_decode_obu = msgspec.json.Decoder(_ObuFrame, strict=False).decode
# msgspec's stubs type a decoder of a union of structs as decoding to Any (a union is not
# a class), so these two say what they return.
_AnyOrderBookFrame = _OrderBookUpdateFrame | _OrderBookFrame | _ObuFrame
_decode_any_order_book: Callable[[bytes | str], _AnyOrderBookFrame] = msgspec.json.Decoder(
    _AnyOrderBookFrame, strict=False
).decode
_decode_control = msgspec.json.Decoder(_ControlFrame, strict=False).decode
_UpdatePush = _TradePush | _BookTickerPush | _OrderBookUpdatePush | _OrderBookPush | _ObuPush
_decode_update: Callable[[bytes | str], _UpdatePush] = msgspec.json.Decoder(
    _UpdatePush, strict=False
).decode


def _channel_of(frame: bytes | str, default: str) -> str:
    """The frame's channel for an error message (error path only: decodes the envelope)."""
    try:
        channel = _decode_envelope(frame).channel
    except _DECODE_ERRORS:
        return default
    return channel if channel is not None else default


def _frame_error(what: str, exc: Exception, frame: bytes | str) -> FrameError:
    reason = (
        FrameErrorReason.INVALID_FIELD
        if isinstance(exc, msgspec.ValidationError)
        else FrameErrorReason.MALFORMED_JSON
    )
    return FrameError(reason, f"{what}: {exc}", frame, _GATEIO)


# ---------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------


def parse_trade(frame: bytes | str) -> Trade:
    """A ``spot.trades`` update -> :class:`Trade` (``time_ms`` from ``create_time_ms``)."""
    try:
        return _decode_trade(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(TRADES, exc, frame) from None


def parse_book_ticker(frame: bytes | str) -> BookTicker:
    """A ``spot.book_ticker`` update -> :class:`BookTicker` (``t``: time_ms, ``u``: update_id)."""
    try:
        return _decode_book_ticker(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(BOOK_TICKER, exc, frame) from None


def parse_order_book_update(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.order_book_update`` diff -> :class:`OrderBookUpdate` (``U``/``u`` ids).

    A frame with ``"full": true`` is a whole book and comes out with ``is_snapshot``.
    """
    try:
        return _decode_order_book_update(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(ORDER_BOOK_UPDATE, exc, frame) from None


def parse_order_book(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.order_book`` top-N snapshot -> :class:`OrderBookUpdate` with ``is_snapshot``."""
    try:
        return _decode_order_book(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(ORDER_BOOK, exc, frame) from None


def parse_obu(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.obu`` (order book v2) push -> :class:`OrderBookUpdate`.

    A full push (``"full": true``) is a whole book: ``is_snapshot``, ``last_update_id`` =
    ``u``. An incremental one has ``first_update_id`` = ``U`` and ``last_update_id`` =
    ``u``. The symbol is the pair of the stream ``ob.{pair}.{depth}``.
    """
    try:
        return _decode_obu(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(OBU, exc, frame) from None


def parse_any_order_book(frame: bytes | str) -> OrderBookUpdate:
    """Any order-book channel, told apart by its ``channel`` within the same decode.

    This is the parser for frames :func:`detect_type` calls ``ORDER_BOOK``.
    """
    try:
        return _decode_any_order_book(frame).result.to_message()
    except _DECODE_ERRORS as exc:
        raise _frame_error(_channel_of(frame, "order book"), exc, frame) from None


def parse_update(frame: bytes | str) -> Trade | BookTicker | OrderBookUpdate | None:
    """An update push of any of the five channels in one decode, or ``None``.

    The ``channel`` tag picks the shape inside msgspec, so a frame is detected, routed and
    parsed in one call: the handler's shortcut for the pushes that are nearly all traffic.
    A frame that is anything else, or does not decode, gives ``None`` (not an error): the
    caller then detects and routes it the usual way, which names what is wrong with it.
    """
    try:
        return _decode_update(frame).result.to_message()
    except (*_DECODE_ERRORS, TypeError):  # TypeError: not text or bytes at all
        return None


def parse_control(frame: bytes | str) -> SubscriptionAck | VenueError | Pong:
    """A subscribe/unsubscribe answer or a ``spot.pong``.

    An answer with an error object, or with ``"status": "fail"``, is a :class:`VenueError`;
    any other subscribe/unsubscribe answer is a :class:`SubscriptionAck` (Gate's docs: a
    null ``error`` means success).
    """
    try:
        control = _decode_control(frame)
    except _DECODE_ERRORS as exc:
        raise _frame_error(_channel_of(frame, "control"), exc, frame) from None
    channel, event, error = control.channel, control.event, control.error
    if error is not None:
        return VenueError(_GATEIO, error.code, error.message, channel, control.id)
    if channel == PONG:
        time_ms = control.time_ms
        if time_ms is None and control.time is not None:
            time_ms = control.time * 1000
        return Pong(_GATEIO, time_ms)
    if event in (EVENT_SUBSCRIBE, EVENT_UNSUBSCRIBE):
        if control.result is not None and control.result.status == "fail":
            return VenueError(
                _GATEIO,
                UNKNOWN_ERROR_CODE,
                f"{event} refused without an error object",
                channel,
                control.id,
            )
        if channel is None:
            raise FrameError(
                FrameErrorReason.INVALID_FIELD, f"{event} answer without a channel", frame, _GATEIO
            )
        return SubscriptionAck(_GATEIO, channel, event == EVENT_UNSUBSCRIBE, control.id)
    raise FrameError(
        FrameErrorReason.UNKNOWN_MESSAGE,
        f"not a control message (channel {channel!r}, event {event!r})",
        frame,
        _GATEIO,
    )
