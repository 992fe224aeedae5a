# cython: language_level=3
# Short ASCII texts (symbols) decoded once: the same str object for the same bytes, from a
# table the compiled reader keeps (a ``TextTable`` of its own, zeroed as a module global).
#
# A reader makes a new str for every message's symbol, and whoever keys a dict by it (the
# handler's user, a book per symbol) hashes that new str again: a decode, an allocation
# and a SipHash a message. A str from the table is the one decoded the first time, with
# its hash cached. Equal texts, so nothing a caller can compare changes.

from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport uint64_t
from libc.string cimport memcmp

from ws_stack._short_hash cimport short_hash


cdef extern from "Python.h":
    Py_ssize_t _text_length "PyUnicode_GET_LENGTH" (PyObject*)
    void* _text_data "PyUnicode_DATA" (PyObject*)


cdef enum:
    TEXT_SLOTS = 2048  # a power of two
    TEXT_LIMIT = 1024  # texts a table keeps, half its slots; past that, decoded every time
    TEXT_MAX = 64  # bytes; a longer text is decoded every time


cdef struct TextTable:
    PyObject* texts[TEXT_SLOTS]  # NULL: an empty slot; else a reference, kept for good
    uint64_t hashes[TEXT_SLOTS]
    Py_ssize_t count


cdef inline object ascii_text_kept(TextTable* table, const char* data, Py_ssize_t size):
    """``data[:size]`` decoded as ASCII, as ``PyUnicode_DecodeASCII`` decodes it (and
    raises), the same str object every time for the same bytes while the table has room.

    A str in the table came from PyUnicode_DecodeASCII, so it is compact ASCII: its data
    are its bytes, one per character."""
    cdef uint64_t value
    cdef size_t slot
    cdef PyObject* text
    if size > TEXT_MAX:
        return PyUnicode_DecodeASCII(data, size, NULL)
    value = short_hash(<const unsigned char*>data, size)
    slot = value & (TEXT_SLOTS - 1)
    while True:
        text = table.texts[slot]
        if text == NULL:
            break
        if (table.hashes[slot] == value and _text_length(text) == size
                and memcmp(_text_data(text), data, size) == 0):  # fmt: skip
            return <object>text
        slot = (slot + 1) & (TEXT_SLOTS - 1)
    decoded = PyUnicode_DecodeASCII(data, size, NULL)
    if table.count < TEXT_LIMIT:
        Py_INCREF(decoded)
        table.texts[slot] = <PyObject*>decoded
        table.hashes[slot] = value
        table.count += 1
    return decoded
