"""Gate.io spot v4 frames -> typed ws_stack messages (pure functions, no I/O).

Two cheap steps per frame:

* :func:`detect_type` names the frame without decoding it. Gate pushes compact JSON with
  ``"channel"`` then ``"event"`` then ``"result"``, so one ``find`` of the ``"channel":"``
  marker and one fixed-size slice after it give a key that names channel *and* event
  (``spot.trades","event":"update","result":{``) for a single dict lookup. Everything
  else (acks, pongs, reordered keys, whitespace) falls back to decoding the envelope.
* Each ``parse_*`` function decodes the whole frame in one ``msgspec`` call straight into
  the channel's wire shape (:mod:`ws_stack.gateio.wire`), whose ``result`` then becomes
  the public message; levels are never copied.
* :func:`parse_update` does both for the five update channels in one decode (the
  ``channel`` tag picks the Struct inside msgspec): the handler's path for nearly all
  traffic, which leaves every other frame to the two steps above. It has a compiled twin,
  ``ws_stack.gateio._updates`` (see :mod:`ws_stack.implementation`), used where built,
  which also reads order-book deltas from their JSON text, with no msgspec decode (the
  twin of :func:`parse_order_book_update` too).

A :class:`msgspec.ValidationError` becomes :class:`FrameError` ``INVALID_FIELD`` (the
message names the JSON path); input msgspec cannot parse becomes ``MALFORMED_JSON``.
"""

from __future__ import annotations

import msgspec

from ws_stack import implementation
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
from ws_stack.gateio.wire import (
    CHANNEL_MARKER,
    DECODE_ERRORS,
    UPDATE_HEADS,
    UPDATE_WINDOW,
    decode_any_order_book,
    decode_book_ticker,
    decode_control,
    decode_obu,
    decode_order_book,
    decode_order_book_update,
    decode_trade,
    decode_update,
)
from ws_stack.messages import (
    BookTicker,
    OrderBookUpdate,
    Pong,
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

_MARKER = CHANNEL_MARKER
_MARKER_B = _MARKER.encode()
_MARKER_LEN = len(_MARKER)
_WINDOW = UPDATE_WINDOW
#: The window after the marker (see wire.UPDATE_HEADS) -> the message type it names.
_FAST_STR: dict[str, WebSocketMessageType] = {
    UPDATE_HEADS[channel]: msg_type for channel, msg_type in _TYPE_BY_UPDATE_CHANNEL.items()
}
_FAST_BYTES: dict[bytes, WebSocketMessageType] = {
    key.encode(): msg_type for key, msg_type in _FAST_STR.items()
}


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


def _detect_by_decoding(frame: bytes | str) -> WebSocketMessageType:
    """The slow path of :func:`detect_type`: decode the envelope (skipping ``result``)."""
    try:
        envelope = _decode_envelope(frame)
    except msgspec.ValidationError as exc:
        raise FrameError(
            FrameErrorReason.UNKNOWN_MESSAGE, f"not a Gate.io envelope: {exc}", frame, _GATEIO
        ) from None
    except (*DECODE_ERRORS, TypeError) as exc:
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


def _channel_of(frame: bytes | str, default: str) -> str:
    """The frame's channel for an error message (error path only: decodes the envelope)."""
    try:
        channel = _decode_envelope(frame).channel
    except DECODE_ERRORS:
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
        return decode_trade(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(TRADES, exc, frame) from None


def parse_book_ticker(frame: bytes | str) -> BookTicker:
    """A ``spot.book_ticker`` update -> :class:`BookTicker` (``t``: time_ms, ``u``: update_id)."""
    try:
        return decode_book_ticker(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(BOOK_TICKER, exc, frame) from None


def parse_order_book_update(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.order_book_update`` diff -> :class:`OrderBookUpdate` (``U``/``u`` ids).

    A frame with ``"full": true`` is a whole book and comes out with ``is_snapshot``.
    """
    try:
        return decode_order_book_update(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(ORDER_BOOK_UPDATE, exc, frame) from None


def parse_order_book(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.order_book`` top-N snapshot -> :class:`OrderBookUpdate` with ``is_snapshot``."""
    try:
        return decode_order_book(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(ORDER_BOOK, exc, frame) from None


def parse_obu(frame: bytes | str) -> OrderBookUpdate:
    """A ``spot.obu`` (order book v2) push -> :class:`OrderBookUpdate`.

    A full push (``"full": true``) is a whole book: ``is_snapshot``, ``last_update_id`` =
    ``u``. An incremental one has ``first_update_id`` = ``U`` and ``last_update_id`` =
    ``u``. The symbol is the pair of the stream ``ob.{pair}.{depth}``.
    """
    try:
        return decode_obu(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(OBU, exc, frame) from None


def parse_any_order_book(frame: bytes | str) -> OrderBookUpdate:
    """Any order-book channel, told apart by its ``channel`` within the same decode.

    This is the parser for frames :func:`detect_type` calls ``ORDER_BOOK``.
    """
    try:
        return decode_any_order_book(frame).result.to_message()
    except DECODE_ERRORS as exc:
        raise _frame_error(_channel_of(frame, "order book"), exc, frame) from None


def parse_update(frame: bytes | str) -> Trade | BookTicker | OrderBookUpdate | None:
    """An update push of any of the five channels in one decode, or ``None``.

    The ``channel`` tag picks the shape inside msgspec, so a frame is detected, routed and
    parsed in one call: the handler's shortcut for the pushes that are nearly all traffic.
    A frame that is anything else, or does not decode, gives ``None`` (not an error): the
    caller then detects and routes it the usual way, which names what is wrong with it.
    """
    try:
        return decode_update(frame).result.to_message()
    except (*DECODE_ERRORS, TypeError):  # TypeError: not text or bytes at all
        return None


def parse_control(frame: bytes | str) -> SubscriptionAck | VenueError | Pong:
    """A subscribe/unsubscribe answer or a ``spot.pong``.

    An answer with an error object, or with ``"status": "fail"``, is a :class:`VenueError`;
    any other subscribe/unsubscribe answer is a :class:`SubscriptionAck` (Gate's docs: a
    null ``error`` means success).
    """
    try:
        control = decode_control(frame)
    except DECODE_ERRORS as exc:
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


#: The references of :func:`parse_update` and :func:`parse_order_book_update`, whichever
#: runs: the differential tests call them, and the twin hands them what it does not settle.
_reference_parse_update = parse_update
_reference_parse_order_book_update = parse_order_book_update
_twin = implementation.compiled("ws_stack.gateio._updates")
if _twin is not None:
    # The compiled twin: the same decode, the message made in C; an order-book delta read
    # from its text in C.
    parse_update = _twin.parse_update
    parse_order_book_update = _twin.parse_order_book_update
