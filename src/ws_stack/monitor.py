"""Production monitoring, the pure part: samples, figures per interval, alert rules.

A :class:`Sample` is what the monitored connections and the process could tell at one
time (cumulative counters, as read). Two consecutive samples make an
:class:`IntervalReport`: frames per second, error rate, average handler time and the
rest, computed over that interval rather than since start, so a burst of errors an hour
in is not diluted by the hour before it. An :class:`AlertTracker` holds the
:class:`AlertRule` s and turns each report into the alerts raised and cleared by it: a
rule raises once when its measure crosses the threshold and clears once when it is back
under, never once per sample. The asyncio layer (:mod:`ws_stack.asyncio.monitor`) takes
the samples; nothing here reads a clock, a socket or a file.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping

import msgspec

from ws_stack.exceptions import ConfigError
from ws_stack.metrics import CONNECTION_REASONS, MetricsSnapshot

__all__ = [
    "DEFAULT_RULES",
    "AlertEvent",
    "AlertRule",
    "AlertTracker",
    "ConnectionSample",
    "IntervalReport",
    "Measure",
    "ProcessSample",
    "Sample",
    "Severity",
    "StreamSample",
    "configure_rules",
    "frame_errors",
    "interval_report",
    "parse_rule_setting",
]


class Severity(enum.Enum):
    WARNING = "warning"
    CRITICAL = "critical"


class Measure(enum.Enum):
    """What an alert rule watches; every one is a figure of one interval."""

    #: Average handler time per frame over the interval, in microseconds.
    HANDLER_LATENCY_AVG_US = "handler_latency_avg_us"
    #: Frames the handler could not handle over frames received, 0..1.
    ERROR_RATE = "error_rate"
    #: Connections down at the sample or dropped (and perhaps back) during the interval.
    CONNECTIONS_LOST = "connections_lost"


class AlertRule(msgspec.Struct, frozen=True):
    """Raise an alert of ``severity`` while ``measure`` is above ``threshold``."""

    name: str
    measure: Measure
    threshold: float
    severity: Severity

    def describe(self) -> str:
        return f"{self.measure.value} > {self.threshold:g}"


#: The default rules: average processing time above 100 us warns and above
#: 200 us alerts; an error rate above 1 % warns and above 5 % alerts; a lost connection
#: alerts.
DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule("slow_handler", Measure.HANDLER_LATENCY_AVG_US, 100.0, Severity.WARNING),
    AlertRule("very_slow_handler", Measure.HANDLER_LATENCY_AVG_US, 200.0, Severity.CRITICAL),
    AlertRule("high_error_rate", Measure.ERROR_RATE, 0.01, Severity.WARNING),
    AlertRule("very_high_error_rate", Measure.ERROR_RATE, 0.05, Severity.CRITICAL),
    AlertRule("connection_lost", Measure.CONNECTIONS_LOST, 0.0, Severity.CRITICAL),
)

#: The setting that switches a rule off (``--alert connection_lost=off``).
OFF = "off"


def parse_rule_setting(text: str) -> tuple[str, float | None]:
    """Parse ``NAME=THRESHOLD`` (or ``NAME=off``) into ``(name, threshold or None)``."""
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise ConfigError(
            f"bad alert setting {text!r}: write NAME=THRESHOLD or NAME={OFF}, "
            f"e.g. high_error_rate=0.02"
        )
    if raw.lower() == OFF:
        return name, None
    try:
        threshold = float(raw)
    except ValueError:
        raise ConfigError(
            f"bad alert setting {text!r}: the threshold must be a number or {OFF!r}"
        ) from None
    return name, threshold


def configure_rules(
    settings: Mapping[str, float | None], rules: Iterable[AlertRule] = DEFAULT_RULES
) -> tuple[AlertRule, ...]:
    """``rules`` with the thresholds of ``settings`` (``None`` switches a rule off).

    Raises :class:`ConfigError` for a name that is no rule or a threshold that is not a
    finite number >= 0.
    """
    rules = tuple(rules)
    known = {rule.name: rule for rule in rules}
    for name, threshold in settings.items():
        if name not in known:
            raise ConfigError(f"unknown alert rule {name!r}: the rules are " + ", ".join(known))
        if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
            raise ConfigError(
                f"alert rule {name!r}: the threshold must be a finite number "
                f">= 0, got {threshold!r}"
            )
    configured = []
    for rule in rules:
        if rule.name not in settings:
            configured.append(rule)
        elif (threshold := settings[rule.name]) is not None:
            configured.append(msgspec.structs.replace(rule, threshold=threshold))
    return tuple(configured)


# -- samples -----------------------------------------------------------------------


class ProcessSample(msgspec.Struct, frozen=True):
    #: CPU time of the process (user + system), in seconds.
    cpu_s: float
    #: Resident memory, in bytes.
    rss_bytes: int
    #: Garbage-collector runs since start, per generation.
    gc_collections: tuple[int, ...]


class ConnectionSample(msgspec.Struct, frozen=True):
    #: Unique among the sample's connections (the Prometheus ``connection`` label).
    name: str
    #: The connection's own snapshot; its handler counts are in :class:`StreamSample`.
    metrics: MetricsSnapshot


class StreamSample(msgspec.Struct, frozen=True):
    """One monitored stream (or group, or connection): its connections, handler, books."""

    venue: str
    connections: tuple[ConnectionSample, ...]
    #: Messages delivered by the stream's handler, by message type.
    messages: dict[str, int]
    #: The handler's frame errors, by reason.
    frame_errors: dict[str, int]
    books_live: int = 0
    books_out_of_sync: int = 0
    resyncs: int = 0


class Sample(msgspec.Struct, frozen=True):
    #: Monotonic clock, seconds: only differences mean something.
    monotonic_s: float
    #: Wall clock, seconds since the epoch (for the export).
    time: float
    streams: tuple[StreamSample, ...]
    process: ProcessSample

    def connections(self) -> dict[str, ConnectionSample]:
        return {c.name: c for stream in self.streams for c in stream.connections}


# -- one interval --------------------------------------------------------------------


class IntervalReport(msgspec.Struct, frozen=True):
    """What happened between two samples; every rate is over ``interval_s``."""

    time: float
    interval_s: float
    connections: int
    connections_lost: int
    frames: int
    frames_per_s: float
    bytes_per_s: float
    messages: int
    frame_errors: int
    error_rate: float
    reconnects: int
    queue_dropped: int
    resyncs: int
    books_live: int
    books_out_of_sync: int
    #: Average handler time per frame over the interval; ``None`` without frames.
    handler_latency_avg_us: float | None
    #: Percentiles over each connection's recent window (the largest of them).
    handler_latency_p99_us: float | None
    cpu_percent: float
    rss_bytes: int
    gc_collections: int
    #: Names of the rules active after this interval.
    alerts: tuple[str, ...] = ()

    def value_of(self, measure: Measure) -> float | None:
        if measure is Measure.HANDLER_LATENCY_AVG_US:
            return self.handler_latency_avg_us
        if measure is Measure.ERROR_RATE:
            return self.error_rate
        return float(self.connections_lost)

    def describe(self) -> str:
        """One line for a log."""
        latency = (
            "-" if self.handler_latency_avg_us is None else f"{self.handler_latency_avg_us:.1f} us"
        )
        return (
            f"{self.frames_per_s:,.0f} frames/s, errors {self.error_rate:.2%}, "
            f"handler avg {latency}, connections {self.connections - self.connections_lost}"
            f"/{self.connections} up, reconnects {self.reconnects}, "
            f"cpu {self.cpu_percent:.0f} %, rss {self.rss_bytes / 2**20:.0f} MiB, "
            f"gc {self.gc_collections}"
        )


#: States of a connection that lost its link (not one starting or closed on purpose).
_DOWN = frozenset({"reconnecting", "error"})
#: Connection errors that mean the link went away.
_LINK_LOST = frozenset(
    {"connection_lost", "dead_peer", "connect_failed", "connect_timeout", "oversized_frame"}
)


#: What a connection or stream new in an interval is compared with: nothing counted yet.
_NO_METRICS = MetricsSnapshot(
    state="disconnected",
    uptime_s=0.0,
    frames=0,
    bytes=0,
    messages_by_type={},
    errors={},
    reconnects=0,
    queue_depth=0,
    queue_capacity=0,
    queue_dropped=0,
    latency_p50_us=None,
    latency_p99_us=None,
)
_NO_STREAM = StreamSample(venue="", connections=(), messages={}, frame_errors={})


def interval_report(before: Sample, after: Sample) -> IntervalReport:
    """The figures of the interval from ``before`` to ``after``.

    Connections are matched by name; one that appeared in the interval counts from zero.
    """
    interval = max(after.monotonic_s - before.monotonic_s, 1e-9)
    old = before.connections()
    frames = bytes_ = reconnects = dropped = lost = latency_count = 0
    latency_sum_us = 0.0
    p99s = []
    connections = after.connections()
    for name, conn in connections.items():
        now = conn.metrics
        then = old[name].metrics if name in old else _NO_METRICS
        frames += now.frames - then.frames
        bytes_ += now.bytes - then.bytes
        reconnects += now.reconnects - then.reconnects
        dropped += now.queue_dropped - then.queue_dropped
        latency_count += now.latency_count - then.latency_count
        latency_sum_us += now.latency_sum_us - then.latency_sum_us
        if now.latency_p99_us is not None:
            p99s.append(now.latency_p99_us)
        link_errors = _count(now.errors, _LINK_LOST) - _count(then.errors, _LINK_LOST)
        reconnected = name in old and now.reconnects > then.reconnects
        if now.state in _DOWN or link_errors > 0 or reconnected:
            lost += 1
    messages = errors = resyncs = 0
    for index, stream in enumerate(after.streams):
        # A monitor samples the same streams, in the same order, every time.
        previous = before.streams[index] if index < len(before.streams) else _NO_STREAM
        messages += sum(stream.messages.values()) - sum(previous.messages.values())
        errors += sum(stream.frame_errors.values()) - sum(previous.frame_errors.values())
        resyncs += stream.resyncs - previous.resyncs
    cpu = after.process.cpu_s - before.process.cpu_s
    return IntervalReport(
        time=after.time,
        interval_s=interval,
        connections=len(connections),
        connections_lost=lost,
        frames=frames,
        frames_per_s=frames / interval,
        bytes_per_s=bytes_ / interval,
        messages=messages,
        frame_errors=errors,
        error_rate=errors / frames if frames else 0.0,
        reconnects=reconnects,
        queue_dropped=dropped,
        resyncs=resyncs,
        books_live=sum(stream.books_live for stream in after.streams),
        books_out_of_sync=sum(stream.books_out_of_sync for stream in after.streams),
        handler_latency_avg_us=latency_sum_us / latency_count if latency_count else None,
        handler_latency_p99_us=max(p99s) if p99s else None,
        cpu_percent=100.0 * cpu / interval,
        rss_bytes=after.process.rss_bytes,
        gc_collections=sum(after.process.gc_collections) - sum(before.process.gc_collections),
    )


def _count(errors: Mapping[str, int], reasons: frozenset[str]) -> int:
    return sum(n for reason, n in errors.items() if reason in reasons)


def frame_errors(errors: Mapping[str, int]) -> dict[str, int]:
    """The handler's frame errors of a snapshot's ``errors`` (connection errors left out)."""
    return {reason: n for reason, n in errors.items() if reason not in CONNECTION_REASONS}


# -- alerts --------------------------------------------------------------------------


class AlertEvent(msgspec.Struct, frozen=True):
    """A rule raised (``raised``) or cleared, with the value that did it."""

    rule: AlertRule
    raised: bool
    #: The measure's value over the interval that raised or cleared the alert.
    value: float
    time: float

    def describe(self) -> str:
        rule = self.rule
        what = "RAISED" if self.raised else "cleared"
        if rule.measure is Measure.ERROR_RATE:
            value = f"{self.value:.2%} (threshold {rule.threshold:.2%})"
        elif rule.measure is Measure.HANDLER_LATENCY_AVG_US:
            value = f"{self.value:.1f} us (threshold {rule.threshold:g} us)"
        else:
            value = f"{self.value:g} (threshold {rule.threshold:g})"
        return f"alert {what}: {rule.severity.value} {rule.name}: {rule.measure.value} {value}"


class AlertTracker:
    """Which rules are active; each report raises or clears them, once per crossing."""

    def __init__(self, rules: Iterable[AlertRule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        names = [rule.name for rule in self.rules]
        if len(set(names)) != len(names):
            raise ConfigError(f"alert rule names must be unique, got {names}")
        self._active: set[str] = set()
        #: Alerts raised since start.
        self.raised = 0

    @property
    def active(self) -> tuple[AlertRule, ...]:
        return tuple(rule for rule in self.rules if rule.name in self._active)

    def update(self, report: IntervalReport) -> list[AlertEvent]:
        """The alerts ``report`` raises or clears. A measure without a value (no frame in
        the interval for the handler time) leaves its rules as they are."""
        events = []
        for rule in self.rules:
            value = report.value_of(rule.measure)
            if value is None:
                continue
            crossed = value > rule.threshold
            if crossed != (rule.name in self._active):
                if crossed:
                    self._active.add(rule.name)
                    self.raised += 1
                else:
                    self._active.discard(rule.name)
                events.append(AlertEvent(rule, crossed, value, report.time))
        return events
