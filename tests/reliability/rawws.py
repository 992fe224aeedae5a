"""A deliberately misbehaving WebSocket server on 127.0.0.1, written at the byte level.

``websockets`` would refuse to send what these tests need (frames over the peer's
limit with a lying header, compressed frames nobody negotiated, a compression bomb made
of pre-deflated bytes), so this server speaks RFC 6455 by hand: an HTTP/1.1 upgrade,
then frames. A *script* decides, per connection, what to send after the client's first
message (a subscribe request); the server answers it with a MEXC ack first.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from ws_stack.mexc import encoder as mexc

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY = 0x1, 0x2
#: What permessage-deflate answers to websockets' default offer.
DEFLATE_RESPONSE = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    declared: int | None = None,
) -> bytes:
    """A server-to-client (unmasked) frame; ``declared`` forges the length field."""
    length = len(payload) if declared is None else declared
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    if length < 126:
        head += bytes([length])
    elif length < 1 << 16:
        head += bytes([126]) + struct.pack("!H", length)
    else:
        head += bytes([127]) + struct.pack("!Q", length)
    return head + payload


def deflate_bomb(inflated: int, chunk: int = 1 << 20) -> bytes:
    """A permessage-deflate payload that inflates to ``inflated`` zero bytes.

    Built chunk by chunk, so making it never holds the inflated size in memory.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -12)
    zeros = bytes(chunk)
    parts = [compressor.compress(zeros) for _ in range(inflated // chunk)]
    parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    data = b"".join(parts)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def deflated(payload: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -12)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


async def _read_frame(reader: asyncio.StreamReader, inflate: bool = False) -> tuple[int, bytes]:
    """The next client frame: opcode and unmasked payload (inflated if asked and
    compressed: only the first frame is, before any compression context exists)."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\x00" * 4
    data = await reader.readexactly(length)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    if inflate and first & 0x40:  # RSV1: permessage-deflate
        payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
    return first & 0x0F, payload


@dataclass
class RawConnection:
    """One accepted client, for a script to talk to."""

    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    deflate: bool
    #: The headers of the client's upgrade request, names in lower case.
    headers: dict[str, str] = field(default_factory=dict)
    #: The client's first text message (its subscribe request), decoded.
    request: str = ""
    #: The payload of the client's close frame, once it sent one.
    close_reply: bytes | None = None

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_message(self, opcode: int, payload: bytes) -> None:
        """A normal message, compressed when permessage-deflate was negotiated."""
        if self.deflate:
            await self.send(frame(opcode, deflated(payload), rsv1=True))
        else:
            await self.send(frame(opcode, payload))


Script = Callable[[RawConnection], Awaitable[None]]


@dataclass
class RawServer:
    """Accepts WebSocket upgrades on 127.0.0.1 and runs ``script`` on each connection."""

    script: Script
    #: Negotiate permessage-deflate when the client offers it.
    deflate: bool = True
    accepted: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            connection = await self._handshake(reader, writer)
            opcode, payload = await _read_frame(reader, inflate=True)
            connection.request = payload.decode()
            channels = mexc_channels(connection.request)
            await connection.send(frame(TEXT, mexc.encode_ack(",".join(channels)).encode()))
            await self.script(connection)
            # Then just read (and drop) whatever the client sends, until it leaves.
            while True:
                opcode, payload = await _read_frame(reader)
                if opcode == 0x8:
                    connection.close_reply = payload
                    await connection.send(frame(0x8, b"\x03\xe8"))
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> RawConnection:
        headers: dict[str, str] = {}
        await reader.readline()  # GET /ws HTTP/1.1
        while line := (await reader.readline()).decode().strip():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(
            hashlib.sha1(headers["sec-websocket-key"].encode() + _GUID).digest()
        ).decode()
        offered = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
        deflate = self.deflate and offered
        response = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        )
        if deflate:
            response += f"Sec-WebSocket-Extensions: {DEFLATE_RESPONSE}\r\n"
        writer.write((response + "\r\n").encode())
        await writer.drain()
        self.accepted += 1
        return RawConnection(self.accepted, reader, writer, deflate, headers)


def mexc_channels(request: str) -> list[str]:
    """The channels of a MEXC ``SUBSCRIPTION`` request."""
    return list(msgspec.json.decode(request).get("params", []))


def ticker(number: int) -> bytes:
    """A valid MEXC book-ticker push (binary)."""
    return mexc.encode_book_ticker(
        "BTCUSDT", f"{100 + number}.5", "1", f"{101 + number}.5", "2", send_time_ms=number
    )
