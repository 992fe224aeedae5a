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

The order-book deltas, nearly all of Gate's traffic, are not decoded by msgspec at all:
:func:`read_order_book_update` reads them from their JSON text into the message, which
saves msgspec's result struct and a list and a struct per level (a level is built once,
as ``Level``). It reads the JSON that Gate sends, and settles a frame only where it is
sure to agree with msgspec; it hands anything else back, and the decode above (then the
reference) decides and names the error. "Anything else" is, exactly: a frame that is not
``bytes`` or an ASCII ``str``; any byte above 0x7F, control character or backslash inside
a string; a nested array or object, or a number with an exponent, where a value is
skipped; a key that comes twice; an integer that is not 1 to 18 plain digits; a level
that is not two strings, each a JSON number without sign or exponent; a price or size
outside the bounds of :mod:`ws_stack.messages`; ``full`` other than ``true`` or ``false``;
a required key missing (``channel``, ``result``, ``event`` for a push, and the result's
``s``, ``U``, ``u``); another channel, or an event other than ``update`` in a push; and
anything but whitespace after the frame. Numbers are read by ``ws_stack/_decimal.pxd``,
the MEXC twin's conversion: the double msgspec makes of the same text, bit for bit.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromLongLong
from cpython.object cimport PyTypeObject
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.string cimport memchr, memcmp

from ws_stack cimport _decimal as decimal
from ws_stack._level cimport new_level
from ws_stack._texts cimport TextTable, ascii_text_kept
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
from ws_stack.gateio.channels import ORDER_BOOK_UPDATE
from ws_stack.gateio.decoder import _reference_parse_order_book_update
from ws_stack.messages import BookTicker, Level, OrderBookUpdate, Trade, Venue

__all__ = ["handler_parse", "parse_order_book_update", "parse_update", "read_order_book_update"]

#: The symbols read so far (_texts.pxd).
cdef TextTable _symbols

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
#: The decoder of the order-book update push alone: its frames are read from their text.
cdef object _DECODE_DELTA = _DECODERS[list(UPDATE_PUSHES).index(ORDER_BOOK_UPDATE)]


cdef object _decoder_for(const char* text, Py_ssize_t size):
    """The decoder of the push whose window follows the first marker in ``text``, or the
    union's where none does (as ``detect_type``'s fast path reads a frame)."""
    cdef const char* at = text
    cdef const char* end = text + size
    cdef const char* marker = PyBytes_AS_STRING(_MARKER)
    cdef Py_ssize_t i
    # From quote to quote (memchr), the marker's second character before the whole of it.
    while end - at >= _MARKER_SIZE:
        at = <const char*>memchr(at, marker[0], end - at - _MARKER_SIZE + 1)
        if at == NULL:
            break
        if at[1] == marker[1] and memcmp(at, marker, _MARKER_SIZE) == 0:
            at += _MARKER_SIZE
            if end - at >= _WINDOW:
                for i in range(_CHANNELS):
                    if memcmp(at, PyBytes_AS_STRING(<bytes>_HEADS[i]), _WINDOW) == 0:
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


# -- Gate.io's order-book deltas, read from their JSON text -------------------------------
#
# Each reader returns 1 with what it read, or 0 where the frame is not what it settles
# (the caller hands the frame back); every read is checked against the text's end first.

#: What a reader gives where it does not settle the frame.
cdef object _UNSURE = object()
cdef bytes _DELTA_CHANNEL = ORDER_BOOK_UPDATE.encode()
cdef object _Level = Level


cdef struct Reader:
    const char* at
    const char* end


# Characters a string this module reads may hold: printable ASCII but ``"`` and ``\``.
cdef uint8_t[256] _PLAIN
cdef int _c
for _c in range(256):
    _PLAIN[_c] = 0x20 <= _c < 0x80 and _c != 0x22 and _c != 0x5C


# The readers copy the position into a local first: ``r.at`` read through the pointer
# would be read from memory again after every character read (a char may alias it).
cdef inline void skip_space(Reader* r) noexcept nogil:
    cdef const char* at = r.at
    cdef const char* end = r.end
    while at < end and (at[0] == b" " or at[0] == b"\n" or at[0] == b"\r" or at[0] == b"\t"):
        at += 1
    r.at = at


cdef inline int take(Reader* r, char c) noexcept nogil:
    """``c``, after any whitespace."""
    if r.at < r.end and r.at[0] == c:  # Gate writes compact JSON
        r.at += 1
        return 1
    skip_space(r)
    if r.at < r.end and r.at[0] == c:
        r.at += 1
        return 1
    return 0


cdef int read_string(Reader* r, const char** text, Py_ssize_t* size) noexcept nogil:
    """A string of printable ASCII without escapes, after any whitespace: its text."""
    cdef const char* at
    cdef const char* end
    cdef const char* start
    if not take(r, b'"'):
        return 0
    start = at = r.at
    end = r.end
    while at < end and _PLAIN[<uint8_t>at[0]]:
        at += 1
    if at == end or at[0] != b'"':
        return 0
    text[0] = start
    size[0] = at - start
    r.at = at + 1
    return 1


cdef inline int is_text(const char* text, Py_ssize_t size, const char* word, Py_ssize_t length
                        ) noexcept nogil:  # fmt: skip
    return size == length and memcmp(text, word, length) == 0


cdef inline Py_ssize_t skip_digits(Reader* r) noexcept nogil:
    cdef const char* at = r.at
    cdef const char* end = r.end
    cdef const char* start = at
    while at < end and 0x30 <= at[0] <= 0x39:
        at += 1
    r.at = at
    return at - start


cdef int skip_number(Reader* r) noexcept nogil:
    """A JSON number without exponent: ``-``, an integer without leading zero, a fraction."""
    cdef const char* start
    if r.at < r.end and r.at[0] == b"-":
        r.at += 1
    start = r.at
    if skip_digits(r) == 0 or (start[0] == b"0" and r.at - start > 1):
        return 0
    if r.at < r.end and r.at[0] == b".":
        r.at += 1
        if skip_digits(r) == 0:
            return 0
    return not (r.at < r.end and (r.at[0] == b"e" or r.at[0] == b"E"))


cdef inline int read_word(Reader* r, const char* word, Py_ssize_t length) noexcept nogil:
    """``true``, ``false`` or ``null`` (the caller has skipped the whitespace)."""
    if r.end - r.at >= length and memcmp(r.at, word, length) == 0:
        r.at += length
        return 1
    return 0


cdef int skip_value(Reader* r) noexcept nogil:
    """A value of a key the shape does not have: a string, number or literal, no nesting."""
    cdef const char* text
    cdef Py_ssize_t size
    skip_space(r)
    if r.at >= r.end:
        return 0
    if r.at[0] == b'"':
        return read_string(r, &text, &size)
    if r.at[0] == b"t":
        return read_word(r, b"true", 4)
    if r.at[0] == b"f":
        return read_word(r, b"false", 5)
    if r.at[0] == b"n":
        return read_word(r, b"null", 4)
    return skip_number(r)


cdef int read_integer(Reader* r, int64_t* value) noexcept nogil:
    """A JSON integer of 1 to 18 digits, without sign, fraction or exponent."""
    cdef uint64_t result = 0  # wraps past 19 digits, which are not taken
    cdef const char* at
    cdef const char* end
    cdef const char* start
    skip_space(r)
    start = at = r.at
    end = r.end
    while at < end and 0x30 <= at[0] <= 0x39:
        result = result * 10 + <uint64_t>(at[0] - 0x30)
        at += 1
    r.at = at
    if at == start or at - start > 18 or (start[0] == b"0" and at - start > 1):
        return 0
    if at < end and (at[0] == b"." or at[0] == b"e" or at[0] == b"E"):
        return 0
    value[0] = <int64_t>result
    return 1


cdef inline int json_form(const char* text, Py_ssize_t size) noexcept nogil:
    """Given plain decimal text (digits, at most one ``.``, a digit): is it also a JSON
    number, ``0`` or digits not starting with ``0``, then perhaps ``.`` and digits? (What a
    level's strings hold, and what msgspec surely reads as ``float()`` does.) No ``.``
    first or last, no leading ``0`` but before the ``.``."""
    return (text[0] != b"." and text[size - 1] != b"."
            and not (text[0] == b"0" and size > 1 and text[1] != b"."))  # fmt: skip


cdef int read_number(Reader* r, double* value) noexcept:
    """A level's number: a string holding a JSON number without sign or exponent (``0``, or
    digits not starting with ``0``, then perhaps ``.`` and digits), after any whitespace,
    read in one pass; its value by ``ws_stack/_decimal.pxd``."""
    cdef const char* at
    cdef const char* end = r.end
    cdef const char* text
    cdef uint64_t units = 0  # wraps past 19 digits, where it is not used
    cdef Py_ssize_t point = -1, size
    cdef uint8_t digit
    if not take(r, b'"'):
        return 0
    text = at = r.at
    while at < end:
        digit = <uint8_t>at[0] - 0x30
        if digit < 10:
            units = units * 10 + digit
        elif at[0] == b"." and point < 0:
            point = at - text
        else:
            break
        at += 1
    if at == end or at[0] != b'"' or at == text:
        return 0
    size = at - text
    r.at = at + 1
    return json_form(text, size) and decimal.decimal_value(text, size, units, point, value)


cdef object read_side(Reader* r):
    """A side: ``null`` (None) or an array of ``["price","size"]`` levels (a list of
    ``Level``), or _UNSURE."""
    cdef double price, amount
    skip_space(r)
    if read_word(r, b"null", 4):
        return None
    if not take(r, b"["):
        return _UNSURE
    side = []
    if take(r, b"]"):
        return side
    while True:
        if not (take(r, b"[") and read_number(r, &price) and take(r, b",")
                and read_number(r, &amount) and take(r, b"]")):  # fmt: skip
            return _UNSURE
        if not (decimal.price_in_bounds(price) and decimal.size_in_bounds(amount)):
            return _UNSURE
        side.append(new_level(_Level, price, amount))
        if take(r, b","):
            continue
        if take(r, b"]"):
            return side
        return _UNSURE


# The result's keys, one bit each: a key that comes twice is handed back.
cdef enum:
    KEY_S = 1
    KEY_FIRST = 2
    KEY_LAST = 4
    KEY_BIDS = 8
    KEY_ASKS = 16
    KEY_TIME = 32
    KEY_FULL = 64
    REQUIRED = KEY_S | KEY_FIRST | KEY_LAST


cdef object read_result(Reader* r):
    """The push's ``result`` object as the message, or _UNSURE."""
    cdef const char* key
    cdef Py_ssize_t key_size, size
    cdef const char* text
    cdef int seen = 0, bit
    cdef int64_t first = 0, last = 0, number
    cdef bint full = False
    symbol = bids = asks = time = None
    if not take(r, b"{"):
        return _UNSURE
    while True:
        if not (read_string(r, &key, &key_size) and take(r, b":")):
            return _UNSURE
        bit = 0
        if key_size == 1:
            if key[0] == b"s":
                bit = KEY_S
                if not read_string(r, &text, &size):
                    return _UNSURE
                symbol = ascii_text_kept(&_symbols, text, size)  # see _texts.pxd
            elif key[0] == b"U":
                bit = KEY_FIRST
                if not read_integer(r, &first):
                    return _UNSURE
            elif key[0] == b"u":
                bit = KEY_LAST
                if not read_integer(r, &last):
                    return _UNSURE
            elif key[0] == b"b" or key[0] == b"a":
                bit = KEY_BIDS if key[0] == b"b" else KEY_ASKS
                side = read_side(r)
                if side is _UNSURE:
                    return _UNSURE
                if bit == KEY_BIDS:
                    bids = side
                else:
                    asks = side
            elif key[0] == b"t":
                bit = KEY_TIME
                skip_space(r)
                if read_word(r, b"null", 4):
                    time = None
                elif read_integer(r, &number):
                    time = PyLong_FromLongLong(number)
                else:
                    return _UNSURE
        elif is_text(key, key_size, b"full", 4):
            bit = KEY_FULL
            skip_space(r)
            if read_word(r, b"true", 4):
                full = True
            elif read_word(r, b"false", 5):
                full = False
            else:
                return _UNSURE
        if bit == 0:
            if not skip_value(r):
                return _UNSURE
        elif seen & bit:
            return _UNSURE
        seen |= bit
        if take(r, b","):
            continue
        if take(r, b"}"):
            break
        return _UNSURE
    if seen & REQUIRED != REQUIRED:
        return _UNSURE
    return OrderBookUpdate(
        _GATEIO,
        symbol,
        bids if bids is not None else [],
        asks if asks is not None else [],
        full,
        PyLong_FromLongLong(first),
        PyLong_FromLongLong(last),
        time,
    )


# The frame's keys, one bit each.
cdef enum:
    KEY_CHANNEL = 1
    KEY_EVENT = 2
    KEY_RESULT = 4


cdef object read_update(const char* start, Py_ssize_t length, bint push):
    """A ``spot.order_book_update`` frame's message, or _UNSURE (see the module's
    docstring)."""
    cdef Reader r
    cdef const char* key
    cdef const char* text
    cdef Py_ssize_t key_size, size
    cdef int seen = 0, bit
    r.at = start
    r.end = start + length
    message = _UNSURE
    if not take(&r, b"{"):
        return _UNSURE
    while True:
        if not (read_string(&r, &key, &key_size) and take(&r, b":")):
            return _UNSURE
        bit = 0
        if is_text(key, key_size, b"channel", 7):
            bit = KEY_CHANNEL
            if not (read_string(&r, &text, &size) and is_text(
                text, size, PyBytes_AS_STRING(_DELTA_CHANNEL), PyBytes_GET_SIZE(_DELTA_CHANNEL)
            )):
                return _UNSURE
        elif push and is_text(key, key_size, b"event", 5):
            bit = KEY_EVENT
            if not (read_string(&r, &text, &size) and is_text(text, size, b"update", 6)):
                return _UNSURE
        elif is_text(key, key_size, b"result", 6):
            bit = KEY_RESULT
            message = read_result(&r)
            if message is _UNSURE:
                return _UNSURE
        if bit == 0:
            if not skip_value(&r):
                return _UNSURE
        elif seen & bit:
            return _UNSURE
        seen |= bit
        if take(&r, b","):
            continue
        if take(&r, b"}"):
            break
        return _UNSURE
    skip_space(&r)
    if r.at != r.end:
        return _UNSURE
    if seen != (KEY_CHANNEL | KEY_EVENT | KEY_RESULT if push else KEY_CHANNEL | KEY_RESULT):
        return _UNSURE
    return message


cdef inline object _read_text(object frame, bint push):
    """:func:`read_update` of a ``bytes`` frame or an ASCII ``str``; _UNSURE for others."""
    if type(frame) is bytes:
        return read_update(PyBytes_AS_STRING(frame), PyBytes_GET_SIZE(frame), push)
    if type(frame) is str and PyUnicode_IS_COMPACT_ASCII(frame):
        return read_update(<const char*>PyUnicode_DATA(frame), PyUnicode_GET_LENGTH(frame), push)
    return _UNSURE


cpdef object parse_update(object frame):
    """``decoder.parse_update``: an update push of any of the five channels, or ``None``."""
    cdef PyTypeObject* shape
    decode = _decoder(frame)
    if decode is _DECODE_DELTA:
        message = _read_text(frame, True)
        if message is not _UNSURE:
            return message
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


def parse_order_book_update(frame):
    """``decoder.parse_order_book_update``: the frame read from its text where this module
    is sure of it (:func:`read_order_book_update`), else by the reference."""
    message = _read_text(frame, False)
    if message is not _UNSURE:
        return message
    return _reference_parse_order_book_update(frame)


def read_order_book_update(frame, push=False):
    """The ``spot.order_book_update`` frame's message read from its JSON text, or ``None``
    where the reference must decide (see the module's docstring). With ``push``, the frame
    must be an update push (``"event":"update"``), as :func:`parse_update` takes it; without,
    the event is not read, as ``decoder.parse_order_book_update`` takes it. For tests."""
    message = _read_text(frame, push)
    return None if message is _UNSURE else message
