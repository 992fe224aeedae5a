# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``ws_stack.book._Side``: one side of an order book in C arrays.

The reference keeps a dict of sizes and a sorted list of prices; this keeps two parallel
arrays of doubles, prices ascending. A lookup is a binary search and an insert or delete
a ``memmove``. The levels sit in the middle of their buffers with free slots at both ends,
and an insert or delete moves whichever part of the levels is the shorter: the best levels
of a side, where most updates land, are cheap to change whether they are at its high end
(bids) or its low end (asks).

Behaviour is the reference's for every finite price and size: a zero size removes its
price, any other size (even a negative one: constructor-built Levels are not validated)
sets it; ``replace`` keeps the levels with a size above zero, a later duplicate price
winning. Prices are held as doubles, so they come back as floats (``1`` as ``1.0``).
NaN is not a price (the decoders reject it): a side given one stays memory-safe (every
index is bounded by the arrays) but is no longer sorted.
"""

from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.object cimport PyObject, PyTypeObject
from libc.stdlib cimport free, qsort, realloc
from libc.string cimport memmove

from types import MemberDescriptorType

from ws_stack.messages import Level

__all__ = ["BookSide"]


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    PyTypeObject* Py_TYPE(object)


cdef extern from "structmember.h":
    int T_OBJECT_EX


# Reading a Level's two fields through getattr cost about as much as the rest of a level's
# work (a 1-level delta: ~95 ns with getattr, ~60 ns without). A Level (exactly that type)
# keeps its fields in slots, at offsets its own member descriptors give: apply() and
# replace() read them there, and take the ordinary getattr for anything else (a subclass,
# another object, a field that is not a float), or when the descriptors are not the plain
# object slots this relies on (then _PRICE or _SIZE is -1).
cdef PyTypeObject* _LEVEL = <PyTypeObject*>Level


cdef Py_ssize_t _slot_offset(str name) except -2:
    descriptor = Level.__dict__.get(name)
    if type(descriptor) is not MemberDescriptorType or descriptor.__objclass__ is not Level:
        return -1
    cdef PyMemberDef* member = (<PyMemberDescrObject*>descriptor).d_member
    return member.offset if member.type == T_OBJECT_EX and member.offset > 0 else -1


cdef Py_ssize_t _PRICE = _slot_offset("price")
cdef Py_ssize_t _SIZE = _slot_offset("size")
cdef bint _SLOTS = _PRICE > 0 and _SIZE > 0


cdef inline bint _read_slots(object level, double* price, double* size) noexcept:
    """Read a Level's price and size from its slots; false (nothing read) if not plain."""
    if not _SLOTS or Py_TYPE(level) != _LEVEL:
        return False
    # Borrowed references, used at once: nothing runs in between that could replace them.
    cdef PyObject* price_field = (<PyObject**>(<char*><PyObject*>level + _PRICE))[0]
    cdef PyObject* size_field = (<PyObject**>(<char*><PyObject*>level + _SIZE))[0]
    if price_field == NULL or size_field == NULL:
        return False
    if not PyFloat_CheckExact(<object>price_field) or not PyFloat_CheckExact(<object>size_field):
        return False
    price[0] = PyFloat_AS_DOUBLE(<object>price_field)
    size[0] = PyFloat_AS_DOUBLE(<object>size_field)
    return True


cdef struct _Entry:
    double price
    double size
    Py_ssize_t order  # position in the snapshot: equal prices keep their order


cdef int _compare_entries(const void* a, const void* b) noexcept nogil:
    # A total order (NaN after every number) so that qsort's contract holds on any input.
    cdef double x = (<const _Entry*>a).price
    cdef double y = (<const _Entry*>b).price
    if x < y:
        return -1
    if x > y:
        return 1
    if x != x and y == y:
        return 1
    if y != y and x == x:
        return -1
    cdef Py_ssize_t i = (<const _Entry*>a).order
    cdef Py_ssize_t j = (<const _Entry*>b).order
    return (i > j) - (i < j)


cdef class BookSide:
    """One side of the book: prices ascending with their sizes, in two C arrays."""

    # The levels are _prices[_start:_start + _n] (and _sizes alike), within _capacity.
    cdef double* _prices
    cdef double* _sizes
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t _start
    cdef Py_ssize_t _n

    def __cinit__(self) -> None:
        self._prices = NULL
        self._sizes = NULL
        self._capacity = 0
        self._start = 0
        self._n = 0

    def __dealloc__(self) -> None:
        free(self._prices)
        free(self._sizes)

    cdef int _reserve(self, Py_ssize_t capacity) except -1:
        """Buffers of at least ``capacity`` slots, the levels centred in them."""
        cdef double* grown
        cdef Py_ssize_t start
        if capacity > self._capacity:
            if <size_t>capacity > (<size_t>-1) // sizeof(double):
                raise MemoryError()
            # Each pointer is kept as soon as it is grown: a failure leaves both valid.
            grown = <double*>realloc(self._prices, capacity * sizeof(double))
            if grown == NULL:
                raise MemoryError()
            self._prices = grown
            grown = <double*>realloc(self._sizes, capacity * sizeof(double))
            if grown == NULL:
                raise MemoryError()
            self._sizes = grown
            self._capacity = capacity
        start = (self._capacity - self._n) // 2
        if start != self._start and self._n:
            memmove(&self._prices[start], &self._prices[self._start], self._n * sizeof(double))
            memmove(&self._sizes[start], &self._sizes[self._start], self._n * sizeof(double))
        self._start = start
        return 0

    cdef inline Py_ssize_t _lower_bound(self, double price) noexcept:
        """Absolute index of the first level not below ``price``."""
        cdef double* prices = self._prices
        cdef Py_ssize_t low = self._start
        cdef Py_ssize_t high = low + self._n
        cdef Py_ssize_t middle
        while low < high:
            middle = low + (high - low) // 2
            if prices[middle] < price:
                low = middle + 1
            else:
                high = middle
        return low

    cdef int _insert(self, Py_ssize_t at, double price, double size) except -1:
        """Insert a level at absolute index ``at``, moving the shorter part of the levels."""
        cdef Py_ssize_t below = at - self._start
        cdef Py_ssize_t above = self._n - below
        cdef Py_ssize_t slack
        if (self._start == 0 and below <= above) or (
            self._start + self._n == self._capacity and above < below
        ):
            # No room at the cheaper end: recentre (growing when little is free), so that
            # the next inserts there are cheap again (amortised O(1) extra per insert).
            slack = self._capacity - self._n
            if slack < self._n // 4 + 8:
                self._reserve(2 * self._n + 16)
            else:
                self._reserve(self._capacity)
            at = self._start + below
        if below <= above:
            memmove(&self._prices[self._start - 1], &self._prices[self._start],
                    below * sizeof(double))
            memmove(&self._sizes[self._start - 1], &self._sizes[self._start],
                    below * sizeof(double))
            self._start -= 1
            at -= 1
        else:
            memmove(&self._prices[at + 1], &self._prices[at], above * sizeof(double))
            memmove(&self._sizes[at + 1], &self._sizes[at], above * sizeof(double))
        self._prices[at] = price
        self._sizes[at] = size
        self._n += 1
        return 0

    cdef void _delete(self, Py_ssize_t at) noexcept:
        """Remove the level at absolute index ``at``, moving the shorter part of the levels."""
        cdef Py_ssize_t below = at - self._start
        cdef Py_ssize_t above = self._n - below - 1
        if below <= above:
            memmove(&self._prices[self._start + 1], &self._prices[self._start],
                    below * sizeof(double))
            memmove(&self._sizes[self._start + 1], &self._sizes[self._start],
                    below * sizeof(double))
            self._start += 1
        else:
            memmove(&self._prices[at], &self._prices[at + 1], above * sizeof(double))
            memmove(&self._sizes[at], &self._sizes[at + 1], above * sizeof(double))
        self._n -= 1

    def replace(self, levels) -> None:
        """Hold exactly ``levels`` with a positive size (a later duplicate price wins)."""
        cdef _Entry* entries = NULL
        cdef _Entry* grown
        cdef Py_ssize_t count = 0
        cdef Py_ssize_t allocated = 0
        cdef Py_ssize_t i, j, k
        cdef double price = 0.0
        cdef double size = 0.0
        cdef bint ascending = True
        cdef bint descending = True
        try:
            for level in levels:
                if not _read_slots(level, &price, &size):
                    size = level.size
                    if size > 0.0:  # the reference reads the price of a kept level only
                        price = level.price
                if not size > 0.0:
                    continue
                if count == allocated:
                    if <size_t>allocated >= (<size_t>-1) // (2 * sizeof(_Entry)):
                        raise MemoryError()
                    allocated = 2 * allocated + 64
                    grown = <_Entry*>realloc(entries, allocated * sizeof(_Entry))
                    if grown == NULL:
                        raise MemoryError()
                    entries = grown
                entries[count].price = price
                entries[count].size = size
                entries[count].order = count
                if count:
                    # NaN makes both false, and qsort's total order places it.
                    ascending = ascending and entries[count - 1].price < price
                    descending = descending and entries[count - 1].price > price
                count += 1
            # Snapshots come sorted one way or the other: only shuffled ones are sorted here.
            if not ascending and not descending:
                qsort(entries, count, sizeof(_Entry), _compare_entries)
            self._n = 0
            self._reserve(count + count // 2 + 16)
            self._start = (self._capacity - count) // 2
            k = self._start - 1
            for j in range(count):
                i = count - 1 - j if descending and not ascending else j
                # Equal prices are adjacent in snapshot order: the first one's price (-0.0
                # or 0.0, as the dict keeps its first key) with the last one's size.
                if k >= self._start and self._prices[k] == entries[i].price:
                    self._sizes[k] = entries[i].size
                else:
                    k += 1
                    self._prices[k] = entries[i].price
                    self._sizes[k] = entries[i].size
            self._n = k + 1 - self._start
        finally:
            free(entries)

    def apply(self, levels) -> None:
        """Apply a delta in order: a zero size removes its price, any other sets it."""
        cdef double price = 0.0
        cdef double size = 0.0
        cdef Py_ssize_t at
        for level in levels:
            if not _read_slots(level, &price, &size):
                price = level.price
                size = level.size
            at = self._lower_bound(price)
            if size != 0.0:  # the reference's `if size:` (NaN is true there too)
                if at < self._start + self._n and self._prices[at] == price:
                    self._sizes[at] = size
                else:
                    self._insert(at, price, size)
            elif at < self._start + self._n and self._prices[at] == price:
                self._delete(at)

    def best_high(self):
        """The highest price and its size (``None`` when empty)."""
        if not self._n:
            return None
        cdef Py_ssize_t top = self._start + self._n - 1
        return (self._prices[top], self._sizes[top])

    def best_low(self):
        """The lowest price and its size (``None`` when empty)."""
        if not self._n:
            return None
        return (self._prices[self._start], self._sizes[self._start])

    cdef Py_ssize_t _count(self, depth) except -1:
        """How many levels the reference's slice by ``depth`` holds (all for ``None``)."""
        cdef Py_ssize_t wanted
        if depth is None:
            return self._n
        try:
            wanted = depth
        except OverflowError:  # slicing clamps an index beyond Py_ssize_t
            return self._n if depth > 0 else 0
        if wanted >= 0:
            return min(wanted, self._n)
        return max(self._n + wanted, 0)

    def top_high(self, depth=None):
        """The ``depth`` highest levels (all when ``None``), highest first.

        A negative ``depth`` leaves out the ``-depth`` lowest levels, as slicing does.
        """
        cdef Py_ssize_t count = self._count(depth)
        cdef Py_ssize_t top = self._start + self._n - 1
        cdef list result = []
        cdef Py_ssize_t i
        for i in range(count):
            result.append((self._prices[top - i], self._sizes[top - i]))
        return result

    def top_low(self, depth=None):
        """The ``depth`` lowest levels (all when ``None``), lowest first.

        A negative ``depth`` leaves out the ``-depth`` highest levels, as slicing does.
        """
        cdef Py_ssize_t count = self._count(depth)
        cdef Py_ssize_t low = self._start
        cdef list result = []
        cdef Py_ssize_t i
        for i in range(count):
            result.append((self._prices[low + i], self._sizes[low + i]))
        return result

    def __len__(self) -> int:
        return self._n
