"""The consumer of a connection: queued frames into the handler, each one timed.

The transport's receiver only counts and queues; :class:`Consumer` is the other end of
the :class:`~ws_stack.asyncio.queue.ReceiveQueue`. It drains every frame available in one
go, calls ``handler.handle`` on each, records how long that took in the connection's
latency window, and tells the frames-dropped callbacks where in the stream the queue's
overflow policy lost frames.

A frame that finds this consumer idle (waiting, nothing queued) need not go through the
queue: a transport's receiver may hand it to :meth:`Consumer.inline_delivery`'s function,
which handles it there and then, timed and recorded the same way. It would have been the
next frame handled anyway, so nothing is reordered, and a frame that is not queued cannot
be dropped; what that saves is the queue's put and get and a wake-up of this task. The
receiver decides how many frames of one read it hands over so (see transport_picows).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ws_stack.handler import MessageHandler
from ws_stack.metrics import ConnectionErrorReason, Metrics

from .queue import Frame, OverflowPolicy, QueueClosed, ReceiveQueue

__all__ = ["Consumer"]

logger = logging.getLogger(__name__)


class Consumer:
    """Hands one connection's queued frames to its handler, until the queue closes."""

    def __init__(
        self, name: str, queue: ReceiveQueue, handler: MessageHandler, metrics: Metrics
    ) -> None:
        self.name = name
        self._queue = queue
        self._handler = handler
        self._metrics = metrics
        self._drop_callbacks: list[Callable[[int], None]] = []
        self._logged_handler_error = False
        #: The handler's handle as run() took it when it started (inline delivery uses it).
        self._handle = handler.handle

    def on_frames_dropped(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(count)`` when the queue dropped frames, at that point of the stream."""
        self._drop_callbacks.append(callback)

    def inline_delivery(self) -> Callable[[Frame], bool]:
        """``deliver(frame)`` for a transport's receiver, called instead of queueing.

        When this consumer is waiting for frames and none is queued, ``deliver`` handles
        ``frame`` itself, exactly as :meth:`run` would (timed, recorded, a raising handler
        counted), and returns ``True``; otherwise it does nothing and returns ``False``,
        and the receiver queues the frame. A receiver that holds frames back (flow
        control) must queue behind them, not deliver.
        """
        queue, timed, clock = self._queue, self._metrics.latency.time_call, time.perf_counter_ns

        def deliver(frame: Frame) -> bool:
            # Idle: parked in queue.wait() on a pending future, so the queue is empty and
            # every drop so far has been told; not when it is woken, cancelled or closed.
            waiter = queue.waiter
            if waiter is None or waiter.done():
                return False
            try:
                # self._handle: what run() took (it is waiting, so it has started)
                timed(clock, self._handle, frame)
            except Exception:
                self._handler_failed()
            return True

        return deliver

    async def run(self) -> None:
        queue = self._queue
        items = queue.drain()
        handle = self._handle = self._handler.handle
        timed, clock = self._metrics.latency.time_call, time.perf_counter_ns
        # Frames are only dropped while this task waits (handle() never awaits), so a
        # batch tells where its drops were: before it (the oldest went) or after it.
        drops_first = queue.policy is OverflowPolicy.DROP_OLDEST
        dropped = queue.dropped
        while True:
            try:
                await queue.wait()
            except QueueClosed:
                return
            lost = queue.dropped - dropped
            if lost and drops_first:
                dropped += lost
                self._frames_dropped(lost)
            while items:
                try:
                    timed(clock, handle, items.popleft())  # handle(frame), timed
                except Exception:
                    self._handler_failed()
            if lost and not drops_first:
                dropped += lost
                self._frames_dropped(lost)
            queue.release()

    def _frames_dropped(self, count: int) -> None:
        for callback in self._drop_callbacks:
            try:
                callback(count)
            except Exception:
                logger.exception("%s: frames-dropped callback %r raised", self.name, callback)

    def _handler_failed(self) -> None:
        # MessageHandler.handle never raises by contract; a subclass that does is a bug,
        # counted and logged once, and the next frame is handled as usual.
        self._metrics.count_error(ConnectionErrorReason.HANDLER_EXCEPTION)
        if not self._logged_handler_error:
            self._logged_handler_error = True
            logger.exception("%s: handler raised out of handle()", self.name)
