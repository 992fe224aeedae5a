"""The receive queue (``ws_stack.asyncio.queue``): the per-frame cost between socket and handler."""

from __future__ import annotations

from .common import frame, require


class QueueFrame:
    """Queue one frame: with room (put, then the consumer's get), or full (drop the oldest).

    "full" is a slow consumer under the default DROP_OLDEST policy: every frame in pushes
    the oldest one out and counts it.
    """

    version = 1
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
        self.queue.put_nowait(self.frame)
        if len(self.queue) < 1000:
            self.queue.get_nowait()
