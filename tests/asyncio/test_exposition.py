"""Prometheus exposition of a monitor sample, read back with prometheus_client's parser."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from ws_stack.asyncio.exposition import PREFIX, metric_families
from ws_stack.metrics import MetricsSnapshot
from ws_stack.monitor import (
    DEFAULT_RULES,
    ConnectionSample,
    ProcessSample,
    Sample,
    StreamSample,
)


def connection(name, frames, state="connected"):
    return ConnectionSample(
        name,
        MetricsSnapshot(
            state=state,
            uptime_s=1.0,
            frames=frames,
            bytes=frames * 100,
            messages_by_type={},
            errors={"dead_peer": 1, "malformed_json": 4},
            reconnects=1,
            queue_depth=2,
            queue_capacity=100,
            queue_dropped=0,
            latency_p50_us=10.0,
            latency_p99_us=40.0,
            latency_count=frames,
            latency_sum_us=frames * 12.0,
        ),
    )


SAMPLE = Sample(
    monotonic_s=1.0,
    time=2.0,
    streams=(
        StreamSample(
            "mexc",
            (connection("mexc-0", 50), connection("mexc-1", 30, "reconnecting")),
            messages={"trade": 60, "order_book": 10},
            frame_errors={"malformed_json": 4},
            books_live=1,
            books_out_of_sync=1,
            resyncs=3,
        ),
        StreamSample(
            "gateio", (connection("gateio-0", 20),), messages={"trade": 5}, frame_errors={}
        ),
    ),
    process=ProcessSample(cpu_s=1.5, rss_bytes=50_000_000, gc_collections=(7, 2, 1)),
)


class _Fixed(Collector):
    def collect(self):
        return metric_families(SAMPLE, DEFAULT_RULES, {"connection_lost"})


def parsed():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed())
    text = generate_latest(registry).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def values(family):
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


def test_every_name_is_prefixed_and_counters_end_in_total():
    families = parsed()
    assert families and all(name.startswith(PREFIX) for name in families)
    for family in families.values():
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name


def test_connection_counters_are_labelled_by_venue_and_connection():
    frames = values(parsed()["ws_stack_frames_received"])
    assert frames == {
        (("connection", "mexc-0"), ("venue", "mexc")): 50.0,
        (("connection", "mexc-1"), ("venue", "mexc")): 30.0,
        (("connection", "gateio-0"), ("venue", "gateio")): 20.0,
    }
    errors = values(parsed()["ws_stack_connection_errors"])
    # Only connection reasons here; the handler's reasons are frame errors, per venue.
    assert {dict(k)["reason"] for k in errors} == {"dead_peer"}
    assert values(parsed()["ws_stack_frame_errors"]) == {
        (("reason", "malformed_json"), ("venue", "mexc")): 4.0
    }


def test_state_gauges_hold_one_state_per_connection():
    states = values(parsed()["ws_stack_connection_state"])
    current = {(dict(k)["connection"], dict(k)["state"]) for k, v in states.items() if v == 1}
    assert current == {
        ("mexc-0", "connected"),
        ("mexc-1", "reconnecting"),
        ("gateio-0", "connected"),
    }


def test_handler_latency_is_a_summary_in_seconds():
    family = parsed()["ws_stack_handler_latency_seconds"]
    assert family.type == "summary"
    samples = {
        (s.name, s.labels.get("connection"), s.labels.get("quantile")): s.value
        for s in family.samples
    }
    assert samples["ws_stack_handler_latency_seconds", "mexc-0", "0.99"] == 40e-6
    assert samples["ws_stack_handler_latency_seconds_count", "mexc-0", None] == 50
    assert abs(samples["ws_stack_handler_latency_seconds_sum", "mexc-0", None] - 600e-6) < 1e-12


def test_books_alerts_and_process():
    families = parsed()
    assert values(families["ws_stack_books_out_of_sync"]) == {
        (("venue", "mexc"),): 1.0,
        (("venue", "gateio"),): 0.0,
    }
    assert values(families["ws_stack_book_resyncs"])[(("venue", "mexc"),)] == 3.0
    alerts = values(families["ws_stack_alert_active"])
    assert alerts[(("alert", "connection_lost"), ("severity", "critical"))] == 1.0
    assert alerts[(("alert", "slow_handler"), ("severity", "warning"))] == 0.0
    assert values(families["ws_stack_process_cpu_seconds"]) == {(): 1.5}
    assert values(families["ws_stack_python_gc_collections"])[(("generation", "0"),)] == 7.0
    messages = values(families["ws_stack_messages"])
    assert messages[(("type", "trade"), ("venue", "mexc"))] == 60.0
