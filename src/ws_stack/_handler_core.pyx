# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``MessageHandler.handle`` and ``_deliver``: the per-frame path in C.

The reference is ``ws_stack.handler.MessageHandler.handle`` with ``_deliver``; this is the
same code, line for line, with the interpreter taken out. Where it is built,
:class:`HandlerCore` is the base class of ``MessageHandler`` and its ``handle`` is the
method ``MessageHandler.handle``, so every subclass inherits it.

``HandlerCore`` holds the four attributes the path touches on every frame (``level_pool``,
``_callbacks``, ``_messages``, ``_frames``) in C fields instead of the instance dict: a
field is a pointer read where a dict attribute is a type and a dict lookup, and the
per-frame path's attribute lookups cost as much as the interpreter it replaces. They are
plain Python objects, set and read from Python as before.

What stays Python is everything a subclass may override and everything rare: the frame
is parsed by ``self._parse`` (and so by a subclass's ``detect_type`` and ``route``), and
errors go to ``self._reject``, ``self._report`` and ``self._callback_failed``, called from
inside the same ``except`` clauses as in the reference. Delivery is inlined: a subclass
that overrides ``_deliver`` is bypassed here (it is private; no handler in ws_stack does).
"""

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import OrderBookUpdate

__all__ = ["HandlerCore"]

cdef object _EMPTY_FRAME = FrameErrorReason.EMPTY_FRAME
cdef object _INTERNAL_ERROR = FrameErrorReason.INTERNAL_ERROR


cdef class HandlerCore:
    """The compiled base of ``MessageHandler``: its per-frame state and ``handle``."""

    cdef public object level_pool
    cdef public object _callbacks
    cdef public object _messages
    cdef public object _frames

    def handle(self, frame):
        """Handle one raw frame; return how many messages were delivered (0 on error)."""
        self._frames += 1
        try:
            if not frame:
                raise FrameError(_EMPTY_FRAME, "empty frame", frame)
            result = self._parse(frame)
        except FrameError as error:
            self._reject(error, frame)
            return 0
        except Exception as exc:  # a parser bug must not kill the receive loop either
            detail = f"{type(exc).__name__}: {exc}"
            self._reject(FrameError(_INTERNAL_ERROR, detail, frame), frame)
            return 0
        if type(result) is list:
            # The list may grow or shrink under a callback: iterate and count it as the
            # reference does (a list iterator, len() at the end).
            for message in result:
                _deliver(self, message)
            return len(result)
        _deliver(self, result)
        return 1


cdef inline int _deliver(HandlerCore self, object message) except -1:
    """``MessageHandler._deliver``: count one result, pass it to its class's callbacks."""
    message_class = type(message)
    try:
        self._messages[message_class] += 1
        callbacks = self._callbacks[message_class]
    except KeyError:  # not a message: a parser bug, reported like one
        detail = f"parser returned a {message_class.__name__}, not a message"
        self._report(FrameError(_INTERNAL_ERROR, detail, b"", self.venue))
        return 0
    for callback in callbacks:
        try:
            callback(message)
        except Exception as exc:  # a user callback must not kill the receive loop
            self._callback_failed(callback, exc)
    # Pooled levels were on loan to the callbacks; take them back.
    if self.level_pool is not None and type(message) is OrderBookUpdate:
        self.level_pool.give(message.bids)
        self.level_pool.give(message.asks)
    return 0
