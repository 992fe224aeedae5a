"""Frames over ``max_size`` and compression bombs, against a live MexcConnection.

``max_size`` bounds the message as delivered (websockets: after inflating it, while
inflating it; picows: from each frame's header, before reading it, and the fragments of a
message together): a message over the limit closes the connection with 1009, which the
connection counts as ``oversized_frame`` before it reconnects and resubscribes, on both
transports. The servers here are :mod:`rawws`, which sends what a well-behaved server
never would. Compression is websockets' alone (picows has none).
"""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from .rawclient import LIMIT, Client, bad_first
from .rawws import BINARY, TEXT, RawConnection, RawServer, deflate_bomb, frame, ticker

#: Inflates to 256 MiB, 4096 times the limit; about 256 kB on the wire.
BOMB_SIZE = 256 << 20


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return deflate_bomb(BOMB_SIZE)


def test_frame_over_max_size_is_refused_counted_and_survived(run, figures, transport):
    async def too_big(connection: RawConnection) -> None:
        await connection.send_message(BINARY, b"\x0a" + bytes(LIMIT))

    async def test() -> None:
        async with RawServer(bad_first(too_big, times=10), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
                assert client.errors["oversized_frame"] == 10
                assert client.connection.counters.reconnects == 10
                assert server.accepted == 11
        figures(
            {"oversized_frames": 10, "reconnects": 10, "recovered": True, "transport": transport}
        )

    run(test)


def test_compression_bomb_is_refused_without_inflating_it(run, bomb, figures):
    """256 MiB of zeros deflated to ~256 kB: inflating stops at the 64 kB limit."""

    async def send_bomb(connection: RawConnection) -> None:
        assert connection.deflate
        await connection.send(frame(BINARY, bomb, rsv1=True))

    async def test() -> None:
        async with RawServer(bad_first(send_bomb, times=3)) as server:
            client = Client(server.url, compression=True)
            tracemalloc.start()
            try:
                async with client.connection:
                    await client.recovered(tickers=5)
                    _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert client.errors["oversized_frame"] == 3
        # The whole process (server included) never held more than a few MiB, while
        # the bomb would have taken 256 MiB inflated.
        assert peak < 16 << 20, peak
        figures(
            {
                "bomb_inflated_bytes": BOMB_SIZE,
                "bomb_wire_bytes": len(bomb),
                "max_size": LIMIT,
                "peak_traced_bytes": peak,
                "refused": 3,
            }
        )

    run(test)


def test_fragmented_message_over_max_size_is_refused(run, transport):
    """Fragments each under the limit, together over it: refused as one message."""

    async def fragments(connection: RawConnection) -> None:
        piece = bytes(LIMIT // 4)
        await connection.send(frame(BINARY, piece, fin=False))
        for _ in range(7):
            await connection.send(frame(0x0, piece, fin=False))
        await connection.send(frame(0x0, piece))

    async def test() -> None:
        async with RawServer(bad_first(fragments), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
                assert client.errors["oversized_frame"] == 1

    run(test)


def test_lying_length_header_is_refused_before_reading(run, transport):
    """A header announcing 2**62 bytes: refused at once, nothing allocated for it."""

    async def liar(connection: RawConnection) -> None:
        await connection.send(frame(BINARY, b"\x0a\x00", declared=1 << 62))

    async def test() -> None:
        async with RawServer(bad_first(liar, times=3), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
                assert client.errors["oversized_frame"] == 3

    run(test)


def test_compressed_frame_without_negotiation_is_a_protocol_error(run, transport):
    """Compression off (the default): a compressed frame is never inflated at all."""
    small_bomb = deflate_bomb(32 << 20)  # under the limit on the wire, 512x over inflated
    assert len(small_bomb) < LIMIT

    async def unasked(connection: RawConnection) -> None:
        assert not connection.deflate
        await connection.send(frame(BINARY, small_bomb, rsv1=True))

    async def test() -> None:
        async with RawServer(bad_first(unasked, times=2)) as server:
            client = Client(server.url, transport)  # compression=False
            tracemalloc.start()
            try:
                async with client.connection:
                    await client.recovered(tickers=5)
                    _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            # Reserved bit 1 without a negotiated extension: the client fails the
            # connection with 1002 (protocol error), and reconnects.
            assert client.errors == {"protocol_error": 2}
        assert peak < 16 << 20

    run(test)


def test_compression_works_below_the_limit(run):
    """With compression on, ordinary compressed messages decode as usual."""

    async def normal(connection: RawConnection) -> None:
        for number in range(20):
            await connection.send_message(BINARY, ticker(number))
        await connection.send_message(TEXT, b'{"id":0,"code":0,"msg":"PONG"}')

    async def test() -> None:
        async with RawServer(normal) as server:
            client = Client(server.url, compression=True)
            async with client.connection:
                await client.recovered(tickers=20)
                await asyncio.sleep(0)
            assert client.handler.stats().failed_frames == 0
            assert client.connection.counters.reconnects == 0

    run(test)
