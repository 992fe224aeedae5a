# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled twin of :mod:`ws_stack.mexc.push`: MEXC protobuf pushes read in C.

:func:`parse_push` reads a ``PushDataV3ApiWrapper`` straight from the wire format into
ws_stack's messages, with no protobuf objects in between. It settles the frames that
MEXC sends, and hands every other frame to the reference (:func:`ws_stack.mexc.push.
parse_push`), which decides it and names its error. "Every other" is, exactly:

* anything that is not well-formed wire format within the frame's bounds (a truncated
  varint or length, an 11-byte varint, a varint whose 10th byte is above 1, field 0, a
  group, an unknown wire type);
* a known field with a wire type other than the schema's, or a body that comes more than
  once (protobuf would merge the two);
* a string with a byte above 0x7F (the reference validates UTF-8), a number that is not
  plain decimal digits with at most one ``.``, a version that is not 1 to 18 digits, a
  price or size outside the bounds of :mod:`ws_stack.messages`, a trade side other than
  1 or 2, a missing symbol that the channel does not give either;
* a call with a level pool, or a frame that is not ``bytes``.

Everything else follows protobuf's rules as the reference does: fields in any order,
unknown fields skipped, a repeated scalar field's last value wins. Numbers: a decimal of
at most 15 digits is one IEEE division of two exact doubles (units below 2**53 by a power
of ten up to 1e15), so it is correctly rounded, which is what ``float()`` gives; a longer
plain decimal goes to CPython's own conversion (``ws_stack/_decimal.pxd``, which Gate.io's
twin shares). Levels are built by calling ``Level`` as
C calls it, with numbers already checked against the bounds its types declare. Every
read is checked against the frame's end before it is made.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport int64_t, uint8_t, uint64_t

from ws_stack cimport _decimal as decimal
from ws_stack._level cimport new_level
from ws_stack._texts cimport TextTable, ascii_text_kept

from ws_stack.messages import BookTicker, Level, OrderBookUpdate, Side, Trade, Venue
from ws_stack.mexc.push import parse_push as _reference_parse_push

__all__ = ["parse_push", "read_push"]

#: The symbols read so far (_texts.pxd).
cdef TextTable _symbols

cdef object _MEXC = Venue.MEXC
cdef object _BUY = Side.BUY
cdef object _SELL = Side.SELL
cdef object _OrderBookUpdate = OrderBookUpdate
cdef object _Trade = Trade
cdef object _BookTicker = BookTicker
cdef object _Level = Level

# Wire types, and the wrapper's body fields.
cdef enum:
    VARINT = 0
    I64 = 1
    LEN = 2
    I32 = 5
    DEALS = 301
    INCREASE_DEPTHS = 302
    LIMIT_DEPTHS = 303
    AGGRE_DEPTHS = 313
    AGGRE_DEALS = 314
    AGGRE_BOOK_TICKER = 315


cdef struct Cursor:
    const uint8_t* at
    const uint8_t* end


cdef struct Span:
    const uint8_t* at
    Py_ssize_t size


# -- the wire format: each returns 1, or 0 where the reference must decide ---------


cdef inline int read_varint(Cursor* cursor, uint64_t* value) noexcept nogil:
    cdef uint64_t result = 0
    cdef int shift = 0
    cdef uint8_t byte
    while cursor.at < cursor.end:
        byte = cursor.at[0]
        cursor.at += 1
        if shift == 63 and byte > 1:
            return 0  # bits past 64: the reference decides
        result |= (<uint64_t>(byte & 0x7F)) << shift
        if byte < 0x80:
            value[0] = result
            return 1
        shift += 7
        if shift > 63:
            return 0  # an 11th byte
    return 0


cdef inline int read_tag(Cursor* cursor, uint64_t* field, int* wire_type) noexcept nogil:
    cdef uint64_t tag
    if not read_varint(cursor, &tag) or tag > 0xFFFFFFFFULL or (tag >> 3) == 0:
        return 0
    field[0] = tag >> 3
    wire_type[0] = tag & 7
    return 1


cdef inline int read_span(Cursor* cursor, Span* span) noexcept nogil:
    cdef uint64_t size
    if not read_varint(cursor, &size) or size > <uint64_t>(cursor.end - cursor.at):
        return 0
    span.at = cursor.at
    span.size = <Py_ssize_t>size
    cursor.at += size
    return 1


cdef inline int skip_field(Cursor* cursor, int wire_type) noexcept nogil:
    cdef uint64_t ignored
    cdef Span span
    if wire_type == VARINT:
        return read_varint(cursor, &ignored)
    if wire_type == LEN:
        return read_span(cursor, &span)
    if wire_type == I64 or wire_type == I32:
        ignored = 8 if wire_type == I64 else 4
        if <uint64_t>(cursor.end - cursor.at) < ignored:
            return 0
        cursor.at += ignored
        return 1
    return 0  # groups (3, 4) and the unused wire types 6, 7


cdef inline int read_string(Cursor* cursor, int wire_type, Span* span) noexcept nogil:
    """A string field: in bounds, and ASCII (anything else the reference validates)."""
    cdef Py_ssize_t i
    if wire_type != LEN or not read_span(cursor, span):
        return 0
    for i in range(span.size):
        if span.at[i] & 0x80:
            return 0
    return 1


cdef inline Cursor inside(Span span) noexcept nogil:
    cdef Cursor cursor
    cursor.at = span.at
    cursor.end = span.at + span.size
    return cursor


# -- numbers ---------------------------------------------------------------------------


cdef inline int read_price(Span text, double* value) noexcept:
    return decimal.read_price(<const char*>text.at, text.size, value)


cdef inline int read_size(Span text, double* value) noexcept:
    return decimal.read_size(<const char*>text.at, text.size, value)


cdef int read_version(Span text, int64_t* value) noexcept nogil:
    """``int(text)`` for 1 to 18 ASCII digits."""
    cdef int64_t result = 0
    cdef Py_ssize_t i
    if text.size < 1 or text.size > 18:
        return 0
    for i in range(text.size):
        if not 0x30 <= text.at[i] <= 0x39:
            return 0
        result = result * 10 + (text.at[i] - 0x30)
    value[0] = result
    return 1


cdef inline object ascii_text(Span span):
    return PyUnicode_DecodeASCII(<const char*>span.at, span.size, NULL)


# -- the wrapper -----------------------------------------------------------------------


cdef struct Wrapper:
    Span channel
    Span symbol
    int64_t create_time
    int64_t send_time
    uint64_t body_field
    Span body


cdef int read_wrapper(Cursor cursor, Wrapper* wrapper) noexcept nogil:
    cdef uint64_t field, number
    cdef int wire_type
    cdef Span ignored
    wrapper.channel.size = 0
    wrapper.symbol.size = 0
    wrapper.create_time = 0
    wrapper.send_time = 0
    wrapper.body_field = 0
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return 0
        if field == 1:
            if not read_string(&cursor, wire_type, &wrapper.channel):
                return 0
        elif field == 3:
            if not read_string(&cursor, wire_type, &wrapper.symbol):
                return 0
        elif field == 4:
            if not read_string(&cursor, wire_type, &ignored):  # symbolId
                return 0
        elif field == 5 or field == 6:
            if wire_type != VARINT or not read_varint(&cursor, &number):
                return 0
            if field == 5:
                wrapper.create_time = <int64_t>number
            else:
                wrapper.send_time = <int64_t>number
        elif (
            field == DEALS or field == INCREASE_DEPTHS or field == LIMIT_DEPTHS
            or field == AGGRE_DEPTHS or field == AGGRE_DEALS or field == AGGRE_BOOK_TICKER
        ):
            if wrapper.body_field or wire_type != LEN or not read_span(&cursor, &wrapper.body):
                return 0
            wrapper.body_field = field
        elif not skip_field(&cursor, wire_type):
            return 0
    return wrapper.body_field != 0


cdef object push_symbol(Wrapper* wrapper, bint depth_suffix):
    """``symbol``, or the channel's symbol segment (``None``: the reference decides)."""
    if wrapper.symbol.size:  # the same str for the same symbol (see _texts.pxd)
        return ascii_text_kept(&_symbols, <const char*>wrapper.symbol.at, wrapper.symbol.size)
    channel = ascii_text(wrapper.channel)
    if depth_suffix:  # spot@public.limit.depth.v3.api.pb@BTCUSDT@20
        channel = channel.rpartition("@")[0]
    symbol = channel.rpartition("@")[2] if "@" in channel else ""
    return symbol or None


cdef object push_time(Wrapper* wrapper):
    if wrapper.send_time:
        return wrapper.send_time
    if wrapper.create_time:
        return wrapper.create_time
    return None


# -- order-book bodies -----------------------------------------------------------------


cdef int read_level(Span item, Span* price, Span* quantity) noexcept nogil:
    """A depth item's price and quantity (empty when absent, as in protobuf)."""
    cdef Cursor cursor = inside(item)
    cdef uint64_t field
    cdef int wire_type
    price.size = 0
    quantity.size = 0
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return 0
        if field == 1 or field == 2:  # numbers: read_decimal accepts ASCII digits only
            if wire_type != LEN or not read_span(&cursor, price if field == 1 else quantity):
                return 0
        elif not skip_field(&cursor, wire_type):
            return 0
    return 1


cdef object read_depth(Wrapper* wrapper, bint snapshot, bint aggregated):
    """An order-book body: its versions, and both sides' levels."""
    cdef Cursor cursor = inside(wrapper.body)
    cdef uint64_t field
    cdef int wire_type
    cdef Span span, version_text, to_version_text, price, quantity
    cdef Py_ssize_t asks = 0, bids = 0
    cdef int64_t first, last
    cdef double price_value, size_value
    version_text.size = 0
    to_version_text.size = 0
    # First pass: the shape (level counts, versions), every field checked.
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return None
        if field == 1 or field == 2:
            if wire_type != LEN or not read_span(&cursor, &span):
                return None
            if field == 1:
                asks += 1
            else:
                bids += 1
        elif field == 3:
            if not read_string(&cursor, wire_type, &span):  # eventType
                return None
        elif field == 4:
            if not read_string(&cursor, wire_type, &version_text):
                return None
        elif field == 5 and aggregated:
            if not read_string(&cursor, wire_type, &to_version_text):
                return None
        elif not skip_field(&cursor, wire_type):
            return None
    if not read_version(version_text, &first):
        return None
    if aggregated:
        if not read_version(to_version_text, &last):
            return None
    else:
        last = first
    symbol = push_symbol(wrapper, snapshot)
    if symbol is None:
        return None
    # Second pass: the levels, into lists of their exact lengths.
    cdef list bid_levels = PyList_New(bids)
    cdef list ask_levels = PyList_New(asks)
    cdef Py_ssize_t bid_at = 0, ask_at = 0
    cursor = inside(wrapper.body)
    while cursor.at < cursor.end:
        read_tag(&cursor, &field, &wire_type)  # all checked in the first pass
        if field == 1 or field == 2:
            read_span(&cursor, &span)
            if not read_level(span, &price, &quantity):
                return None
            if not read_price(price, &price_value) or not read_size(quantity, &size_value):
                return None
            level = new_level(_Level, price_value, size_value)
            Py_INCREF(level)  # PyList_SET_ITEM takes the reference
            if field == 1:
                PyList_SET_ITEM(ask_levels, ask_at, level)
                ask_at += 1
            else:
                PyList_SET_ITEM(bid_levels, bid_at, level)
                bid_at += 1
        else:
            skip_field(&cursor, wire_type)
    return _OrderBookUpdate(
        _MEXC,
        symbol,
        bid_levels,
        ask_levels,
        snapshot,
        None if snapshot else first,
        last,
        push_time(wrapper),
    )


# -- trades and the book ticker --------------------------------------------------------


cdef object read_deal(Span item, object symbol):
    cdef Cursor cursor = inside(item)
    cdef uint64_t field, number
    cdef int wire_type
    cdef Span price, quantity
    cdef int64_t time = 0
    cdef int trade_type = 0
    cdef double price_value, size_value
    price.size = 0
    quantity.size = 0
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return None
        if field == 1:
            if not read_string(&cursor, wire_type, &price):
                return None
        elif field == 2:
            if not read_string(&cursor, wire_type, &quantity):
                return None
        elif field == 3 or field == 4:
            if wire_type != VARINT or not read_varint(&cursor, &number):
                return None
            if field == 3:
                # int32: the reference sees the low 32 bits; 1 and 2 only are sides.
                trade_type = 1 if number == 1 else (2 if number == 2 else 0)
            else:
                time = <int64_t>number
        elif not skip_field(&cursor, wire_type):
            return None
    if trade_type == 0 or not read_price(price, &price_value):
        return None
    if not read_size(quantity, &size_value):
        return None
    return _Trade(
        _MEXC, symbol, price_value, size_value, _BUY if trade_type == 1 else _SELL, time
    )


cdef object read_deals(Wrapper* wrapper):
    cdef Cursor cursor = inside(wrapper.body)
    cdef uint64_t field
    cdef int wire_type
    cdef Span span
    symbol = push_symbol(wrapper, False)
    if symbol is None:
        return None
    trades = []
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return None
        if field == 1:
            if wire_type != LEN or not read_span(&cursor, &span):
                return None
            trade = read_deal(span, symbol)
            if trade is None:
                return None
            trades.append(trade)
        elif field == 2:
            if not read_string(&cursor, wire_type, &span):  # eventType
                return None
        elif not skip_field(&cursor, wire_type):
            return None
    return trades


cdef object read_book_ticker(Wrapper* wrapper):
    cdef Cursor cursor = inside(wrapper.body)
    cdef uint64_t field
    cdef int wire_type
    cdef Span[4] texts  # bidPrice, bidQuantity, askPrice, askQuantity
    cdef double[4] numbers
    cdef int i
    for i in range(4):
        texts[i].size = 0
    while cursor.at < cursor.end:
        if not read_tag(&cursor, &field, &wire_type):
            return None
        if 1 <= field <= 4:
            if not read_string(&cursor, wire_type, &texts[field - 1]):
                return None
        elif not skip_field(&cursor, wire_type):
            return None
    if not (
        read_price(texts[0], &numbers[0]) and read_size(texts[1], &numbers[1])
        and read_price(texts[2], &numbers[2]) and read_size(texts[3], &numbers[3])
    ):
        return None
    symbol = push_symbol(wrapper, False)
    if symbol is None:
        return None
    return _BookTicker(
        _MEXC, symbol, numbers[0], numbers[1], numbers[2], numbers[3], push_time(wrapper)
    )


# -- entry points ----------------------------------------------------------------------


def read_push(frame):
    """The frame's message(s), or ``None`` where the reference must decide."""
    if type(frame) is not bytes:
        return None
    cdef Cursor cursor
    cdef Wrapper wrapper
    cursor.at = <const uint8_t*>PyBytes_AS_STRING(frame)
    cursor.end = cursor.at + PyBytes_GET_SIZE(frame)
    if not read_wrapper(cursor, &wrapper):
        return None
    if wrapper.body_field == AGGRE_DEPTHS:
        return read_depth(&wrapper, False, True)
    if wrapper.body_field == DEALS or wrapper.body_field == AGGRE_DEALS:
        return read_deals(&wrapper)
    if wrapper.body_field == AGGRE_BOOK_TICKER:
        return read_book_ticker(&wrapper)
    if wrapper.body_field == INCREASE_DEPTHS:
        return read_depth(&wrapper, False, False)
    return read_depth(&wrapper, True, False)  # LIMIT_DEPTHS


def parse_push(frame, pool=None):
    """:func:`ws_stack.mexc.push.parse_push`, read in C where it can be."""
    if pool is None:
        message = read_push(frame)
        if message is not None:
            return message
    return _reference_parse_push(frame, pool)
