"""Keeping a local order book in sync with the venue: snapshot, buffered deltas, live.

Both venues document the same recipe: subscribe to the deltas, buffer them, fetch a REST
snapshot, drop the buffered deltas the snapshot already contains, apply the rest, and keep
applying as long as the sequence numbers follow on. When they do not (a gap), start over
with a new snapshot. :class:`BookSync` is that recipe as a pure state machine:

* :meth:`BookSync.apply` takes every update the handler delivers and answers whether a
  snapshot should be fetched now;
* :meth:`BookSync.apply_snapshot` takes the snapshot once fetched;
* the caller (``ws_stack.asyncio.stream``) does the fetching.

The sequence rule itself is :class:`~ws_stack.book.LocalOrderBook`'s; this module decides
what to do around it, and counts resyncs.
"""

from __future__ import annotations

import enum
from collections import deque

import msgspec

from ws_stack.book import ApplyResult, LocalOrderBook
from ws_stack.exceptions import ConfigError
from ws_stack.messages import OrderBookUpdate, Venue

__all__ = ["BookSync", "SyncPhase", "SyncStats"]


class SyncPhase(enum.Enum):
    #: No usable book: deltas are buffered until a snapshot arrives.
    BUFFERING = "buffering"
    #: The book follows the deltas as they come.
    LIVE = "live"
    #: Frames of the book's connection were dropped (a full receive queue): the book is
    #: kept but not trusted until a delta proves that none of its own was among them. A
    #: delta proves it only if it arrived after the lost frames: one that follows on from
    #: the book then shows that the book missed nothing up to it.
    UNVERIFIED = "unverified"


class SyncStats(msgspec.Struct, frozen=True):
    phase: str
    #: Times the book was rebuilt because a delta did not follow on (a sequence gap).
    resyncs: int
    #: Times the book was rebuilt because the connection was re-established.
    restarts: int
    #: Snapshots applied (REST or pushed).
    snapshots: int
    #: Snapshots that did not join up with the buffered deltas and had to be fetched again.
    stale_snapshots: int
    deltas_applied: int
    #: Buffered deltas dropped because the buffer was full (the oldest go first).
    buffer_dropped: int
    buffered: int


class BookSync:
    """Snapshot -> buffered deltas -> live, for one symbol of one venue."""

    def __init__(self, venue: Venue, symbol: str, *, max_buffer: int = 10_000) -> None:
        if max_buffer < 1:
            raise ConfigError(f"BookSync max_buffer must be at least 1, got {max_buffer}")
        self.book = LocalOrderBook(venue, symbol)
        self.phase = SyncPhase.BUFFERING
        self._buffer: deque[OrderBookUpdate] = deque()
        self._max_buffer = max_buffer
        self._requested = False
        #: Bumped by restart(): a snapshot requested before it describes a lost socket.
        self._epoch = 0
        self.resyncs = 0
        self.restarts = 0
        self.snapshots = 0
        self.stale_snapshots = 0
        self.deltas_applied = 0
        self.buffer_dropped = 0
        #: While buffering after frames were lost: how many of the buffered deltas, from
        #: the oldest, arrived before the loss and so cannot prove the book whole (``None``:
        #: no loss to prove harmless).
        self._before_loss: int | None = None

    @property
    def symbol(self) -> str:
        return self.book.symbol

    @property
    def live(self) -> bool:
        return self.phase is SyncPhase.LIVE

    def apply(self, update: OrderBookUpdate) -> bool:
        """Apply or buffer one update; ``True`` when the caller should fetch a snapshot now.

        A pushed snapshot (MEXC top-N, Gate.io ``full``) is as good as a REST one. Deltas
        are copied when buffered, since pooled levels are only on loan to callbacks.
        """
        if update.is_snapshot:
            # Pushed in the stream: it arrived after any frames lost so far.
            self._before_loss = None
            self.apply_snapshot(update)
            return self._wants_snapshot()
        if self.phase is not SyncPhase.BUFFERING:
            result = self.book.apply(update)
            if result is ApplyResult.APPLIED:
                # It follows on from the book, and it arrived after any lost frames (they
                # were reported before it was handed over): nothing of this book was lost.
                self.phase = SyncPhase.LIVE
                self.deltas_applied += 1
                return False
            if result is not ApplyResult.GAP:
                return False  # stale: already in the book
            self.resyncs += 1
            self._start_over()
        self._buffer_delta(update)
        return self._wants_snapshot()

    def apply_snapshot(self, snapshot: OrderBookUpdate, token: int | None = None) -> bool:
        """Apply a snapshot and replay the buffered deltas; ``True`` if they joined up.

        The book is then live, or ``UNVERIFIED`` when frames were lost since the deltas
        began to be buffered and no replayed delta that arrived after them followed on:
        a REST snapshot may be older than a delta among the lost frames, and the deltas
        buffered before the loss cannot tell. When the buffered deltas do not join up with
        the snapshot (the snapshot is older than the first buffered delta), the book stays
        buffering and asks for another.
        ``token`` is what :meth:`snapshot_requested` returned for a fetched snapshot: one
        requested before a :meth:`restart` is dropped (counted as stale), since nothing
        would tell the deltas lost with the old socket apart from those still to come.
        """
        if token is not None and token != self._epoch:
            self.stale_snapshots += 1
            return False
        self._requested = False
        self.snapshots += 1
        self.book.apply(snapshot)
        buffer = self._buffer
        before_loss = self._before_loss
        proved = before_loss is None
        while buffer:
            result = self.book.apply(buffer[0])
            if result is ApplyResult.GAP:
                # Keep the delta that did not fit: the next snapshot may cover up to it.
                self.stale_snapshots += 1
                self.phase = SyncPhase.BUFFERING
                self._before_loss = before_loss
                return False
            buffer.popleft()
            if before_loss:
                before_loss -= 1  # it arrived before the lost frames: no proof
            elif result is ApplyResult.APPLIED:
                proved = True  # it arrived after them, and follows on
            if result is ApplyResult.APPLIED:
                self.deltas_applied += 1
        self._before_loss = None
        # Not proved: as for a live book whose frames were dropped, the next delta settles it.
        self.phase = SyncPhase.LIVE if proved else SyncPhase.UNVERIFIED
        return True

    def frames_dropped(self) -> None:
        """Frames of this book's connection were dropped unread; see ``UNVERIFIED``.

        Call it at the point of the stream where they were lost: every update applied
        afterwards arrived after them. The next delta settles it: one that follows on
        makes the book live again, one that does not is a gap (resync). No snapshot is
        fetched before either. While buffering, the snapshot to come is not proof enough
        on its own (see :meth:`apply_snapshot`).
        """
        if self.phase is SyncPhase.BUFFERING:
            self._before_loss = len(self._buffer)
        elif self.phase is SyncPhase.LIVE:
            self.phase = SyncPhase.UNVERIFIED

    def snapshot_requested(self) -> int:
        """The caller started fetching a snapshot: do not ask again until it answers.

        Returns the token to pass to :meth:`apply_snapshot` or :meth:`snapshot_failed`.
        """
        self._requested = True
        return self._epoch

    def snapshot_failed(self, token: int | None = None) -> None:
        """The fetch failed: the next delta asks for a snapshot again."""
        if token is None or token == self._epoch:
            self._requested = False

    def restart(self) -> None:
        """Throw the book away (the connection was lost) and buffer again.

        A snapshot still being fetched is dropped when it arrives (see ``token``), and the
        next delta asks for a new one.
        """
        if self.phase is not SyncPhase.BUFFERING:
            self.restarts += 1
        self._epoch += 1
        self._requested = False
        self._start_over()
        # Frames lost on the old socket are older than the snapshot the new one asks for.
        self._before_loss = None

    @property
    def needs_snapshot(self) -> bool:
        """Whether a snapshot is wanted and not yet being fetched."""
        return self._wants_snapshot()

    def stats(self) -> SyncStats:
        return SyncStats(
            phase=self.phase.value,
            resyncs=self.resyncs,
            restarts=self.restarts,
            snapshots=self.snapshots,
            stale_snapshots=self.stale_snapshots,
            deltas_applied=self.deltas_applied,
            buffer_dropped=self.buffer_dropped,
            buffered=len(self._buffer),
        )

    def _start_over(self) -> None:
        # An unverified book's lost frames came before every delta buffered from now on.
        self._before_loss = 0 if self.phase is SyncPhase.UNVERIFIED else None
        self.book.invalidate()
        self.phase = SyncPhase.BUFFERING
        self._buffer.clear()

    def _buffer_delta(self, update: OrderBookUpdate) -> None:
        if len(self._buffer) >= self._max_buffer:
            self._buffer.popleft()
            self.buffer_dropped += 1
            if self._before_loss:
                self._before_loss -= 1
        self._buffer.append(update.copy())

    def _wants_snapshot(self) -> bool:
        return self.phase is SyncPhase.BUFFERING and not self._requested
