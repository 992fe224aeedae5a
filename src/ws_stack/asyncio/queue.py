"""The bounded queue between a connection's reader task and its handler task.

Market data must not pile up without bound behind a slow handler, and it must not be lost
without anyone knowing. :class:`ReceiveQueue` holds at most ``maxsize`` frames and, when
full, follows an explicit :class:`OverflowPolicy`; every frame it drops is counted.

It is a ``deque`` plus one waiter future rather than an ``asyncio.Queue``: one producer,
one consumer, and the consumer drains everything available in one go, so the per-frame
cost is an append and a popleft.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from typing import TYPE_CHECKING

from ws_stack import implementation
from ws_stack.exceptions import ConfigError

__all__ = ["Frame", "OverflowPolicy", "QueueClosed", "ReceiveQueue"]

Frame = bytes | str


class OverflowPolicy(enum.Enum):
    """What a full queue does with one more frame."""

    #: Drop the oldest queued frame to make room: the handler sees the freshest data.
    DROP_OLDEST = "drop_oldest"
    #: Drop the incoming frame: the handler sees an unbroken prefix.
    DROP_NEWEST = "drop_newest"
    #: Never drop: the reader waits for room, which pushes back on the socket (the venue
    #: may then disconnect a slow client).
    BLOCK = "block"


class QueueClosed(Exception):
    """The queue was closed and is empty: the consumer should stop."""


class _PureQueueCore:
    """What :class:`ReceiveQueue` does without awaiting: the frames, the waiters, the drops.

    The reference of ``ws_stack.asyncio._queue.QueueCore``, its compiled twin, which
    :class:`ReceiveQueue` derives from where it is built: ``put_nowait`` runs for every
    frame a transport receives.
    """

    __slots__ = ("_closed", "_items", "_putter", "dropped", "maxsize", "policy", "waiter")

    def __init__(self, maxsize: int, policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST) -> None:
        if maxsize < 1:
            raise ConfigError(f"queue size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.policy = policy
        self._items: deque[Frame] = deque()
        #: What the consumer awaits in :meth:`wait` (read-only outside): pending while it
        #: waits on an empty queue; ``None``, or done, otherwise. The consumer's inline
        #: delivery reads it.
        self.waiter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None
        self._closed = False
        #: Frames dropped by the overflow policy since creation.
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def put_nowait(self, frame: Frame) -> bool:
        """Queue ``frame`` under a dropping policy; ``False`` if it was the one dropped.

        Under ``BLOCK`` a full queue refuses the frame without counting it: the caller
        must wait with :meth:`put` instead.
        """
        items = self._items
        if len(items) >= self.maxsize:
            if self.policy is OverflowPolicy.DROP_OLDEST:
                items.popleft()
                self.dropped += 1
            elif self.policy is OverflowPolicy.DROP_NEWEST:
                self.dropped += 1
                return False
            else:
                return False
        items.append(frame)
        getter = self.waiter
        if getter is not None:
            self.waiter = None
            if not getter.done():
                getter.set_result(None)
        return True

    def get_nowait(self) -> Frame:
        """The oldest frame; ``IndexError`` if there is none."""
        frame = self._items.popleft()
        self._wake_putter()
        return frame

    def drain(self) -> deque[Frame]:
        """The queued frames, to pop from the left; wakes a blocked producer when emptied.

        The consumer pops from the returned deque directly (no call per frame) and calls
        :meth:`release` when done, so a ``BLOCK`` producer can continue.
        """
        return self._items

    def release(self) -> None:
        """Tell a producer waiting under ``BLOCK`` that there may be room now."""
        self._wake_putter()

    def close(self) -> None:
        """No more frames: the consumer drains what is left, then gets :class:`QueueClosed`."""
        self._closed = True
        for attr in ("waiter", "_putter"):
            waiter = getattr(self, attr)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _wake_putter(self) -> None:
        putter = self._putter
        if putter is not None:
            self._putter = None
            if not putter.done():
                putter.set_result(None)


_compiled = implementation.compiled("ws_stack.asyncio._queue")
if TYPE_CHECKING:
    _QueueCore = _PureQueueCore
else:
    #: What :class:`ReceiveQueue` derives from: the compiled twin when built, else the
    #: reference.
    _QueueCore = _PureQueueCore if _compiled is None else _compiled.QueueCore


class ReceiveQueue(_QueueCore):
    """A bounded single-producer, single-consumer frame queue with counted drops.

    ``ReceiveQueue(maxsize, policy)``. What does not await (put_nowait, drain and the
    rest) is its core's; the waits are here.
    """

    __slots__ = ()

    async def put(self, frame: Frame) -> None:
        """Queue ``frame``; under ``BLOCK``, wait for room first."""
        while not self.put_nowait(frame):
            if self.policy is not OverflowPolicy.BLOCK or self._closed:
                return
            await self.room()

    async def room(self) -> None:
        """Return once the consumer has taken frames (or the queue is closed): a producer
        holding frames back (see ``put`` under ``BLOCK``) may try again."""
        if self._closed:
            return
        putter = asyncio.get_running_loop().create_future()
        self._putter = putter
        await putter

    async def wait(self) -> None:
        """Return once a frame is queued; raise :class:`QueueClosed` if closed and empty."""
        while not self._items:
            if self._closed:
                raise QueueClosed
            getter = asyncio.get_running_loop().create_future()
            self.waiter = getter
            try:
                await getter
            finally:
                self.waiter = None

    async def get(self) -> Frame:
        await self.wait()
        return self.get_nowait()
