"""The receive queue (``ws_stack.asyncio.queue``): the per-frame cost between socket and handler."""

from __future__ import annotations

from .asv_support import CALLS, Batched, require
from .instructions import Counted
from .venue_frames import frame


class QueueFrame(Batched):
    """Queue one frame: with room (put, then the consumer's get), or full (drop the oldest).

    "full" is a slow consumer under the default DROP_OLDEST policy: every frame in pushes
    the oldest one out and counts it.
    """

    version = 2
    params = [["room", "full"]]
    param_names = ["queue"]

    def setup(self, queue: str) -> None:
        module = require("ws_stack.asyncio.queue", "ReceiveQueue", "OverflowPolicy")
        self.queue = module.ReceiveQueue(1000, module.OverflowPolicy.DROP_OLDEST)
        self.frame = frame("gateio", "json", "order_book")
        if queue == "full":
            for _ in range(1000):
                self.queue.put_nowait(self.frame)

    def time_queue_frame(self, queue: str) -> None:
        receive_queue, data = self.queue, self.frame
        for _ in CALLS:
            receive_queue.put_nowait(data)
            if len(receive_queue) < 1000:
                receive_queue.get_nowait()


class QueueFrameInstructions(Counted):
    twin = QueueFrame
    track_queue_frame = Counted.of("time_queue_frame")
