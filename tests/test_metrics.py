import pytest

from ws_stack.exceptions import ConfigError
from ws_stack.handler import HandlerStats
from ws_stack.metrics import (
    ConnectionErrorReason,
    LatencyWindow,
    Metrics,
    merge_snapshots,
    percentile,
)


def test_nearest_rank_percentiles():
    samples = list(range(1, 101))  # 1..100
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile(samples, 100) == 100
    assert percentile(samples, 0) == 1
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(samples, 101)


def test_latency_window_keeps_the_most_recent_samples():
    window = LatencyWindow(capacity=4)
    for value in (1000, 1000, 1000, 1000, 5, 6):
        window.record(value)
    assert window.count == 6
    assert sorted(window.samples()) == [5, 6, 1000, 1000]
    assert window.total == 4011  # every sample, not only the window's
    assert LatencyWindow(4).percentile(50) is None
    with pytest.raises(ConfigError):
        LatencyWindow(0)


def make_metrics(frames, latencies, errors=()):
    metrics = Metrics(latency_window=16)
    metrics.frames = frames
    metrics.bytes = frames * 10
    for value in latencies:
        metrics.latency.record(value)
    for reason in errors:
        metrics.count_error(reason)
    return metrics


def test_snapshot_merges_handler_statistics():
    metrics = make_metrics(3, [1000, 2000, 3000], [ConnectionErrorReason.DEAD_PEER])
    metrics.reconnects = 2
    handler = HandlerStats(frames=3, messages={"trade": 5}, errors={"malformed_json": 1})
    snap = metrics.snapshot(
        state="connected",
        uptime_s=1.5,
        queue_depth=1,
        queue_capacity=8,
        queue_dropped=4,
        handler_stats=handler,
        subscriptions=2,
    )
    assert snap.frames == 3 and snap.bytes == 30 and snap.reconnects == 2
    assert snap.messages_by_type == {"trade": 5}
    assert snap.errors == {"dead_peer": 1, "malformed_json": 1}
    assert snap.error_count == 2
    assert (snap.queue_depth, snap.queue_capacity, snap.queue_dropped) == (1, 8, 4)
    assert snap.latency_p50_us == 2.0 and snap.latency_p99_us == 3.0
    assert snap.latency_count == 3 and snap.latency_sum_us == 6.0


def test_group_merge_sums_counters_and_counts_a_shared_handler_once():
    handler = HandlerStats(frames=6, messages={"trade": 6}, errors={"malformed_json": 2})
    parts = [
        make_metrics(2, [1000], [ConnectionErrorReason.CONNECTION_LOST]).snapshot(
            state="connected",
            uptime_s=5.0,
            queue_depth=0,
            queue_capacity=4,
            queue_dropped=1,
            handler_stats=handler,
            subscriptions=30,
        ),
        make_metrics(4, [3000], []).snapshot(
            state="reconnecting",
            uptime_s=0.0,
            queue_depth=2,
            queue_capacity=4,
            queue_dropped=0,
            handler_stats=handler,
            subscriptions=10,
        ),
    ]
    merged = merge_snapshots(
        parts, state="reconnecting", latency_samples=[1000, 3000], handler_stats=[handler]
    )
    assert merged.connections == 2
    assert merged.frames == 6 and merged.subscriptions == 40
    assert merged.queue_dropped == 1 and merged.queue_depth == 2 and merged.queue_capacity == 8
    assert merged.messages_by_type == {"trade": 6}
    assert merged.errors == {"connection_lost": 1, "malformed_json": 2}
    assert merged.uptime_s == 5.0
    assert merged.latency_p50_us == 1.0 and merged.latency_p99_us == 3.0
    assert merged.latency_count == 2 and merged.latency_sum_us == 4.0
