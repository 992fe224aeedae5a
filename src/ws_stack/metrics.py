"""Connection metrics: plain counters, a latency window, and an immutable snapshot.

Pure: the receive path bumps counters and records latencies, :meth:`Metrics.snapshot`
turns them (plus the handler's own statistics) into a :class:`MetricsSnapshot` at a time
the caller passes in. Nothing here reads a clock or touches a socket (a caller that times
a call gives the clock), so per-frame cost is a few attribute updates and the maths
happens only when someone asks.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

import msgspec

from ws_stack import implementation
from ws_stack.exceptions import ConfigError
from ws_stack.handler import HandlerStats

_T = TypeVar("_T")

__all__ = [
    "CONNECTION_REASONS",
    "ConnectionErrorReason",
    "LatencyWindow",
    "Metrics",
    "MetricsSnapshot",
    "merge_snapshots",
]


class ConnectionErrorReason(enum.Enum):
    """Connection-level failures, counted next to the handler's frame errors."""

    #: The TCP connection or WebSocket handshake failed (refused, bad status...).
    CONNECT_FAILED = "connect_failed"
    #: No handshake within the connect timeout.
    CONNECT_TIMEOUT = "connect_timeout"
    #: An established connection was closed by the peer or the network.
    CONNECTION_LOST = "connection_lost"
    #: No frame within the dead-peer timeout: the connection was dropped on purpose.
    DEAD_PEER = "dead_peer"
    #: A frame exceeded ``max_size`` (after decompression): refused unread, and the
    #: connection closed with 1009 (message too big) and re-established.
    OVERSIZED_FRAME = "oversized_frame"
    #: The peer broke the WebSocket protocol (a continuation of nothing, reserved bits
    #: without an extension, a bad opcode or length): closed with 1002 and re-established.
    PROTOCOL_ERROR = "protocol_error"
    #: A text message that is not UTF-8: closed with 1007, as RFC 6455 (8.1) requires,
    #: and re-established.
    INVALID_TEXT = "invalid_text"
    #: The venue refused a request (a subscription, usually).
    VENUE_ERROR = "venue_error"
    #: A send (subscribe, heartbeat) failed on a connection that was going away.
    SEND_FAILED = "send_failed"
    #: The handler raised out of ``handle`` (it should not; counted, frame skipped).
    HANDLER_EXCEPTION = "handler_exception"


class _PureLatencyWindow:
    """The most recent ``capacity`` latency samples (ns), for percentiles on demand.

    Recording is a list store and two additions; sorting happens in :meth:`percentile`.
    A window rather than a histogram: exact percentiles of recent behaviour, which is
    what a live view wants. The count and the total of every sample ever recorded are
    kept too, so a monitor can compute the average over any interval.

    The reference of ``ws_stack._metrics.LatencyWindow``, its compiled twin, which
    :class:`LatencyWindow` is where it is built.
    """

    __slots__ = ("_capacity", "_count", "_samples", "_total")

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ConfigError(f"LatencyWindow capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._samples: list[int] = [0] * capacity
        self._count = 0
        self._total = 0

    def record(self, nanoseconds: int) -> None:
        self._samples[self._count % self._capacity] = nanoseconds
        self._count += 1
        self._total += nanoseconds

    def time_call(
        self, clock: Callable[[], int], function: Callable[[_T], object], argument: _T
    ) -> None:
        """``function(argument)``, its time by ``clock()`` (ns) recorded, also when it
        raises. The caller gives the clock: nothing in this module reads one."""
        start = clock()
        try:
            function(argument)
        finally:
            self.record(clock() - start)

    @property
    def count(self) -> int:
        """Samples recorded since creation (the window keeps the last ``capacity``)."""
        return self._count

    @property
    def total(self) -> int:
        """Sum of every sample recorded since creation, in ns."""
        return self._total

    def samples(self) -> list[int]:
        """The samples in the window, in no particular order."""
        return self._samples[: min(self._count, self._capacity)]

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0..100) of the window in ns, ``None`` if empty."""
        return percentile(self.samples(), q)


def percentile(samples: list[int], q: float) -> float | None:
    """Nearest-rank percentile of ``samples`` (unsorted), ``None`` if there are none."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return float(ordered[int(rank) - 1])


_compiled = implementation.compiled("ws_stack._metrics")
#: The latency window: the compiled twin where it is built (the same API and figures,
#: its samples and the handler's times kept in C), else the reference.
LatencyWindow: type[_PureLatencyWindow] = (
    _PureLatencyWindow if _compiled is None else _compiled.LatencyWindow
)


class MetricsSnapshot(msgspec.Struct, frozen=True):
    """Everything one connection (or a group of them) can tell about itself, at one time."""

    state: str
    #: Seconds since the connection (for a group: the most recent one) was established;
    #: 0 while not connected.
    uptime_s: float
    frames: int
    bytes: int
    #: Messages delivered by the handler, per :class:`~ws_stack.messages.WebSocketMessageType`
    #: value (a frame carrying a batch of trades counts each trade).
    messages_by_type: dict[str, int]
    #: Handler frame errors (per :class:`~ws_stack.exceptions.FrameErrorReason`) and
    #: connection errors (per :class:`ConnectionErrorReason`), by reason value.
    errors: dict[str, int]
    reconnects: int
    queue_depth: int
    queue_capacity: int
    queue_dropped: int
    #: Handler latency percentiles over the recent window, in microseconds.
    latency_p50_us: float | None
    latency_p99_us: float | None
    subscriptions: int = 0
    connections: int = 1
    #: Handler calls timed since start and their total time in microseconds: the
    #: average over an interval is the difference of two snapshots' totals over the
    #: difference of their counts.
    latency_count: int = 0
    latency_sum_us: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Metrics:
    """Mutable counters of one connection; the asyncio layer writes, snapshots read.

    Slots, which Python reads and writes fastest and the compiled picows receiver adds to
    in place (``frames`` and ``bytes``, every frame: ``_slots.pxd``'s ``add_to_slot``)."""

    __slots__ = ("bytes", "errors", "frames", "latency", "reconnects")

    def __init__(self, latency_window: int = 4096) -> None:
        self.frames = 0
        self.bytes = 0
        self.reconnects = 0
        self.errors: Counter[str] = Counter()
        self.latency = LatencyWindow(latency_window)

    def count_error(self, reason: ConnectionErrorReason) -> None:
        self.errors[reason.value] += 1

    def snapshot(
        self,
        *,
        state: str,
        uptime_s: float,
        queue_depth: int,
        queue_capacity: int,
        queue_dropped: int,
        handler_stats: HandlerStats | None = None,
        subscriptions: int = 0,
    ) -> MetricsSnapshot:
        """A frozen view of the counters, merged with the handler's statistics."""
        errors: Counter[str] = Counter(self.errors)
        messages: dict[str, int] = {}
        if handler_stats is not None:
            errors.update(handler_stats.errors)
            messages = dict(handler_stats.messages)
        samples = self.latency.samples()
        return MetricsSnapshot(
            state=state,
            uptime_s=uptime_s,
            frames=self.frames,
            bytes=self.bytes,
            messages_by_type=messages,
            errors=dict(errors),
            reconnects=self.reconnects,
            queue_depth=queue_depth,
            queue_capacity=queue_capacity,
            queue_dropped=queue_dropped,
            latency_p50_us=_us(percentile(samples, 50)),
            latency_p99_us=_us(percentile(samples, 99)),
            subscriptions=subscriptions,
            latency_count=self.latency.count,
            latency_sum_us=self.latency.total / 1000.0,
        )


def _us(nanoseconds: float | None) -> float | None:
    return None if nanoseconds is None else nanoseconds / 1000.0


def merge_snapshots(
    snapshots: Iterable[MetricsSnapshot],
    *,
    state: str,
    latency_samples: list[int],
    handler_stats: Iterable[HandlerStats] = (),
) -> MetricsSnapshot:
    """One snapshot for a group of connections.

    Counters add up; percentiles are recomputed from the pooled ``latency_samples``
    (percentiles themselves do not add). Handler statistics are merged from
    ``handler_stats`` rather than from the snapshots, because connections of a group may
    share one handler and its counts must not be added once per connection.
    """
    parts = list(snapshots)
    errors: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for part in parts:
        # Only connection-level reasons: handler reasons come from handler_stats.
        errors.update({k: v for k, v in part.errors.items() if k in CONNECTION_REASONS})
    for stats in handler_stats:
        errors.update(stats.errors)
        messages.update(stats.messages)
    uptimes = [part.uptime_s for part in parts if part.uptime_s > 0]
    return MetricsSnapshot(
        state=state,
        uptime_s=min(uptimes) if uptimes else 0.0,
        frames=sum(part.frames for part in parts),
        bytes=sum(part.bytes for part in parts),
        messages_by_type=dict(messages),
        errors=dict(errors),
        reconnects=sum(part.reconnects for part in parts),
        queue_depth=sum(part.queue_depth for part in parts),
        queue_capacity=sum(part.queue_capacity for part in parts),
        queue_dropped=sum(part.queue_dropped for part in parts),
        latency_p50_us=_us(percentile(latency_samples, 50)),
        latency_p99_us=_us(percentile(latency_samples, 99)),
        subscriptions=sum(part.subscriptions for part in parts),
        connections=len(parts),
        latency_count=sum(part.latency_count for part in parts),
        latency_sum_us=sum(part.latency_sum_us for part in parts),
    )


#: The values of :class:`ConnectionErrorReason`: in a snapshot's ``errors`` every other
#: reason is a handler's frame error.
CONNECTION_REASONS = frozenset(reason.value for reason in ConnectionErrorReason)
