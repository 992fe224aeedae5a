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
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport uint64_t
from libc.string cimport memcmp

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
# bytes): with the allocation, some hundreds of instructions a MEXC push. A head stays in
# _HEADS once it is there (detect._remember only adds), so a head found there once is
# known for good: this table keeps those (their bytes objects, a reference each, for the
# module's life) under a cheap hash of their bytes (``_short_hash.pxd``), and a head found
# in it is known without the dict. It holds at most _KNOWN_HEADS_LIMIT heads, as _HEADS
# does, in twice as many slots (linear probing); a head it lacks is looked up in _HEADS.
# Should _HEADS ever shrink (a test clears it), the table is emptied too.

cdef extern from "Python.h":
    char* _bytes_data "PyBytes_AS_STRING" (PyObject*)
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE" (PyObject*)

cdef enum:
    _SLOTS = 8192  # a power of two, at least twice _KNOWN_HEADS_LIMIT (checked below)

cdef PyObject* _found[_SLOTS]  # NULL: an empty slot
cdef uint64_t _found_hash[_SLOTS]
cdef Py_ssize_t _found_count = 0

if _SLOTS < 2 * _KNOWN_HEADS_LIMIT:
    raise ImportError("ws_stack.mexc._dispatch: its table is smaller than detect's limit")


cdef inline bint _known(const unsigned char* data, Py_ssize_t size, uint64_t value) noexcept:
    """Whether the head of ``size`` bytes at ``data`` (hash ``value``) is in the table."""
    cdef size_t slot = value & (_SLOTS - 1)
    cdef PyObject* head
    while True:
        head = _found[slot]
        if head == NULL:
            return False
        if (_found_hash[slot] == value and _bytes_size(head) == size
                and memcmp(_bytes_data(head), data, size) == 0):  # fmt: skip
            return True
        slot = (slot + 1) & (_SLOTS - 1)


cdef void _forget() noexcept:
    """Empty the table: _HEADS holds fewer heads than it (only a test clears _HEADS)."""
    global _found_count
    cdef size_t slot
    for slot in range(_SLOTS):
        Py_XDECREF(_found[slot])
        _found[slot] = NULL
    _found_count = 0


cdef inline void _keep(object head, uint64_t value) noexcept:
    """Put ``head`` (found in _HEADS, not in the table) in the table, while it has room."""
    global _found_count
    if _found_count >= _KNOWN_HEADS_LIMIT:
        return
    cdef size_t slot = value & (_SLOTS - 1)
    while _found[slot] != NULL:
        slot = (slot + 1) & (_SLOTS - 1)
    Py_INCREF(head)
    _found[slot] = <PyObject*>head
    _found_hash[slot] = value
    _found_count += 1


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
                if _found_count > PyDict_Size(_HEADS):  # _HEADS was cleared
                    _forget()
                value = short_hash(data, head_size)
                if _known(data, head_size, value):
                    return _parse_push(frame, self.level_pool)
                head = PyBytes_FromStringAndSize(<const char*>data, head_size)
                if head in _HEADS:
                    _keep(head, value)
                    return _parse_push(frame, self.level_pool)
    return self.route(self.detect_type(frame), frame)(frame)
