"""The ``websockets`` transport: the default, and the reference the other one matches.

``websockets`` parses frames, reassembles fragmented messages, checks UTF-8 and enforces
``max_size`` (on the message as delivered, while inflating it) itself; this adapter reads
its messages into the sink and turns the close code it sent into the engine's reason.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from ws_stack.metrics import ConnectionErrorReason
from ws_stack.protocol import USER_AGENT, ConnectOptions

from .queue import OverflowPolicy
from .tls import client_tls_context
from .transport import (
    CLOSE_DRAIN,
    FrameSink,
    Socket,
    SocketClosed,
    Transport,
    socket_lost,
    socket_refused,
)

__all__ = ["TRANSPORT", "WebsocketsSocket", "WebsocketsTransport", "client", "connect_kwargs"]

#: The close codes websockets sends when it refuses bad input, and what the engine counts.
_REFUSED: dict[int, ConnectionErrorReason] = {
    CloseCode.MESSAGE_TOO_BIG: ConnectionErrorReason.OVERSIZED_FRAME,
    CloseCode.PROTOCOL_ERROR: ConnectionErrorReason.PROTOCOL_ERROR,
    CloseCode.INVALID_DATA: ConnectionErrorReason.INVALID_TEXT,
}


def connect_kwargs(options: ConnectOptions) -> dict[str, Any]:
    """Keyword arguments for ``websockets.asyncio.client.connect``.

    No permessage-deflate unless asked for: Gate.io does not negotiate it and MEXC's
    protobuf pushes barely compress, so it would only cost CPU on the receive path.
    TLS (``wss://``) is :func:`~ws_stack.asyncio.tls.client_tls_context`'s, added by
    :func:`client`: certificates and host names verified.
    """
    return {
        "open_timeout": options.open_timeout,
        "close_timeout": options.close_timeout,
        "ping_interval": options.ping_interval,
        "ping_timeout": options.ping_timeout,
        "max_size": options.max_size,
        "compression": "deflate" if options.compression else None,
        "proxy": options.proxy,
        "user_agent_header": USER_AGENT,
    }


def client(url: str, options: ConnectOptions) -> connect:
    """The (not yet opened) client connection: ``await`` it or ``async with`` it."""
    kwargs = connect_kwargs(options)
    if url.lower().startswith("wss://"):
        kwargs["ssl"] = client_tls_context(options.insecure_skip_tls_verify)
    return connect(url, **kwargs)


class WebsocketsSocket(Socket):
    """An open ``websockets`` client connection feeding a sink."""

    def __init__(self, ws: ClientConnection, sink: FrameSink) -> None:
        self.ws = ws
        self._sink = sink

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            raise SocketClosed from None

    async def run(self) -> ConnectionErrorReason:
        sink = self._sink
        metrics, queue, tap = sink.metrics, sink.queue, sink.tap
        recv, put = self.ws.recv, queue.put_nowait
        # A full queue that blocks refuses the frame without counting it: then wait for
        # room (with a dropping policy, a refusal is a counted drop).
        blocks = queue.policy is OverflowPolicy.BLOCK
        try:
            if tap is None:
                while True:
                    frame = await recv()
                    metrics.frames += 1
                    metrics.bytes += len(frame)
                    if not put(frame) and blocks:
                        await queue.put(frame)
            else:
                while True:
                    frame = await recv()
                    metrics.frames += 1
                    metrics.bytes += len(frame)
                    tap(frame)
                    if not put(frame) and blocks:
                        await queue.put(frame)
        except ConnectionClosed as exc:
            sent = exc.sent
            if sent is not None and sent.code in _REFUSED:
                return socket_refused(sink, _REFUSED[sent.code], exc)
            return socket_lost(sink, exc)

    def stop_reading(self) -> None:
        self.ws.transport.pause_reading()

    async def close(self) -> None:
        ws = self.ws
        # Reading again, whether stop_reading() paused it or websockets' own flow control.
        ws.transport.resume_reading()
        # websockets sends the close frame and waits for the peer's answer and the end of
        # TCP, up to close_timeout, then drops the connection. Meanwhile the messages
        # still coming are read here and discarded: unread, they would pause reading
        # (websockets' max_queue) and hide the peer's close frame behind them.
        closing = asyncio.ensure_future(ws.close())
        loop = asyncio.get_running_loop()
        until = loop.time() + CLOSE_DRAIN
        try:
            while True:
                await ws.recv()
                if loop.time() >= until:
                    # Still streaming: its close frame is behind more than is worth reading.
                    ws.transport.abort()
                    break
        except Exception:  # ConnectionClosed: the handshake is over, or the socket gone
            pass
        await asyncio.gather(closing, return_exceptions=True)


class WebsocketsTransport(Transport):
    name: ClassVar[str] = "websockets"
    connect_errors: ClassVar[tuple[type[BaseException], ...]] = (
        OSError,
        TimeoutError,
        WebSocketException,
    )

    async def connect(self, url: str, options: ConnectOptions, sink: FrameSink) -> Socket:
        return WebsocketsSocket(await client(url, options), sink)


TRANSPORT = WebsocketsTransport
