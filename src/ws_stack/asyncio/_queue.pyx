# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of the receive queue's core: ``_PureQueueCore`` in
:mod:`ws_stack.asyncio.queue`.

A transport puts every frame it receives with ``put_nowait``: in Python, a method call and
two dozen bytecodes on every frame (the counts are in docs/compiled.md).
This is the same core, line for line, with the interpreter taken out: the frames in the
same ``deque`` (the consumer pops them from it directly), the same waiters, the same
drops. ``ReceiveQueue`` derives from it where it is built and keeps the waits, which are
coroutines, in Python.
"""

from cpython.object cimport PyObject

from collections import deque

from ws_stack.asyncio.queue import OverflowPolicy
from ws_stack.exceptions import ConfigError

__all__ = ["QueueCore"]

cdef object _DROP_OLDEST = OverflowPolicy.DROP_OLDEST
cdef object _DROP_NEWEST = OverflowPolicy.DROP_NEWEST


cdef extern from "Python.h":
    Py_ssize_t _deque_size "Py_SIZE" (PyObject*)  # a deque's length, as len() reads it


cdef class QueueCore:
    """What ``ReceiveQueue`` does without awaiting: the frames, the waiters, the drops."""

    cdef public Py_ssize_t maxsize
    cdef public object policy
    cdef public object waiter
    cdef public object _putter
    cdef public bint _closed
    cdef public Py_ssize_t dropped
    cdef readonly object _items
    cdef object _append
    cdef object _popleft

    def __init__(self, maxsize, policy=OverflowPolicy.DROP_OLDEST):
        if maxsize < 1:
            raise ConfigError(f"queue size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.policy = policy
        self._items = deque()
        self._append, self._popleft = self._items.append, self._items.popleft
        self.waiter = None
        self._putter = None
        self._closed = False
        self.dropped = 0

    def __len__(self):
        return _deque_size(<PyObject*>self._items)

    @property
    def closed(self):
        return self._closed

    def put_nowait(self, frame):
        """Queue ``frame`` under a dropping policy; ``False`` if it was the one dropped.

        Under ``BLOCK`` a full queue refuses the frame without counting it: the caller
        must wait with :meth:`put` instead.
        """
        if _deque_size(<PyObject*>self._items) >= self.maxsize:
            if self.policy is _DROP_OLDEST:
                self._popleft()
                self.dropped += 1
            elif self.policy is _DROP_NEWEST:
                self.dropped += 1
                return False
            else:
                return False
        self._append(frame)
        getter = self.waiter
        if getter is not None:
            self.waiter = None
            if not getter.done():
                getter.set_result(None)
        return True

    def get_nowait(self):
        """The oldest frame; ``IndexError`` if there is none."""
        frame = self._popleft()
        self._wake_putter()
        return frame

    def drain(self):
        """The queued frames, to pop from the left; wakes a blocked producer when emptied.

        The consumer pops from the returned deque directly (no call per frame) and calls
        :meth:`release` when done, so a ``BLOCK`` producer can continue.
        """
        return self._items

    def release(self):
        """Tell a producer waiting under ``BLOCK`` that there may be room now."""
        self._wake_putter()

    def close(self):
        """No more frames: the consumer drains what is left, then gets ``QueueClosed``."""
        self._closed = True
        for waiter in (self.waiter, self._putter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _wake_putter(self):
        putter = self._putter
        if putter is not None:
            self._putter = None
            if not putter.done():
                putter.set_result(None)
