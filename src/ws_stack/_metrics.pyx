# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``ws_stack.metrics.LatencyWindow``: handler times kept in C.

The consumer of every connection times each frame's ``handle`` call and records it in the
connection's window. In Python that was two ``time.perf_counter_ns()`` calls and a
``record`` call, a new int object for each clock read, for the difference, the count and
the total: a large share of a frame's instructions through a connection (the counts are
in docs/compiled.md). Here the window's samples, count and total are C integers, and
:meth:`LatencyWindow.time_call` reads the same clock as ``time.perf_counter_ns`` without
making an object of it.

The same API and the same figures as the reference: the samples in the same slots, the
same count, total and percentiles. What differs is only what no handler time can reach:
a sample or a total beyond 2**63 - 1 ns (292 years) raises ``OverflowError`` here.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t

import time

from ws_stack.exceptions import ConfigError

__all__ = ["LatencyWindow"]


cdef extern from *:
    """
    /* time.perf_counter_ns() without the int object: CPython's own reading of the clock
       (3.13 made it public as PyTime_PerfCounterRaw; before, _PyTime_GetPerfCounter). */
    #if PY_VERSION_HEX >= 0x030D0000
    static inline int64_t ws_stack_perf_counter_ns(void) {
        PyTime_t now;
        (void)PyTime_PerfCounterRaw(&now);
        return (int64_t)now;
    }
    #else
    static inline int64_t ws_stack_perf_counter_ns(void) {
        return (int64_t)_PyTime_GetPerfCounter();
    }
    #endif
    """
    int64_t perf_counter_ns "ws_stack_perf_counter_ns" () noexcept


cdef object _PERF_COUNTER_NS = time.perf_counter_ns


cdef class LatencyWindow:
    """The last ``capacity`` handler times in ns, with the count and total of them all."""

    cdef int64_t* _samples
    cdef Py_ssize_t _capacity
    cdef int64_t _count
    cdef int64_t _total

    def __cinit__(self, capacity=4096):
        if capacity < 1:
            raise ConfigError(f"LatencyWindow capacity must be at least 1, got {capacity}")
        self._samples = <int64_t*>PyMem_Malloc(capacity * sizeof(int64_t))
        if self._samples == NULL:
            raise MemoryError()
        self._capacity = capacity
        cdef Py_ssize_t slot
        for slot in range(capacity):
            self._samples[slot] = 0

    def __dealloc__(self):
        PyMem_Free(self._samples)

    cdef inline void _keep(self, int64_t nanoseconds) noexcept:
        self._samples[self._count % self._capacity] = nanoseconds
        self._count += 1
        self._total += nanoseconds

    def record(self, int64_t nanoseconds):
        self._keep(nanoseconds)

    def time_call(self, clock, function, argument):
        """``function(argument)``, its time by ``clock()`` recorded, also when it raises."""
        cdef int64_t start
        if clock is not _PERF_COUNTER_NS:
            start = clock()
            try:
                function(argument)
            finally:
                self._keep(clock() - start)
            return
        start = perf_counter_ns()
        try:
            function(argument)
        finally:
            self._keep(perf_counter_ns() - start)

    @property
    def count(self):
        """Samples recorded since creation (the window keeps the last ``capacity``)."""
        return self._count

    @property
    def total(self):
        """Sum of every sample recorded since creation, in ns."""
        return self._total

    def samples(self):
        """The samples in the window, in no particular order."""
        cdef Py_ssize_t size = min(self._count, self._capacity)
        return [self._samples[slot] for slot in range(size)]

    def percentile(self, q):
        """The ``q``-th percentile (0..100) of the window in ns, ``None`` if empty."""
        from ws_stack.metrics import percentile

        return percentile(self.samples(), q)

