# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``ws_stack.gateio.decoder.parse_update`` and ``GateioHandler._parse``.

Gate.io's frames are JSON, and msgspec already decodes them in C into the wire shapes of
:mod:`ws_stack.gateio.wire`. What was left in Python on every push is the glue: the
handler's ``_parse``, ``parse_update`` and the result's ``to_message``, three calls of the
interpreter around one decode (about a quarter of a Gate.io frame's instructions). This
is that glue, line for line, in C: the same decoder, the same shapes, the same messages
made with the same arguments in the same order; every frame the decoder does not take
still goes to the handler's ``detect_type`` and ``route``, in Python, as before.

One step is cheaper than the reference's, with the same outcome: the decoder. The
reference decodes with the union of the five update pushes, which makes msgspec look for
the ``channel`` tag first and then decode the frame from its start again: about a seventh
of the decode. Where the frame names its channel as Gate writes it (``UPDATE_HEADS``, the
window ``detect_type`` reads too), this decodes with that channel's push alone: where the
frame's ``channel`` is that channel, the union would pick that same shape, so the result
is the same. Where that decode fails (a frame whose marker is not its top-level channel,
a bad frame), the union decodes it, as in the reference, and decides.

A result's fields are read from their slots (``ws_stack._slots``), where they are; a shape
this module does not know is asked for its own ``to_message``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject, PyTypeObject
from libc.string cimport memcmp

from ws_stack._slots cimport Py_TYPE, field, slot_offset

import msgspec

from ws_stack.gateio.wire import (
    CHANNEL_MARKER,
    DECODE_ERRORS,
    UPDATE_HEADS,
    UPDATE_PUSHES,
    UPDATE_WINDOW,
    BookTickerResult,
    OrderBookUpdateResult,
    TradeResult,
    decode_update,
)
from ws_stack.messages import BookTicker, OrderBookUpdate, Trade, Venue

__all__ = ["handler_parse", "parse_update"]

cdef object _GATEIO = Venue.GATEIO
# parse_update's catch: what the decoder raises on bad input, and TypeError for a frame
# that is neither text nor bytes.
cdef tuple _NOT_AN_UPDATE = (*DECODE_ERRORS, TypeError)


cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)


# -- the channel, from the window after the marker ---------------------------------------

cdef bytes _MARKER = CHANNEL_MARKER.encode()
cdef Py_ssize_t _MARKER_SIZE = len(_MARKER)
cdef Py_ssize_t _WINDOW = UPDATE_WINDOW
#: Each update channel's window and the decoder of its push alone, in one order.
cdef tuple _HEADS = tuple(UPDATE_HEADS[channel].encode() for channel in UPDATE_PUSHES)
cdef tuple _DECODERS = tuple(
    msgspec.json.Decoder(push, strict=False).decode for push in UPDATE_PUSHES.values()
)
cdef Py_ssize_t _CHANNELS = len(_HEADS)


cdef object _decoder_for(const char* text, Py_ssize_t size):
    """The decoder of the push whose window follows the first marker in ``text``, or the
    union's where none does (as ``detect_type``'s fast path reads a frame)."""
    cdef Py_ssize_t at = 0, last = size - _MARKER_SIZE, i
    cdef const char* marker = PyBytes_AS_STRING(_MARKER)
    while at <= last:
        if text[at] == marker[0] and memcmp(text + at, marker, _MARKER_SIZE) == 0:
            at += _MARKER_SIZE
            if size - at >= _WINDOW:
                for i in range(_CHANNELS):
                    if memcmp(text + at, PyBytes_AS_STRING(<bytes>_HEADS[i]), _WINDOW) == 0:
                        return _DECODERS[i]
            break
        at += 1
    return decode_update


cdef inline object _decoder(object frame):
    """``_decoder_for`` of a frame's text: a ``bytes`` frame, or a ``str`` of ASCII only
    (Gate's pushes); the union's for anything else."""
    if type(frame) is str:
        if PyUnicode_IS_COMPACT_ASCII(frame):
            return _decoder_for(<const char*>PyUnicode_DATA(frame), PyUnicode_GET_LENGTH(frame))
    elif type(frame) is bytes:
        return _decoder_for(PyBytes_AS_STRING(frame), PyBytes_GET_SIZE(frame))
    return decode_update


# A result's fields, read from their slots (ws_stack/_slots.pxd) where the result is of the
# exact shape whose descriptors gave the offsets: a getattr costs some 40 instructions more
# a field, and a result has up to eight.
cdef PyTypeObject* _DELTA = <PyTypeObject*>OrderBookUpdateResult
cdef Py_ssize_t _DELTA_S = slot_offset(OrderBookUpdateResult, "s")
cdef Py_ssize_t _DELTA_FIRST = slot_offset(OrderBookUpdateResult, "U")
cdef Py_ssize_t _DELTA_LAST = slot_offset(OrderBookUpdateResult, "u")
cdef Py_ssize_t _DELTA_BIDS = slot_offset(OrderBookUpdateResult, "b")
cdef Py_ssize_t _DELTA_ASKS = slot_offset(OrderBookUpdateResult, "a")
cdef Py_ssize_t _DELTA_TIME = slot_offset(OrderBookUpdateResult, "t")
cdef Py_ssize_t _DELTA_FULL = slot_offset(OrderBookUpdateResult, "full")

cdef PyTypeObject* _TRADE = <PyTypeObject*>TradeResult
cdef Py_ssize_t _TRADE_ID = slot_offset(TradeResult, "id")
cdef Py_ssize_t _TRADE_TIME = slot_offset(TradeResult, "create_time_ms")
cdef Py_ssize_t _TRADE_SIDE = slot_offset(TradeResult, "side")
cdef Py_ssize_t _TRADE_PAIR = slot_offset(TradeResult, "currency_pair")
cdef Py_ssize_t _TRADE_AMOUNT = slot_offset(TradeResult, "amount")
cdef Py_ssize_t _TRADE_PRICE = slot_offset(TradeResult, "price")

cdef PyTypeObject* _TICKER = <PyTypeObject*>BookTickerResult
cdef Py_ssize_t _TICKER_S = slot_offset(BookTickerResult, "s")
cdef Py_ssize_t _TICKER_BID = slot_offset(BookTickerResult, "b")
cdef Py_ssize_t _TICKER_BID_SIZE = slot_offset(BookTickerResult, "B")
cdef Py_ssize_t _TICKER_ASK = slot_offset(BookTickerResult, "a")
cdef Py_ssize_t _TICKER_ASK_SIZE = slot_offset(BookTickerResult, "A")
cdef Py_ssize_t _TICKER_TIME = slot_offset(BookTickerResult, "t")
cdef Py_ssize_t _TICKER_ID = slot_offset(BookTickerResult, "u")


cdef object _delta_message(object result):
    """``OrderBookUpdateResult.to_message``."""
    bids = field(result, _DELTA_BIDS, "b")
    asks = field(result, _DELTA_ASKS, "a")
    return OrderBookUpdate(
        _GATEIO,
        field(result, _DELTA_S, "s"),
        bids if bids is not None else [],
        asks if asks is not None else [],
        field(result, _DELTA_FULL, "full"),
        field(result, _DELTA_FIRST, "U"),
        field(result, _DELTA_LAST, "u"),
        field(result, _DELTA_TIME, "t"),
    )


cdef object _trade_message(object result):
    """``TradeResult.to_message``."""
    return Trade(
        _GATEIO,
        field(result, _TRADE_PAIR, "currency_pair"),
        field(result, _TRADE_PRICE, "price"),
        field(result, _TRADE_AMOUNT, "amount"),
        field(result, _TRADE_SIDE, "side"),
        int(field(result, _TRADE_TIME, "create_time_ms")),
        field(result, _TRADE_ID, "id"),
    )


cdef object _ticker_message(object result):
    """``BookTickerResult.to_message``."""
    return BookTicker(
        _GATEIO,
        field(result, _TICKER_S, "s"),
        field(result, _TICKER_BID, "b"),
        field(result, _TICKER_BID_SIZE, "B"),
        field(result, _TICKER_ASK, "a"),
        field(result, _TICKER_ASK_SIZE, "A"),
        field(result, _TICKER_TIME, "t"),
        field(result, _TICKER_ID, "u"),
    )


cpdef object parse_update(object frame):
    """``decoder.parse_update``: an update push of any of the five channels, or ``None``."""
    cdef PyTypeObject* shape
    decode = _decoder(frame)
    # All of it inside the try, as in the reference (whose catch covers to_message too).
    try:
        try:
            result = decode(frame).result
        except _NOT_AN_UPDATE:
            if decode is decode_update:
                raise
            result = decode_update(frame).result  # the union decides, as in the reference
        shape = Py_TYPE(result)
        if shape == _DELTA:
            return _delta_message(result)
        if shape == _TRADE:
            return _trade_message(result)
        if shape == _TICKER:
            return _ticker_message(result)
        # The full-book channels (spot.order_book, spot.obu): rare, and their own.
        return result.to_message()
    except _NOT_AN_UPDATE:
        return None


def handler_parse(self, frame):
    """``GateioHandler._parse``: the update pushes in one decode, anything else by the hooks."""
    message = parse_update(frame)
    if message is not None:
        return message
    return self.route(self.detect_type(frame), frame)(frame)
