# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of the picows listener's frame callback: ``_Listener._receiver`` in
:mod:`ws_stack.asyncio.transport_picows`.

picows calls the listener's ``on_ws_frame`` for every frame. The reference is a Python
closure; this is the same closure, line for line, compiled: the same reads of the frame,
the same calls into the sink, the queue and the listener's cold paths (``_other_frame``,
``_refuse``, ``_hold``, which stay in Python), in the same order. What it saves is the
interpreter's work around them, about a twentieth of a frame's instructions through a
picows connection; and, where the metrics are a ``Metrics``, it adds to the two frame
counters in their slots (``_slots.pxd``), without the attribute protocol: as much again.
It does not import picows: the listener hands it the message types and the close code
it compares with, so it builds and imports whether picows is there or not.
"""

from cpython.object cimport PyTypeObject

from ws_stack._slots cimport Py_TYPE, add_to_slot, slot, slot_offset

from ws_stack.asyncio.queue import OverflowPolicy
from ws_stack.metrics import Metrics

__all__ = ["receiver"]

cdef object _BLOCK = OverflowPolicy.BLOCK
# Where a Metrics keeps its frame counters (-1: not a plain slot; then the attributes).
cdef Py_ssize_t _FRAMES = slot_offset(Metrics, "frames")
cdef Py_ssize_t _BYTES = slot_offset(Metrics, "bytes")


def receiver(listener, binary, text, invalid_text, Py_ssize_t intake):
    """``on_ws_frame`` of ``listener`` (a ``_Listener``), as its ``_receiver`` makes it:
    ``binary`` and ``text`` are picows' message types, ``invalid_text`` the close code for a
    text message that is not UTF-8, ``intake`` the messages let into the queue a turn."""
    sink = listener.sink
    metrics, tap, queue = sink.metrics, sink.tap, sink.queue
    # The frame counters added to in their slots where the metrics are a Metrics (what a
    # connection has), else through their attributes.
    cdef bint in_slots = (Py_TYPE(metrics) == <PyTypeObject*>Metrics
                          and _FRAMES > 0 and _BYTES > 0)  # fmt: skip
    put = queue.put_nowait
    cdef bint blocks = queue.policy is _BLOCK
    cdef list fragments = listener._fragments
    other, refuse = listener._other_frame, listener._refuse
    held, hold = listener._held, listener._hold
    queued = queue.drain()
    # Inline delivery (FrameSink.deliver) takes at most as many messages of one read as the
    # queue could hold: past that, the rest of the read is queued, and the queue's overflow
    # policy decides what of it is kept, as it would have.
    deliver = sink.deliver
    cdef Py_ssize_t inline_limit = min(<Py_ssize_t>queue.maxsize, intake)
    cdef Py_ssize_t delivered = 0  # messages of the current read delivered inline

    def on_ws_frame(transport, frame):
        nonlocal delivered
        # The common case first, with as few reads of the frame as possible: a whole
        # message in one frame, no reserved bit, no fragmented message in progress.
        if frame.fin and not (frame.rsv1 or frame.rsv2 or frame.rsv3) and not fragments:
            msg_type = frame.msg_type
            if msg_type is binary:
                data = frame.get_payload_as_bytes()
            elif msg_type is text:
                try:
                    data = frame.get_payload_as_utf8_text()
                except UnicodeDecodeError as exc:
                    refuse(transport, invalid_text, f"invalid UTF-8: {exc}")
                    return
            else:
                data = other(transport, frame, msg_type)
                if data is None:
                    return
        else:
            data = other(transport, frame, frame.msg_type)
            if data is None:
                return
        if in_slots and slot(metrics, _FRAMES) != NULL and slot(metrics, _BYTES) != NULL:
            add_to_slot(metrics, _FRAMES, 1)
            add_to_slot(metrics, _BYTES, len(data))
        else:
            metrics.frames += 1
            metrics.bytes += len(data)
        if tap is not None:
            tap(data)
        if held:
            hold(data)  # behind what is held, never past it
        elif delivered < inline_limit and deliver(data):  # handled now: the consumer idles
            delivered += 1
        elif len(queued) >= intake or (not put(data) and blocks):
            hold(data)
        # A read that ends on a control frame or a fragment (which return above) leaves its
        # count to the next read: fewer messages inline, never more.
        if frame.last_in_buffer:
            delivered = 0

    return on_ws_frame
