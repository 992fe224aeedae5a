# cython: language_level=3
# Objects a compiled module keeps for good, found again by the bytes they stand for: the
# MEXC dispatch's known push heads (bytes), the readers' symbols (str).
#
# An open-addressing table (linear probing) of at most ``limit`` entries, in the first
# power of two of slots at least twice the limit. An entry holds a reference to its
# object, where the object's bytes are (an immutable object's bytes do not move) and how
# many, and their ``short_hash``: an entry is found by its hash and a ``memcmp``, without
# building an object to look up. Past its limit a table keeps nothing more and the caller
# does without it. Only a module's own globals hold tables, made once at import
# (``kept_table_init``), so nothing ever frees one.

from cpython.mem cimport PyMem_RawCalloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport uint64_t
from libc.string cimport memcmp


cdef struct KeptEntry:
    PyObject* owner  # NULL: an empty slot; else a reference, held until kept_clear
    const char* data  # the owner's bytes
    Py_ssize_t size
    uint64_t hash


cdef struct KeptTable:
    KeptEntry* entries
    size_t mask  # slots - 1
    Py_ssize_t count
    Py_ssize_t limit


cdef inline int kept_table_init(KeptTable* table, Py_ssize_t limit) except -1:
    """Make ``table`` empty, for at most ``limit`` entries."""
    cdef size_t slots = 1
    while slots < 2 * <size_t>limit:
        slots *= 2
    table.entries = <KeptEntry*>PyMem_RawCalloc(slots, sizeof(KeptEntry))
    if table.entries == NULL:
        raise MemoryError()
    table.mask = slots - 1
    table.count = 0
    table.limit = limit
    return 0


cdef inline PyObject* kept_find(const KeptTable* table, const char* data, Py_ssize_t size,
                                uint64_t hash) noexcept:
    """The object kept for ``data[:size]`` (of hash ``hash``), borrowed, or NULL."""
    cdef size_t slot = hash & table.mask
    cdef const KeptEntry* entry
    while True:
        entry = &table.entries[slot]
        if entry.owner == NULL:
            return NULL
        if entry.hash == hash and entry.size == size and memcmp(entry.data, data, size) == 0:
            return entry.owner
        slot = (slot + 1) & table.mask


cdef inline void kept_add(KeptTable* table, object owner, const char* data, Py_ssize_t size,
                          uint64_t hash) noexcept:
    """Keep ``owner``, whose bytes are ``data[:size]`` (not in the table), while the table
    has room."""
    if table.count >= table.limit:
        return
    cdef size_t slot = hash & table.mask
    while table.entries[slot].owner != NULL:
        slot = (slot + 1) & table.mask
    Py_INCREF(owner)
    table.entries[slot] = KeptEntry(<PyObject*>owner, data, size, hash)
    table.count += 1


cdef inline void kept_clear(KeptTable* table) noexcept:
    """Empty the table, letting its objects go."""
    cdef size_t slot
    for slot in range(table.mask + 1):
        Py_XDECREF(table.entries[slot].owner)
        table.entries[slot].owner = NULL
    table.count = 0
