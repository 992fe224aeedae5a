"""The per-frame benchmarks that other benchmarks borrow run where they are borrowed:
``bench_monitor.MonitoredConsume`` runs ``bench_connection.ConsumeFrame``'s time method on
an object of its own class (a make bench once stored it as failed at every commit)."""

import pytest

from benchmarks import bench_connection, bench_monitor


@pytest.mark.parametrize("venue", ["mexc", "gateio"])
def test_the_monitor_pair_runs_consume_frame_on_its_own_object(monkeypatch, venue):
    monkeypatch.setattr(bench_connection, "CALLS", range(3))
    pair = bench_monitor.MonitoredConsume()
    pair.setup(venue, "order_book")
    before = pair.connection.counters.frames
    pair.consume(venue, "order_book")
    pair.monitor_interval(venue, "order_book")
    assert pair.connection.counters.frames == before + 3
    assert pair.connection.counters.latency.count >= 3


@pytest.mark.parametrize("transport", ["websockets", "picows"])
def test_consume_frame_counts_and_times_each_frame(monkeypatch, transport):
    pytest.importorskip(transport)
    monkeypatch.setattr(bench_connection, "CALLS", range(4))
    bench = bench_connection.ConsumeFrame()
    bench.setup("gateio", "trade", transport)
    timed_before = bench.connection.counters.latency.count
    bench.time_consume_frame("gateio", "trade", transport)
    assert bench.connection.counters.latency.count == timed_before + 4
