"""Prometheus exposition of a monitor :class:`~ws_stack.monitor.Sample`.

:func:`metric_families` turns one sample (and the alert rules' state) into
``prometheus_client`` metric families; the monitor hands them to the library's registry
and HTTP server, which write the text format. It builds the library's own families, so a
scrape makes no copy of them, and it lives in the I/O layer because importing any part
of ``prometheus_client`` loads the library's HTTP server too. Every name starts with
``ws_stack_`` and carries its unit; counters end in ``_total`` (the library adds it).

Labels: ``venue`` and ``connection`` on what each connection counts (frames, bytes,
connection errors, reconnects, queue, state, handler time); ``venue`` alone on what a
stream's handler and books count (messages, frame errors, books), because the
connections of a stream share one handler.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ws_stack.metrics import CONNECTION_REASONS
from ws_stack.monitor import AlertRule, Sample
from ws_stack.state import ConnectionState

__all__ = ["PREFIX", "metric_families"]

PREFIX = "ws_stack_"
_CONNECTION = ["venue", "connection"]
#: Quantiles of the handler time, over each connection's recent window of samples.
_QUANTILES = (("0.5", "latency_p50_us"), ("0.99", "latency_p99_us"))


def metric_families(
    sample: Sample, rules: Iterable[AlertRule] = (), active: Collection[str] = ()
) -> list[Metric]:
    """The metric families of ``sample``; ``active`` names the alert rules raised."""
    frames = _counter("frames_received", "WebSocket frames received", _CONNECTION)
    received = _counter("received_bytes", "Bytes of WebSocket frames received", _CONNECTION)
    reconnects = _counter("reconnects", "Connections re-established", _CONNECTION)
    dropped = _counter(
        "queue_dropped_frames", "Frames dropped because the receive queue was full", _CONNECTION
    )
    connection_errors = _counter(
        "connection_errors", "Connection-level failures, by reason", [*_CONNECTION, "reason"]
    )
    state = GaugeMetricFamily(
        PREFIX + "connection_state",
        "1 for the state the connection is in, 0 for the others",
        labels=[*_CONNECTION, "state"],
    )
    depth = GaugeMetricFamily(
        PREFIX + "queue_depth_frames", "Frames waiting in the receive queue", labels=_CONNECTION
    )
    capacity = GaugeMetricFamily(
        PREFIX + "queue_capacity_frames", "Size of the receive queue", labels=_CONNECTION
    )
    latency = Metric(
        PREFIX + "handler_latency_seconds",
        "Time the handler takes per frame (quantiles over the recent window)",
        "summary",
    )
    messages: Counter[tuple[str, str]] = Counter()
    frame_errors: Counter[tuple[str, str]] = Counter()
    books_live: Counter[str] = Counter()
    books_out: Counter[str] = Counter()
    resyncs: Counter[str] = Counter()
    for stream in sample.streams:
        venue = stream.venue
        for conn in stream.connections:
            labels = [venue, conn.name]
            m = conn.metrics
            frames.add_metric(labels, m.frames)
            received.add_metric(labels, m.bytes)
            reconnects.add_metric(labels, m.reconnects)
            dropped.add_metric(labels, m.queue_dropped)
            for reason, count in sorted(m.errors.items()):
                if reason in CONNECTION_REASONS:
                    connection_errors.add_metric([*labels, reason], count)
            for value in ConnectionState:
                state.add_metric([*labels, value.value], float(value.value == m.state))
            depth.add_metric(labels, m.queue_depth)
            capacity.add_metric(labels, m.queue_capacity)
            names = dict(zip(_CONNECTION, labels, strict=True))
            for quantile, field in _QUANTILES:
                value_us = getattr(m, field)
                if value_us is not None:
                    latency.add_sample(
                        latency.name, {**names, "quantile": quantile}, value_us / 1e6
                    )
            latency.add_sample(latency.name + "_count", names, m.latency_count)
            latency.add_sample(latency.name + "_sum", names, m.latency_sum_us / 1e6)
        for msg_type, count in stream.messages.items():
            messages[venue, msg_type] += count
        for reason, count in stream.frame_errors.items():
            frame_errors[venue, reason] += count
        books_live[venue] += stream.books_live
        books_out[venue] += stream.books_out_of_sync
        resyncs[venue] += stream.resyncs

    families: list[Metric] = [
        frames,
        received,
        reconnects,
        dropped,
        connection_errors,
        state,
        depth,
        capacity,
        latency,
    ]
    families.append(
        _labelled(
            _counter("messages", "Messages delivered by the handler", ["venue", "type"]), messages
        )
    )
    families.append(
        _labelled(
            _counter(
                "frame_errors",
                "Frames the handler could not handle, by reason",
                ["venue", "reason"],
            ),
            frame_errors,
        )
    )
    families.append(
        _per_venue(
            _counter("book_resyncs", "Order books rebuilt after a sequence gap", ["venue"]), resyncs
        )
    )
    families.append(
        _per_venue(
            GaugeMetricFamily(PREFIX + "books_live", "Order books in sync", labels=["venue"]),
            books_live,
        )
    )
    families.append(
        _per_venue(
            GaugeMetricFamily(
                PREFIX + "books_out_of_sync",
                "Order books not in sync (waiting for a snapshot or unverified)",
                labels=["venue"],
            ),
            books_out,
        )
    )
    alerts = GaugeMetricFamily(
        PREFIX + "alert_active", "1 while the alert rule is raised", labels=["alert", "severity"]
    )
    for rule in rules:
        alerts.add_metric([rule.name, rule.severity.value], float(rule.name in active))
    families.append(alerts)

    process = sample.process
    families.append(
        CounterMetricFamily(
            PREFIX + "process_cpu_seconds",
            "CPU time of the process (user and system)",
            value=process.cpu_s,
        )
    )
    families.append(
        GaugeMetricFamily(
            PREFIX + "process_resident_memory_bytes",
            "Resident memory of the process",
            value=process.rss_bytes,
        )
    )
    gc_runs = _counter(
        "python_gc_collections", "Garbage-collector runs, by generation", ["generation"]
    )
    for generation, count in enumerate(process.gc_collections):
        gc_runs.add_metric([str(generation)], count)
    families.append(gc_runs)
    return families


def _counter(name: str, documentation: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, documentation, labels=labels)


def _labelled(family: CounterMetricFamily, values: Counter[tuple[str, str]]) -> CounterMetricFamily:
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family


def _per_venue(
    family: CounterMetricFamily | GaugeMetricFamily, values: Counter[str]
) -> CounterMetricFamily | GaugeMetricFamily:
    for venue, value in sorted(values.items()):
        family.add_metric([venue], value)
    return family
