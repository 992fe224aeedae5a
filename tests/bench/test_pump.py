"""The pump of the socket benchmarks (``benchmarks/pump.py``): a real WebSocket server that
sends its frames, in order, over and over, to a real client."""

from __future__ import annotations

import asyncio
import signal

import pytest
from transports import TRANSPORT_PARAMS

from benchmarks.connections import PumpedStream
from benchmarks.parsers import make_handler
from benchmarks.pump import PumpProcess, wire_frame
from benchmarks.venue_frames import frame
from ws_stack.messages import WebSocketMessageType


def test_wire_frames_are_rfc_6455_server_frames() -> None:
    assert wire_frame("hi") == b"\x81\x02hi"
    assert wire_frame(b"\x00" * 200)[:4] == b"\x82\x7e\x00\xc8"
    assert wire_frame(b"\x00" * 70_000)[:10] == b"\x82\x7f" + (70_000).to_bytes(8, "big")


def test_the_pump_sends_its_frames_in_order_loop_after_loop() -> None:
    frames: list[bytes | str] = ["text one", b"binary \x00\xff", "x" * 300, b"y" * 70_000]
    pump = PumpProcess(frames, loops=3, lifetime=60)
    try:
        from websockets.asyncio.client import connect

        async def read() -> list[bytes | str]:
            async with asyncio.timeout(30), connect(pump.ws_url, max_size=None) as ws:
                await ws.send("a subscription, dropped by the pump")
                return [await ws.recv() for _ in range(3 * len(frames))]

        assert asyncio.run(read()) == frames * 3
    finally:
        pump.close()
    assert pump.process.returncode == 0


@pytest.mark.parametrize("transport", TRANSPORT_PARAMS)
def test_a_pumped_connection_handles_every_frame(transport: str) -> None:
    deltas = [frame("gateio", "json", "order_book", 3, n) for n in range(100)]
    handler = make_handler("gateio")
    stream = PumpedStream("gateio", deltas, handler, transport, loops=200)
    try:
        stream.count_messages("ORDER_BOOK")
        assert stream.frame_time(1000) > 0
        stream.check()
        assert handler.stats().messages[WebSocketMessageType.ORDER_BOOK.value] >= 1000
        assert stream.connection.transport == transport
    finally:
        stream.close()


@pytest.mark.parametrize("transport", [None, *TRANSPORT_PARAMS])
def test_closing_a_stream_stops_its_pump_first_then_its_client(transport: str | None) -> None:
    """Tear-down: the pump is terminated mid-stream (it would close each connection with a
    handshake that a client no longer reading never finishes), then the client closes."""
    deltas = [frame("gateio", "json", "order_book", 3, n) for n in range(100)]
    handler = make_handler("gateio") if transport is not None else None
    stream = PumpedStream("gateio", deltas, handler, transport, loops=10_000)
    if transport is not None:
        stream.count_messages("ORDER_BOOK")
    stream.frame_time(500)  # streaming, with frames unread behind the window
    stream.close()
    assert stream.pump.process.returncode == -signal.SIGTERM
    if transport is None:
        assert stream.ws.state.name == "CLOSED"
    else:
        assert stream.connection.metrics().state == "closed"
    assert stream.loop.is_closed()
