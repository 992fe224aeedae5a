"""Lone frames (``benchmarks/lone.py``, ``bench_handler.LoneFrame``,
``bench_connection.LoneFrameSocket``): what they feed, and what they report."""

from __future__ import annotations

import ctypes

import pytest
from transports import TRANSPORT_PARAMS

from benchmarks import lone
from benchmarks.bench_connection import _lone_socket_run
from benchmarks.bench_handler import LoneFrame, _lone_latencies
from benchmarks.common import CHANNELS


def test_percentiles_are_nearest_rank() -> None:
    latencies = list(range(1000, 0, -1))  # 1..1000, in any order
    assert lone.percentiles(latencies) == {"p50": 500, "p95": 950, "p99": 990, "p999": 999}
    assert lone.percentile([7], 0.999) == 7


def test_the_interference_writes_every_byte_of_its_buffer_each_time() -> None:
    interference = lone.Interference(size=4 * lone.INTERFERENCE_PIECE)
    seen = []
    for _ in range(2):
        interference()
        memory = bytes(interference._buffer)
        assert len(set(memory)) == 1  # every byte written, with one value
        seen.append(memory[0])
    assert seen[0] != seen[1]  # a new value each time: no line is found as it was
    assert ctypes.sizeof(lone.Interference()._buffer) == lone.INTERFERENCE_BYTES


@pytest.mark.parametrize(("venue", "fmt"), [("mexc", "protobuf"), ("mexc", "json"),
                                            ("gateio", "json")])  # fmt: skip
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_lone_handler_delivers_every_frame_of_its_stream(
    venue: str, fmt: str, channel: str
) -> None:
    handler = lone.LoneHandler(venue, fmt, channel, frames=30)
    before = handler.handler.stats()
    for _ in range(60):  # twice round the stream: a book takes every delta again
        handler.handle_next()
        handler.detect_next()
    after = handler.handler.stats()
    assert after.frames - before.frames == 60
    assert after.failed_frames == 0


def test_the_lone_frame_benchmark_reports_every_percentile_in_seconds() -> None:
    found = _lone_latencies("gateio", "json", "order_book")
    assert set(found) == {"handle", "detect"}
    for figures in found.values():
        assert list(figures) == list(lone.PERCENTILES)
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["p999"]
    cache = {("gateio", "json", "order_book"): found}
    bench = LoneFrame()
    bench.setup(cache, "gateio", "json", "order_book")
    value = bench.track_handle_p95(cache, "gateio", "json", "order_book")
    assert value == found["handle"]["p95"] / 1e9
    with pytest.raises(NotImplementedError):
        bench.setup(cache, "gateio", "protobuf", "trade")


@pytest.mark.parametrize("transport", TRANSPORT_PARAMS)
@pytest.mark.parametrize("venue", ["mexc", "gateio"])
def test_lone_frames_through_a_socket_are_timed_per_channel(venue: str, transport: str) -> None:
    """Every frame the pump sent one at a time was received and handled: each channel's
    figures come from LONE_SOCKET_FRAMES frames (the run fails if one went missing)."""
    found = _lone_socket_run(venue, transport)
    assert set(found) == set(CHANNELS)
    for figures in found.values():
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["p999"]
