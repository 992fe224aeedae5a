"""ws_stack.asyncio.monitor on loopback: scraped over HTTP, alerts from simulator faults,
the export. (Not test_monitor.py: tests/asyncio is no package, and tests/test_monitor.py
holds the pure part's tests.)"""

import asyncio
import socket
import urllib.request

import msgspec
import pytest
from conftest import fast_config, wait_until
from prometheus_client.parser import text_string_to_metric_families

from ws_stack.asyncio.monitor import Monitor
from ws_stack.asyncio.stream import MarketStream
from ws_stack.exceptions import ConfigError
from ws_stack.messages import Venue
from ws_stack.monitor import AlertRule, IntervalReport, Measure, Severity
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator

SYMBOL = "BTC_USDT"
#: Short enough that a test sees several intervals in a second.
INTERVAL = 0.2


def simulator(faults=None, rate_hz=100.0):
    faults = FaultConfig() if faults is None else faults
    return VenueSimulator(
        Venue.GATEIO, SimConfig(symbols=(SYMBOL,), rate_hz=rate_hz, faults=faults)
    )


def stream_of(sim, **config):
    return MarketStream(
        Venue.GATEIO, [SYMBOL], url=sim.ws_url, rest_url=sim.rest_url, config=fast_config(**config)
    )


async def scrape(url):
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    families = text_string_to_metric_families(body.decode())
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }


def test_metrics_are_served_on_loopback_and_rise(run):
    async def test():
        async with (
            simulator() as sim,
            stream_of(sim) as stream,
            Monitor([stream], interval=INTERVAL, metrics_port=0) as monitor,
        ):
            url = monitor.metrics_url
            assert url is not None and url.startswith("http://127.0.0.1:")
            await wait_until(lambda: stream.group.metrics().frames > 10)
            first = await scrape(url)
            frames = stream.group.metrics().frames
            await wait_until(lambda: stream.group.metrics().frames > frames + 10)
            second = await scrape(url)
        assert monitor.metrics_url is None  # closed: no longer serving
        key = ("ws_stack_frames_received_total", (("connection", "gateio-0"), ("venue", "gateio")))
        assert second[key] > first[key] > 0
        trades = ("ws_stack_messages_total", (("type", "trade"), ("venue", "gateio")))
        assert second[trades] > first[trades]
        state = (
            "ws_stack_connection_state",
            (("connection", "gateio-0"), ("state", "connected"), ("venue", "gateio")),
        )
        assert second[state] == 1.0
        assert second[("ws_stack_books_live", (("venue", "gateio"),))] == 1.0
        assert all(name.startswith("ws_stack_") for name, _ in second)

    run(test)


def test_a_stall_raises_connection_lost_which_clears_after_the_reconnect(run):
    async def test():
        events = []
        # Only the rule under test: the stall's quiet intervals are not what it is about.
        rule = AlertRule("connection_lost", Measure.CONNECTIONS_LOST, 0.0, Severity.CRITICAL)
        async with (
            simulator(FaultConfig(stall_after_frames=30, stall_seconds=5.0)) as sim,
            stream_of(sim, dead_peer_timeout=0.5) as stream,
            Monitor([stream], interval=INTERVAL, rules=[rule], on_alert=events.append),
        ):
            await wait_until(lambda: sim.stats.faults["stall"] >= 1)
            sim.set_faults(FaultConfig())  # one stall, then a healthy venue
            await wait_until(lambda: len(events) >= 2)
            assert stream.group.metrics().reconnects >= 1
        assert [(e.rule.name, e.raised) for e in events[:2]] == [
            ("connection_lost", True),
            ("connection_lost", False),
        ]

    run(test)


def test_malformed_frames_raise_the_error_rate_alerts(run):
    async def test():
        raised = []
        reports = []
        async with (
            simulator(FaultConfig(malformed_every=10)) as sim,
            stream_of(sim) as stream,
            Monitor([stream], interval=INTERVAL, on_report=reports.append) as monitor,
        ):
            monitor.on_alert(lambda event: raised.append(event.rule.name))
            await wait_until(lambda: "very_high_error_rate" in raised)
        assert "high_error_rate" in raised
        # One frame in ten is malformed (subscription replies are not).
        errors, frames = sum(r.frame_errors for r in reports), sum(r.frames for r in reports)
        assert 0.05 < errors / frames <= 0.1
        assert {"high_error_rate", "very_high_error_rate"} <= set(reports[-1].alerts)

    run(test)


def test_export_holds_one_valid_line_per_interval(run, tmp_path):
    path = tmp_path / "monitor.jsonl"

    reports = []

    async def test():
        async with (
            simulator() as sim,
            stream_of(sim) as stream,
            Monitor([stream], interval=INTERVAL, export=path, on_report=reports.append),
        ):
            await wait_until(lambda: len(reports) >= 3)

    run(test)
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(reports) >= 3
    decoded = [msgspec.json.decode(line, type=IntervalReport) for line in lines]
    assert decoded == reports
    assert all(r.interval_s == pytest.approx(INTERVAL, abs=0.15) for r in decoded)
    assert sum(r.frames for r in decoded) > 0


def test_bad_configuration_fails_at_start_up(run, tmp_path):
    with pytest.raises(ConfigError, match="at least one stream"):
        Monitor([])
    with pytest.raises(ConfigError, match="cannot watch"):
        Monitor([object()])

    async def test():
        async with simulator() as sim:
            stream = stream_of(sim)
            with pytest.raises(ConfigError, match="positive number of seconds"):
                Monitor([stream], interval=0)
            with pytest.raises(ConfigError, match="0 to 65535"):
                Monitor([stream], metrics_port=70000)
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                port = taken.getsockname()[1]
                monitor = Monitor([stream], metrics_port=port)
                with pytest.raises(ConfigError, match=f"metrics port {port} is in use"):
                    await monitor.start()
            monitor = Monitor([stream], export=tmp_path / "missing" / "x.jsonl")
            with pytest.raises(ConfigError, match="cannot write the monitor export"):
                await monitor.start()

    run(test)
