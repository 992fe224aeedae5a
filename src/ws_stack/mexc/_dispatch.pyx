# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``MexcHandler._parse``: detect, route and parse of a push in C.

The reference is the template's ``MessageHandler._parse``, ``route(detect_type(frame),
frame)(frame)``: for a protobuf push, ``detect_type`` looks the push's head (field tag,
length byte, channel) up among the heads seen before (``detect._KNOWN_HEADS``), ``route``
picks the binary parser, and that calls ``decoder.parse_push`` with the handler's pool.
Three interpreter frames and a bound method around one compiled read (the MEXC reader
and ``HandlerCore`` are compiled too): about a tenth of a MEXC frame's instructions.

This does the same for a push whose head is known, with the same table and the same
tests, and calls the same ``decoder.parse_push``; a head found in that table once is
then found in a table of C's own, without hashing a new bytes object (see below). Any
other frame (a channel's first push, JSON, anything odd) takes the hooks, in Python,
exactly as the reference does. The hooks it skips are the class's own: ``MexcHandler``
gives a subclass that overrides one of them the reference ``_parse`` (see
``MexcHandler.__init_subclass__``).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Size
from libc.stdint cimport uint64_t

from ws_stack._kept cimport KeptTable, kept_add, kept_clear, kept_find, kept_table_init
from ws_stack._short_hash cimport short_hash

from ws_stack.mexc import decoder
from ws_stack.mexc.detect import _KNOWN_HEADS, _KNOWN_HEADS_LIMIT

__all__ = ["handler_parse"]

cdef dict _HEADS = _KNOWN_HEADS
cdef object _parse_push = decoder.parse_push
cdef unsigned char _CHANNEL_FIELD = 0x0A  # a push's first byte: field 1, wire type 2
cdef unsigned char _OPEN_BRACE = 0x7B  # a length byte route() leaves to is_json_frame


# -- the heads found in _HEADS, in a table of C's own ----------------------------------
#
# Looking a head up in _HEADS takes a new bytes object and its hash (SipHash over some 45
# bytes) with its allocation: several hundred instructions of a MEXC push. A head stays
# in _HEADS once it is there (detect._remember only adds), so a head found there once is
# known for good: this table (``_kept.pxd``) keeps those bytes objects under a cheap hash
# of their bytes (``_short_hash.pxd``), and a head found in it is known without the dict.
# It holds at most _KNOWN_HEADS_LIMIT heads, as _HEADS does; a head it lacks is looked
# up in _HEADS. Should _HEADS ever shrink (a test clears it), the table is emptied too.

cdef KeptTable _found
kept_table_init(&_found, _KNOWN_HEADS_LIMIT)


def handler_parse(self, frame):
    """``MexcHandler._parse``: a push of a known channel parsed at once; else the hooks."""
    cdef const unsigned char* data
    cdef Py_ssize_t size, head_size
    cdef uint64_t value
    if type(frame) is bytes:
        size = PyBytes_GET_SIZE(frame)
        data = <const unsigned char*>PyBytes_AS_STRING(frame)
        # detect_type's fast path: the head, as long as its length byte says (a frame cut
        # shorter cannot match a head, whose length byte would differ, so it is not looked
        # up), then route()'s test for a push, which is then parsed as binary.
        if size >= 2 and data[0] == _CHANNEL_FIELD and data[1] != _OPEN_BRACE:
            head_size = 2 + data[1]
            if head_size <= size:
                if _found.count > PyDict_Size(_HEADS):  # _HEADS was cleared
                    kept_clear(&_found)
                value = short_hash(data, head_size)
                if kept_find(&_found, <const char*>data, head_size, value) != NULL:
                    return _parse_push(frame, self.level_pool)
                head = PyBytes_FromStringAndSize(<const char*>data, head_size)
                if head in _HEADS:
                    kept_add(&_found, head, PyBytes_AS_STRING(head), head_size, value)
                    return _parse_push(frame, self.level_pool)
    return self.route(self.detect_type(frame), frame)(frame)
