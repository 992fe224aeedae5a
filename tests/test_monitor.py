"""The monitor's pure part: rules and their settings, figures per interval, alerts."""

import pytest

from ws_stack.exceptions import ConfigError
from ws_stack.metrics import MetricsSnapshot
from ws_stack.monitor import (
    DEFAULT_RULES,
    AlertRule,
    AlertTracker,
    ConnectionSample,
    Measure,
    ProcessSample,
    Sample,
    Severity,
    StreamSample,
    configure_rules,
    frame_errors,
    interval_report,
    parse_rule_setting,
)


def snapshot(
    *,
    state="connected",
    frames=0,
    bytes_=0,
    errors=None,
    reconnects=0,
    latency_count=0,
    latency_sum_us=0.0,
    p99=None,
    dropped=0,
):
    return MetricsSnapshot(
        state=state,
        uptime_s=1.0,
        frames=frames,
        bytes=bytes_,
        messages_by_type={},
        errors=errors or {},
        reconnects=reconnects,
        queue_depth=0,
        queue_capacity=100,
        queue_dropped=dropped,
        latency_p50_us=None,
        latency_p99_us=p99,
        latency_count=latency_count,
        latency_sum_us=latency_sum_us,
    )


def sample(
    at, connections, *, messages=None, errors=None, cpu=0.0, gc=(0, 0, 0), resyncs=0, live=1, out=0
):
    stream = StreamSample(
        venue="gateio",
        connections=tuple(ConnectionSample(name, snap) for name, snap in connections.items()),
        messages=messages or {},
        frame_errors=errors or {},
        books_live=live,
        books_out_of_sync=out,
        resyncs=resyncs,
    )
    return Sample(at, 1000.0 + at, (stream,), ProcessSample(cpu, 1 << 20, gc))


def test_interval_figures_are_differences_over_the_interval():
    before = sample(
        10.0,
        {"a": snapshot(frames=1000, bytes_=10_000, latency_count=1000, latency_sum_us=20_000.0)},
        messages={"trade": 900},
        errors={"malformed_json": 5},
        cpu=1.0,
        gc=(10, 1, 0),
    )
    after = sample(
        12.0,
        {
            "a": snapshot(
                frames=1400,
                bytes_=14_000,
                latency_count=1400,
                latency_sum_us=40_000.0,
                p99=80.0,
                dropped=3,
            )
        },
        messages={"trade": 1280},
        errors={"malformed_json": 25},
        cpu=1.5,
        gc=(14, 1, 1),
        resyncs=2,
    )
    report = interval_report(before, after)
    assert report.interval_s == pytest.approx(2.0)
    assert report.frames == 400 and report.frames_per_s == pytest.approx(200.0)
    assert report.bytes_per_s == pytest.approx(2000.0)
    assert report.messages == 380
    assert report.frame_errors == 20 and report.error_rate == pytest.approx(0.05)
    # 20,000 us over 400 calls in this interval, not 40,000 / 1,400 since start.
    assert report.handler_latency_avg_us == pytest.approx(50.0)
    assert report.handler_latency_p99_us == 80.0
    assert report.cpu_percent == pytest.approx(25.0)
    assert report.gc_collections == 5
    assert report.queue_dropped == 3 and report.resyncs == 2
    assert report.connections == 1 and report.connections_lost == 0
    assert report.time == 1012.0
    assert "200 frames/s" in report.describe()


def test_an_interval_without_frames_has_no_handler_time_and_no_error_rate():
    same = sample(1.0, {"a": snapshot(frames=5, latency_count=5, latency_sum_us=5.0)})
    later = sample(2.0, {"a": snapshot(frames=5, latency_count=5, latency_sum_us=5.0)})
    report = interval_report(same, later)
    assert report.handler_latency_avg_us is None and report.error_rate == 0.0


def test_a_connection_new_in_the_interval_counts_from_zero():
    before = sample(0.0, {"a": snapshot(frames=10)})
    after = sample(1.0, {"a": snapshot(frames=10), "b": snapshot(frames=7)})
    assert interval_report(before, after).frames == 7


@pytest.mark.parametrize(
    ("now", "lost"),
    [
        (snapshot(), 0),
        (snapshot(state="closed"), 0),  # closed on purpose
        (snapshot(state="reconnecting"), 1),
        (snapshot(state="error"), 1),
        # Dropped and back within the interval: still a lost connection.
        (snapshot(errors={"dead_peer": 1}, reconnects=1), 1),
        (snapshot(errors={"venue_error": 1}), 0),  # a refused subscription is no drop
    ],
)
def test_connections_lost_in_an_interval(now, lost):
    before = sample(0.0, {"a": snapshot()})
    after = sample(1.0, {"a": now})
    assert interval_report(before, after).connections_lost == lost


def test_frame_errors_leave_connection_errors_out():
    assert frame_errors({"dead_peer": 1, "malformed_json": 2}) == {"malformed_json": 2}


# -- rules -----------------------------------------------------------------------------


def test_default_rules_are_the_design_documents_thresholds():
    thresholds = {(r.measure, r.severity): r.threshold for r in DEFAULT_RULES}
    assert thresholds[Measure.HANDLER_LATENCY_AVG_US, Severity.WARNING] == 100.0
    assert thresholds[Measure.HANDLER_LATENCY_AVG_US, Severity.CRITICAL] == 200.0
    assert thresholds[Measure.ERROR_RATE, Severity.WARNING] == 0.01
    assert thresholds[Measure.ERROR_RATE, Severity.CRITICAL] == 0.05
    assert thresholds[Measure.CONNECTIONS_LOST, Severity.CRITICAL] == 0.0


def test_settings_change_or_switch_off_rules():
    assert parse_rule_setting("high_error_rate=0.02") == ("high_error_rate", 0.02)
    assert parse_rule_setting(" connection_lost = OFF ") == ("connection_lost", None)
    rules = {r.name: r for r in configure_rules({"high_error_rate": 0.02, "connection_lost": None})}
    assert rules["high_error_rate"].threshold == 0.02
    assert "connection_lost" not in rules
    assert rules["slow_handler"].threshold == 100.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("high_error_rate", "NAME=THRESHOLD"),
        ("=3", "NAME=THRESHOLD"),
        ("high_error_rate=fast", "must be a number"),
    ],
)
def test_bad_settings_say_what_to_write(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_rule_setting(text)


def test_unknown_rule_and_bad_threshold_fail():
    with pytest.raises(ConfigError, match="unknown alert rule 'bogus': the rules are slow_"):
        configure_rules({"bogus": 1.0})
    with pytest.raises(ConfigError, match="finite number >= 0"):
        configure_rules({"slow_handler": -1.0})
    with pytest.raises(ConfigError, match="finite number >= 0"):
        configure_rules({"slow_handler": float("nan")})
    rule = AlertRule("twice", Measure.ERROR_RATE, 0.1, Severity.WARNING)
    with pytest.raises(ConfigError, match="unique"):
        AlertTracker([rule, rule])


# -- alerts ------------------------------------------------------------------------------


def report_with(error_rate=0.0, latency=None, lost=0):
    before = sample(0.0, {"a": snapshot()})
    frames = 1000
    after = sample(
        1.0,
        {
            "a": snapshot(
                frames=frames,
                latency_count=0 if latency is None else frames,
                latency_sum_us=0.0 if latency is None else latency * frames,
                state="reconnecting" if lost else "connected",
            )
        },
        errors={"malformed_json": round(error_rate * frames)},
    )
    return interval_report(before, after)


def test_a_rule_raises_once_and_clears_once():
    tracker = AlertTracker()
    raised = tracker.update(report_with(error_rate=0.02))
    assert [(e.rule.name, e.raised) for e in raised] == [("high_error_rate", True)]
    assert raised[0].value == pytest.approx(0.02)
    assert "alert RAISED: warning high_error_rate" in raised[0].describe()
    # Still above on the next samples: nothing new (no flapping).
    assert tracker.update(report_with(error_rate=0.03)) == []
    assert [r.name for r in tracker.active] == ["high_error_rate"]
    worse = tracker.update(report_with(error_rate=0.08))
    assert [(e.rule.name, e.raised) for e in worse] == [("very_high_error_rate", True)]
    cleared = tracker.update(report_with(error_rate=0.0))
    assert sorted((e.rule.name, e.raised) for e in cleared) == [
        ("high_error_rate", False),
        ("very_high_error_rate", False),
    ]
    assert tracker.update(report_with(error_rate=0.0)) == []
    assert tracker.active == () and tracker.raised == 2


def test_handler_time_and_lost_connections_raise():
    tracker = AlertTracker()
    events = tracker.update(report_with(latency=250.0, lost=1))
    assert sorted(e.rule.name for e in events) == [
        "connection_lost",
        "slow_handler",
        "very_slow_handler",
    ]
    # No frame in the interval: no evidence about the handler time, the alert stays.
    quiet = interval_report(sample(0.0, {"a": snapshot()}), sample(1.0, {"a": snapshot()}))
    assert [(e.rule.name, e.raised) for e in tracker.update(quiet)] == [("connection_lost", False)]
    assert {r.name for r in tracker.active} == {"slow_handler", "very_slow_handler"}
