"""A WebSocket server that pumps prepared frames at its clients, as fast as they read.

The socket benchmarks need a source the client cannot outrun, whichever transport it
uses: the venue simulator (``ws_stack.sim``) frames every push in Python, which is as
costly as what a fast client does with it. This server frames the whole stream once, as
bytes (RFC 6455 server frames: unmasked, FIN set), and then only writes those bytes, over
and over, never waiting for anything but room in the socket. It runs in a child process
(:class:`PumpProcess`), so that the benchmark process's CPU time is the client's alone.

Per connection: the HTTP upgrade, then ``loops`` passes of the stream (with ``interval``,
one frame at a time, that many seconds apart: lone frames); whatever the client
sends is read and dropped (its subscription requests get no answer: none is needed), and
its close frame is answered, which ends the connection. The process stops when its
parent closes its stdin, or after ``lifetime`` seconds: every load here is bounded in
count and in time.

Stdlib only, and runnable as a script (``python pump.py OPTIONS``): the child imports
nothing of ``benchmarks`` or ``ws_stack``, so it works against every commit of the history.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: Bytes the server's socket buffers before a write waits: several passes of a small
#: stream, so that the client always finds data waiting.
_WRITE_BUFFER = 8 << 20


def wire_frame(data: bytes | str) -> bytes:
    """``data`` as one unmasked server frame: text for ``str``, binary for ``bytes``."""
    if isinstance(data, str):
        opcode, payload = 0x1, data.encode()
    else:
        opcode, payload = 0x2, data
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return head + payload


def write_frames_file(path: Path, frames: list[bytes | str]) -> None:
    """``frames`` as a frames file (the JSON Lines of ``ws_stack.frames``)."""
    with path.open("w") as out:
        for data in frames:
            if isinstance(data, str):
                record = {"text": data}
            else:
                record = {"binary_b64": base64.b64encode(data).decode()}
            out.write(json.dumps(record) + "\n")


def read_frames_file(path: str) -> list[bytes | str]:
    """The frames of a frames file (the JSON Lines of ``ws_stack.frames``)."""
    frames: list[bytes | str] = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            text = record.get("text")
            frames.append(text if text is not None else base64.b64decode(record["binary_b64"]))
    return frames


async def _serve(
    frames: list[bytes],
    loops: int,
    interval: float,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        key = ""
        while line := (await reader.readline()).strip():
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        writer.transport.set_write_buffer_limits(high=_WRITE_BUFFER)
        client = asyncio.create_task(_drop_client_frames(reader, writer))
        try:
            # Whole passes at once, or one frame per write, ``interval`` apart.
            pieces = frames if interval else [b"".join(frames)]
            for _ in range(loops):
                for piece in pieces:
                    if writer.is_closing():  # the client closed (see _drop_client_frames)
                        break
                    writer.write(piece)
                    await writer.drain()
                    if interval:
                        await asyncio.sleep(interval)
            # Then the client closes: dropping the socket while what it sent is unread
            # would reset the connection, and the client could lose what it has not read.
            await client
        finally:
            client.cancel()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _drop_client_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the client's (masked) frames and drop them; answer a close frame."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await reader.readexactly(8))
            await reader.readexactly(length + (4 if second & 0x80 else 0))
            if first & 0x0F == 0x8:
                writer.write(b"\x88\x02\x03\xe8")  # close, 1000
                writer.close()
                return


async def main(options: dict[str, Any]) -> None:
    frames: list[bytes | str] = []
    for path in options["files"]:
        frames += read_frames_file(path)
    wire = [wire_frame(data) for data in frames]
    interval = options.get("interval", 0.0)

    def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        return _serve(wire, options["loops"], interval, reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"ws://127.0.0.1:{port}/ws", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stdin_closed, options["lifetime"])
    server.close()


class PumpProcess:
    """A pump in a child process sending ``frames`` (in order) ``loops`` times per
    connection, as fast as the client reads or ``interval`` seconds apart; :meth:`close`
    stops it."""

    def __init__(
        self,
        frames: list[bytes | str],
        loops: int,
        lifetime: float = 600.0,
        interval: float = 0.0,
    ) -> None:
        import subprocess
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="ws-stack-pump-")
        path = Path(self._tmp.name) / "stream.frames"
        write_frames_file(path, frames)
        options = {"files": [str(path)], "loops": loops, "lifetime": lifetime, "interval": interval}
        self.process = subprocess.Popen(
            [sys.executable, __file__, json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ws_url = self.process.stdout.readline().strip()
        if not self.ws_url:
            self.close()
            raise RuntimeError("the pump did not start")

    def close(self, at_once: bool = False) -> None:
        """Stop the child (``at_once``: see :func:`~benchmarks.sim_process.stop_child`)."""
        # Imported here: the child runs this file as a script, with nothing but the stdlib.
        from .sim_process import stop_child

        stop_child(self.process, at_once)
        self._tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
