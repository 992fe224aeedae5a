"""The consumer of a connection: queued frames into the handler, each one timed.

The transport's receiver only counts and queues; :class:`Consumer` is the other end of
the :class:`~ws_stack.asyncio.queue.ReceiveQueue`. It drains every frame available in one
go, calls ``handler.handle`` on each, records how long that took in the connection's
latency window, and tells the frames-dropped callbacks where in the stream the queue's
overflow policy lost frames.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ws_stack.handler import MessageHandler
from ws_stack.metrics import ConnectionErrorReason, Metrics

from .queue import OverflowPolicy, QueueClosed, ReceiveQueue

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

    def on_frames_dropped(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(count)`` when the queue dropped frames, at that point of the stream."""
        self._drop_callbacks.append(callback)

    async def run(self) -> None:
        queue = self._queue
        items = queue.drain()
        handle = self._handler.handle
        record = self._metrics.latency.record
        clock = time.perf_counter_ns
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
                frame = items.popleft()
                start = clock()
                try:
                    handle(frame)
                except Exception:
                    self._handler_failed()
                record(clock() - start)
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
