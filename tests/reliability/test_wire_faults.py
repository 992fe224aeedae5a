"""Frames no well-behaved server sends, on both transports: the same counted reason, and
the connection recovers (reconnects, resubscribes, receives again).

``websockets`` does this itself; picows is a frame-level library, and ws_stack's picows
transport does the same on top of it (see :mod:`ws_stack.asyncio.transport_picows`). The
servers are :mod:`rawws`, which speaks RFC 6455 by hand.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from ws_stack.messages import Pong, WebSocketMessageType
from ws_stack.mexc import encoder as mexc

from .helpers import wait_until
from .rawclient import Client, bad_first
from .rawws import BINARY, TEXT, RawConnection, RawServer, frame, ticker

CONTINUATION, CLOSE, PING = 0x0, 0x8, 0x9


def test_fragmented_messages_are_reassembled(run, transport):
    """A binary message in three fragments with a ping between them, a text message whose
    UTF-8 character is split between two fragments: each delivered once, whole."""
    pong = '{"id":0,"code":0,"msg":"PONG","note":"10 \u20ac"}'.encode()
    cut = pong.index(b"\xe2") + 1  # inside the euro sign

    async def fragments(connection: RawConnection) -> None:
        data = ticker(1)
        third = len(data) // 3
        await connection.send(frame(BINARY, data[:third], fin=False))
        await connection.send(frame(PING, b"keepalive"))
        await connection.send(frame(CONTINUATION, data[third : 2 * third], fin=False))
        await connection.send(frame(CONTINUATION, data[2 * third :]))
        await connection.send(frame(TEXT, pong[:cut], fin=False))
        await connection.send(frame(CONTINUATION, pong[cut:]))
        for number in range(2, 7):
            await connection.send(frame(BINARY, ticker(number)))

    async def test() -> None:
        async with RawServer(fragments, deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=6)
                await asyncio.sleep(0.05)  # anything more would have arrived by now
            assert client.tickers == 6
            assert sum(isinstance(message, Pong) for message in client.messages) == 1
            assert client.errors == {}
            assert client.handler.stats().failed_frames == 0
            assert server.accepted == 1

    run(test)


async def _continuation_of_nothing(connection: RawConnection) -> None:
    await connection.send(frame(CONTINUATION, ticker(1)))


async def _new_message_inside_a_fragmented_one(connection: RawConnection) -> None:
    data = ticker(1)
    await connection.send(frame(BINARY, data[:5], fin=False))
    await connection.send(frame(BINARY, data))


async def _reserved_bit(connection: RawConnection) -> None:
    await connection.send(frame(BINARY, ticker(1), rsv1=True))


async def _invalid_utf8(connection: RawConnection) -> None:
    await connection.send(frame(TEXT, b'{"id":0,"code":0,"msg":"\xff"}'))


async def _invalid_utf8_across_fragments(connection: RawConnection) -> None:
    await connection.send(frame(TEXT, b'{"id":0,"code":0,"msg":"\xe2\x82', fin=False))
    await connection.send(frame(CONTINUATION, b'\x41"}'))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (_continuation_of_nothing, "protocol_error"),
        (_new_message_inside_a_fragmented_one, "protocol_error"),
        (_reserved_bit, "protocol_error"),
        (_invalid_utf8, "invalid_text"),
        (_invalid_utf8_across_fragments, "invalid_text"),
    ],
    ids=lambda case: getattr(case, "__name__", case).strip("_"),
)
def test_bad_frames_close_with_the_same_reason_and_recover(run, transport, bad, reason):
    async def test() -> None:
        async with RawServer(bad_first(bad, times=2), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
                assert client.errors == {reason: 2}
                assert client.connection.counters.reconnects == 2
            assert client.handler.stats().failed_frames == 0

    run(test)


def test_abrupt_close_in_the_middle_of_a_frame(run, transport):
    """Two tickers, then half of a third and the TCP connection reset: the two are
    delivered, the half is not, and the connection comes back."""

    async def cut(connection: RawConnection) -> None:
        await connection.send(frame(BINARY, ticker(1)))
        await connection.send(frame(BINARY, ticker(2)))
        whole = frame(BINARY, ticker(3))
        await connection.send(whole[: len(whole) // 2])
        await asyncio.sleep(0.02)
        connection.writer.transport.abort()

    async def test() -> None:
        async with RawServer(bad_first(cut), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=7)
                assert client.errors == {"connection_lost": 1}
            assert client.tickers == 7  # 2 before the cut, 5 after; never the half
            assert client.handler.stats().failed_frames == 0

    run(test)


@pytest.mark.parametrize(
    ("close", "answer"),
    [
        ((1001).to_bytes(2, "big") + b"maintenance", (1001).to_bytes(2, "big")),
        ((4001).to_bytes(2, "big") + b"venue's own code", (4001).to_bytes(2, "big")),
        (b"", b""),
    ],
    ids=["going-away", "application-code", "no-code"],
)
def test_the_peers_closing_handshake_is_answered(run, transport, close, answer):
    """The server closes (going away, a code of its own, no code at all): the client
    answers with the same code (none where none was given), counts a lost connection,
    and reconnects."""
    closed: list[RawConnection] = []

    async def closing(connection: RawConnection) -> None:
        closed.append(connection)
        await connection.send(frame(CLOSE, close))

    async def test() -> None:
        async with RawServer(bad_first(closing), deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
                assert client.errors == {"connection_lost": 1}
        assert closed[0].close_reply is not None
        assert closed[0].close_reply[:2] == answer

    run(test)


def test_the_handshake_names_the_transport(run, transport):
    seen: list[RawConnection] = []

    async def record(connection: RawConnection) -> None:
        seen.append(connection)
        for number in range(5):
            await connection.send(frame(BINARY, ticker(number)))

    async def test() -> None:
        async with RawServer(record, deflate=False) as server:
            client = Client(server.url, transport)
            async with client.connection:
                await client.recovered(tickers=5)
        (connection,) = seen
        assert connection.headers["user-agent"] == f"ws_stack/0.1 (+{transport})"
        assert "permessage-deflate" not in connection.headers.get("sec-websocket-extensions", "")

    run(test)


def test_a_backlog_enters_the_queue_a_turn_at_a_time(run, transport):
    """6,000 deltas of about 1 kB written at once while the client's event loop is busy:
    more than the 1,100-frame queue holds. The transport takes about one read's worth a
    turn (websockets: what asyncio reads; picows: INTAKE_PER_TURN messages) and the
    consumer empties the queue every turn, so none is dropped, and they come in order."""
    count = 6_000
    bids = [(f"{50_000 - level}.5", "1.25") for level in range(20)]
    asks = [(f"{50_001 + level}.5", "0.75") for level in range(20)]
    deltas = b"".join(
        frame(BINARY, mexc.encode_depth("BTCUSDT", bids, asks, number, number))
        for number in range(1, count + 1)
    )
    assert 700 < len(deltas) / count < 1_300

    async def backlog(connection: RawConnection) -> None:
        await connection.send(frame(BINARY, ticker(0)))  # the client blocks on this one
        await connection.send(deltas)

    async def test() -> None:
        async with RawServer(backlog, deflate=False) as server:
            client = Client(server.url, transport, queue_size=1_100)
            versions: list[int] = []
            client.handler.on(
                WebSocketMessageType.ORDER_BOOK,
                lambda update: versions.append(update.last_update_id),
            )
            # The first ticker stalls the event loop while the backlog piles up.
            client.handler.on(WebSocketMessageType.BOOK_TICKER, lambda ticker: time.sleep(0.3))
            async with client.connection:
                await wait_until(lambda: len(versions) == count, f"{count} deltas")
                metrics = client.connection.metrics()
        assert versions == list(range(1, count + 1))
        assert metrics.queue_dropped == 0 and metrics.reconnects == 0

    run(test)
