# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twins of ``ws_stack.book``: ``BookSide``, one side of an order book in C arrays
(the twin of ``_Side``), and ``BookCore``, the book's sequence rule over two of them (the
twin of ``_PureLocalOrderBook``, which ``LocalOrderBook`` derives from when this is built).

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
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_CheckExact
from cpython.object cimport PyObject, PyTypeObject
from libc.stdlib cimport free, qsort, realloc
from libc.string cimport memmove

from ws_stack._slots cimport Py_TYPE, field, slot, slot_offset

# ws_stack.book imports this module after defining these (and the package imports
# ws_stack.book first), so they are there to take while it is still being imported.
from ws_stack.book import ApplyResult, SequenceGap
from ws_stack.messages import Level, OrderBookUpdate

__all__ = ["BookCore", "BookSide"]

cdef object _SNAPSHOT = ApplyResult.SNAPSHOT
cdef object _APPLIED = ApplyResult.APPLIED
cdef object _STALE = ApplyResult.STALE
cdef object _GAP = ApplyResult.GAP
cdef object _OUT_OF_SYNC = ApplyResult.OUT_OF_SYNC
cdef long long _ID_LIMIT = 1LL << 62


# Reading a Level's two fields through getattr cost about as much as the rest of a level's
# work (a 1-level delta: ~95 ns with getattr, ~60 ns without). A Level (exactly that type)
# keeps its fields in slots, at offsets its own member descriptors give
# (ws_stack/_slots.pxd): apply() and replace() read them there, and take the ordinary
# getattr for anything else (a subclass, another object, a field that is not a float), or
# when the descriptors are not the plain object slots this relies on (then _PRICE or _SIZE
# is -1).
cdef PyTypeObject* _LEVEL = <PyTypeObject*>Level
cdef Py_ssize_t _PRICE = slot_offset(Level, "price")
cdef Py_ssize_t _SIZE = slot_offset(Level, "size")
cdef bint _SLOTS = _PRICE > 0 and _SIZE > 0


cdef inline bint _read_slots(object level, double* price, double* size) noexcept:
    """Read a Level's price and size from its slots; false (nothing read) if not plain."""
    if not _SLOTS or Py_TYPE(level) != _LEVEL:
        return False
    # Borrowed references, used at once: nothing runs in between that could replace them.
    cdef PyObject* price_field = slot(level, _PRICE)
    cdef PyObject* size_field = slot(level, _SIZE)
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
        self._replace(levels)

    cdef int _replace(self, levels) except -1:
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
        return 0

    def apply(self, levels) -> None:
        """Apply a delta in order: a zero size removes its price, any other sets it."""
        self._apply(levels)

    cdef int _apply(self, levels) except -1:
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
        return 0

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


# BookCore reads an update's fields the same way, for the same reason (five getattrs were
# about a third of what was left of a 1-level delta's apply), one field at a time and in
# the reference's order: from its slot for an OrderBookUpdate (exactly that type) whose
# descriptor is a plain object slot, through getattr for anything else.
cdef PyTypeObject* _UPDATE = <PyTypeObject*>OrderBookUpdate
cdef Py_ssize_t _IS_SNAPSHOT = slot_offset(OrderBookUpdate, "is_snapshot")
cdef Py_ssize_t _FIRST_ID = slot_offset(OrderBookUpdate, "first_update_id")
cdef Py_ssize_t _LAST_ID = slot_offset(OrderBookUpdate, "last_update_id")
cdef Py_ssize_t _BIDS = slot_offset(OrderBookUpdate, "bids")
cdef Py_ssize_t _ASKS = slot_offset(OrderBookUpdate, "asks")


cdef inline object _field(object update, Py_ssize_t offset, str name):
    """``update.<name>``, read from its slot at ``offset`` where that is safe."""
    if Py_TYPE(update) == _UPDATE:
        return field(update, offset, name)
    return getattr(update, name)


cdef inline bint _small_int(object value, long long* result) noexcept:
    """Read an exact int of magnitude below 2**62 (so that ``+ 1`` cannot overflow)."""
    cdef int overflow = 0
    if not PyLong_CheckExact(value):
        return False
    result[0] = PyLong_AsLongLongAndOverflow(value, &overflow)
    return overflow == 0 and -_ID_LIMIT < result[0] < _ID_LIMIT


cdef class BookCore:
    """Compiled twin of ``ws_stack.book._PureLocalOrderBook``: two sides, the sequence rule.

    ``ws_stack.book.LocalOrderBook`` derives from it when it is built, so that a delta is
    checked and applied without running Python code: the update's fields are read from
    their slots, the ids compared as C integers when all three are exact ints below
    2**62 (through Python's operators otherwise, as the reference does), and the levels
    handed to the sides' C methods. ``in_sync`` is held as a C flag, so it reads back as a
    bool whatever was assigned to it.
    """

    cdef readonly BookSide _bids
    cdef readonly BookSide _asks
    cdef public object venue
    cdef public object symbol
    #: Sequence number of the last update applied (``None`` before a snapshot).
    cdef public object last_update_id
    cdef public bint in_sync
    #: Gaps detected since creation.
    cdef public object gaps
    cdef public object last_gap
    cdef bint _awaiting_first_delta

    def __cinit__(self, *args, **kwargs) -> None:
        # Here rather than in __init__: a subclass that skips __init__ still has two sides.
        self._bids = BookSide()
        self._asks = BookSide()
        self.last_update_id = None
        self._awaiting_first_delta = False
        self.in_sync = False
        self.gaps = 0
        self.last_gap = None

    def __init__(self, venue, symbol) -> None:
        self.venue = venue
        self.symbol = symbol

    def apply(self, update):
        """Apply a snapshot or a delta; see ``ws_stack.book``'s docstring for the rule."""
        cdef long long first_id, last_id, current_id
        if _field(update, _IS_SNAPSHOT, "is_snapshot"):
            self._bids._replace(_field(update, _BIDS, "bids"))
            self._asks._replace(_field(update, _ASKS, "asks"))
            self.last_update_id = _field(update, _LAST_ID, "last_update_id")
            self._awaiting_first_delta = True
            self.in_sync = True
            return _SNAPSHOT
        if not self.in_sync:
            return _OUT_OF_SYNC
        first = _field(update, _FIRST_ID, "first_update_id")
        last = _field(update, _LAST_ID, "last_update_id")
        current = self.last_update_id
        if _small_int(first, &first_id) and _small_int(last, &last_id) and _small_int(
            current, &current_id
        ):
            if last_id <= current_id:
                return _STALE
            if first_id != current_id + 1 and not (
                self._awaiting_first_delta and first_id <= current_id
            ):
                return self._gap(current + 1, first, last)
            self.last_update_id = last
        elif first is not None and last is not None and current is not None:
            if last <= current:
                return _STALE
            if first != current + 1 and not (self._awaiting_first_delta and first <= current):
                return self._gap(current + 1, first, last)
            self.last_update_id = last
        self._awaiting_first_delta = False
        bids = _field(update, _BIDS, "bids")
        asks = _field(update, _ASKS, "asks")
        if bids:
            self._bids._apply(bids)
        if asks:
            self._asks._apply(asks)
        return _APPLIED

    cdef object _gap(self, expected, first, last):
        self.in_sync = False
        self.gaps += 1
        self.last_gap = SequenceGap(expected, first, last)
        return _GAP

    def invalidate(self) -> None:
        """Mark the book out of sync (e.g. the connection dropped) until a new snapshot."""
        self.in_sync = False

    def best_bid(self):
        return self._bids.best_high()

    def best_ask(self):
        return self._asks.best_low()

    def bids(self, depth=None):
        """Best ``depth`` bids (all when ``None``), best first, as (price, size)."""
        return self._bids.top_high(depth)

    def asks(self, depth=None):
        """Best ``depth`` asks (all when ``None``), best first, as (price, size)."""
        return self._asks.top_low(depth)

    def __len__(self) -> int:
        return self._bids._n + self._asks._n
