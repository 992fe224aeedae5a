# cython: language_level=3
# Short ASCII texts (symbols) decoded once: the same str object for the same bytes, from a
# table the compiled reader keeps (a ``KeptTable`` of its own, see _kept.pxd, made at import
# by ``text_table_init``).
#
# A reader makes a new str for every message's symbol, and whoever keys a dict by it (the
# handler's user, a book per symbol) hashes that new str again: a decode, an allocation
# and a SipHash a message. A str from the table is the one decoded the first time, with
# its hash cached. Equal texts, so nothing a caller can compare changes.

from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport uint64_t

from ws_stack._kept cimport KeptTable, kept_add, kept_find, kept_table_init
from ws_stack._short_hash cimport short_hash


cdef extern from "Python.h":
    const char* _text_data "PyUnicode_DATA" (object)


cdef enum:
    TEXT_LIMIT = 1024  # texts a table keeps; past that, decoded every time
    TEXT_MAX = 64  # bytes; a longer text is decoded every time


cdef inline int text_table_init(KeptTable* table) except -1:
    return kept_table_init(table, TEXT_LIMIT)


cdef inline object ascii_text_kept(KeptTable* table, const char* data, Py_ssize_t size):
    """``data[:size]`` decoded as ASCII, as ``PyUnicode_DecodeASCII`` decodes it (and
    raises), the same str object every time for the same bytes while the table has room.

    A str in the table came from PyUnicode_DecodeASCII, so it is compact ASCII: its data
    are its bytes, one per character."""
    if size > TEXT_MAX:
        return PyUnicode_DecodeASCII(data, size, NULL)
    cdef uint64_t value = short_hash(<const unsigned char*>data, size)
    cdef PyObject* text = kept_find(table, data, size, value)
    if text != NULL:
        return <object>text
    decoded = PyUnicode_DecodeASCII(data, size, NULL)
    kept_add(table, decoded, _text_data(decoded), size, value)
    return decoded
