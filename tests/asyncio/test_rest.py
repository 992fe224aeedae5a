import asyncio
import contextlib

import pytest

from ws_stack.asyncio.rest import HttpError, http_get
from ws_stack.gateio.protocol import GateioProtocol
from ws_stack.messages import Venue
from ws_stack.mexc.protocol import MexcProtocol
from ws_stack.sim import SimConfig, VenueSimulator


@contextlib.asynccontextmanager
async def http_server(response: bytes | None):
    """A one-shot HTTP server on loopback answering every request with ``response``.

    ``None`` reads the request and never answers.
    """
    requests: list[bytes] = []
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            requests.append(await reader.readuntil(b"\r\n\r\n"))
            if response is None:
                await asyncio.sleep(10)
            else:
                writer.write(response)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        server.close()
        for task in handlers:  # the never-answering one is still waiting
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@pytest.mark.parametrize(
    ("venue", "protocol", "symbol"),
    [
        (Venue.MEXC, MexcProtocol, "BTCUSDT"),
        (Venue.GATEIO, GateioProtocol, "BTC_USDT"),
    ],
)
def test_snapshot_from_the_simulator(run, venue, protocol, symbol):
    async def test():
        async with VenueSimulator(venue, SimConfig(symbols=(symbol,))) as sim:
            body = await http_get(protocol.snapshot_url(sim.rest_url, symbol), timeout=5)
            snapshot = protocol.parse_snapshot(body, symbol)
            book = sim.book(symbol)
        assert snapshot.last_update_id == book.last_update_id
        assert [(lv.price, lv.size) for lv in snapshot.bids] == book.bids()
        assert [(lv.price, lv.size) for lv in snapshot.asks] == book.asks()

    run(test)


def test_request_line_and_content_length_body(run):
    async def test():
        response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        async with http_server(response) as (url, requests):
            assert await http_get(f"{url}/api/x?a=1&b=2", timeout=5) == b"hello"
        head = requests[0].decode()
        assert head.startswith("GET /api/x?a=1&b=2 HTTP/1.1\r\n")
        assert "Host: 127.0.0.1:" in head and "Connection: close" in head

    run(test)


def test_chunked_body(run):
    async def test():
        response = (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'4\r\n{"a"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n'
        )
        async with http_server(response) as (url, _):
            assert await http_get(url, timeout=5) == b'{"a":1}'

    run(test)


def test_body_until_close(run):
    async def test():
        async with http_server(b"HTTP/1.0 200 OK\r\n\r\n[1,2]") as (url, _):
            assert await http_get(url, timeout=5) == b"[1,2]"

    run(test)


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno symbol", "HTTP 404 Not Found"),
        (b"SSH-2.0-OpenSSH\r\n", "not an HTTP/1.x response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "IncompleteReadError"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "exceeds"),
    ],
)
def test_bad_answers_are_http_errors(run, response, match):
    async def test():
        async with http_server(response) as (url, _):
            with pytest.raises(HttpError, match=match):
                await http_get(url, timeout=5)

    run(test)


def test_timeout_and_refused_connection(run):
    async def test():
        async with http_server(None) as (url, _):
            with pytest.raises(HttpError, match=r"no complete answer within 0\.1 s"):
                await http_get(url, timeout=0.1)
        # The server is gone: nothing listens on its port any more.
        with pytest.raises(HttpError, match="Error"):
            await http_get(url, timeout=5)
        with pytest.raises(HttpError, match="not an http"):
            await http_get("ftp://example.com/x")

    run(test)
