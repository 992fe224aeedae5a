"""The ``picows`` transport: the same connection on a Cython WebSocket client.

picows parses frames in C and hands each one to a listener callback while its payload is
still in picows' read buffer. The listener here copies what it keeps once (``bytes`` for
a binary message, ``str`` for a text one, decoded straight from the buffer) and puts it
into the sink in the same call: no task switch and no intermediate object per frame.

picows is a frame-level library, so the listener does what ``websockets`` does on top of
frames, and answers bad input the way ``websockets`` does, with the same close codes and
therefore the same :class:`~ws_stack.metrics.ConnectionErrorReason`:

* fragmented messages are reassembled, ``max_size`` bounding the whole message
  (picows bounds each frame, from its header, before reading it): 1009, ``oversized_frame``;
* a text message must be UTF-8 (RFC 6455, 8.1): 1007, ``invalid_text``;
* a continuation with no message to continue, a new message in the middle of a
  fragmented one, or reserved bits without a negotiated extension: 1002,
  ``protocol_error`` (picows itself refuses bad opcodes and lengths with 1002);
* the peer's closing handshake is answered, echoing its code and reason.

TLS is verified with :func:`~ws_stack.asyncio.tls.client_tls_context`, as on websockets.
Flow control keeps a backlog from flooding the queue in one read (see ``_Listener``).

WebSocket-level pings are picows' own ("auto-ping"): one every ``ws_ping_interval``, and
the socket is dropped when no pong comes within ``ws_ping_timeout``. Pings from the peer
are answered by picows. There is no permessage-deflate: a configuration asking for it is
refused (:class:`~ws_stack.asyncio.config.ConnectionConfig`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSError,
    WSFrame,
    WSListener,
    WSMsgType,
    WSProtocolError,
    WSTransport,
    ws_connect,
)

from ws_stack import implementation
from ws_stack.metrics import ConnectionErrorReason
from ws_stack.protocol import ConnectOptions, user_agent

from .queue import Frame, OverflowPolicy
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

__all__ = ["TRANSPORT", "PicowsSocket", "PicowsTransport"]

logger = logging.getLogger(__name__)

_TEXT, _BINARY, _CONTINUATION, _CLOSE = (
    WSMsgType.TEXT,
    WSMsgType.BINARY,
    WSMsgType.CONTINUATION,
    WSMsgType.CLOSE,
)
#: The close codes the client sends when it refuses bad input, and what the engine counts.
_REFUSED: dict[WSCloseCode, ConnectionErrorReason] = {
    WSCloseCode.MESSAGE_TOO_BIG: ConnectionErrorReason.OVERSIZED_FRAME,
    WSCloseCode.PROTOCOL_ERROR: ConnectionErrorReason.PROTOCOL_ERROR,
    WSCloseCode.INVALID_TEXT: ConnectionErrorReason.INVALID_TEXT,
}
#: Frames one fragmented message may have (websockets' default limit, refused alike).
MAX_FRAGMENTS = 4096
#: Messages the listener puts into the receive queue in one turn of the event loop: about
#: what websockets' reader takes in a turn (asyncio reads 256 KiB a turn) of frames of a
#: few hundred bytes.
INTAKE_PER_TURN = 1024
#: The compiled twin of _Listener._receiver, or None (pure Python).
_twin = implementation.compiled("ws_stack.asyncio._receiver")


class _Listener(WSListener):
    """Puts each message of one socket into the sink; refuses bad input (see the module).

    Flow control: picows hands over every frame of a read at once, and its reads grow with
    a backlog (its buffer doubles whenever a read fills it), so after the event loop was
    busy elsewhere one read can hold many times what the consumer handles in a turn. The
    consumer empties the queue at each of its turns; the listener lets at most
    INTAKE_PER_TURN messages into it meanwhile, as websockets' reader, which gets at most
    one asyncio read a turn, does. The rest of the read is held, in order, and the socket
    paused (TCP pushes back on the venue); after each turn of the consumer the held
    messages go in, as many again, and reading resumes once none is held. A queue that
    blocks (``OverflowPolicy.BLOCK``) and is full holds a message the same way. So the
    queue's overflow policy applies to what one turn brings, on both transports, and what
    is held is at most the rest of one read.

    Inline delivery: while the consumer waits on an empty queue, a message is handled
    at once, in this listener (``FrameSink.deliver``), instead of queued; at most as many
    messages of one read as the queue holds, so the rest of the read meets the queue and
    its policy as before (see ``Consumer.inline_delivery``).
    """

    def __init__(self, sink: FrameSink, max_size: int | None) -> None:
        super().__init__()
        self.sink = sink
        self.max_size = sys.maxsize if max_size is None else max_size
        #: The message being reassembled: its first frame's type, and the payloads (a
        #: list emptied in place, never replaced: the receiver holds it).
        self._fragment_type: WSMsgType | None = None
        self._fragments: list[bytes] = []
        self._fragments_size = 0
        #: Messages read but not yet let into the queue, in order (see flow control).
        self._held: deque[Frame] = deque()
        self._letting_in: asyncio.Task[None] | None = None
        self.transport: WSTransport | None = None
        #: Why the client closed the socket, if it did.
        self.refused: tuple[ConnectionErrorReason, str] | None = None
        # picows calls the listener's on_ws_frame for every frame, looking it up on the
        # object: a closure found there reads its state from cells, where a method would
        # read attributes (about a quarter fewer instructions per frame, counted by
        # bench_connection.ConsumeFrameInstructions). The compiled twin of that closure
        # where it is built (ws_stack.asyncio._receiver). A function in the instance's
        # place of a method is what mypy refuses, deliberately here.
        receiver = (
            self._receiver()
            if _twin is None
            else _twin.receiver(self, _BINARY, _TEXT, WSCloseCode.INVALID_TEXT, INTAKE_PER_TURN)
        )
        self.on_ws_frame = receiver  # type: ignore[method-assign,assignment]

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def _receiver(self) -> Callable[[WSTransport, WSFrame], None]:
        """``on_ws_frame``: every frame; messages into the sink. (The reference of
        ``ws_stack.asyncio._receiver.receiver``, which keeps to it line for line.)"""
        metrics, tap, queue = self.sink.metrics, self.sink.tap, self.sink.queue
        put, blocks = queue.put_nowait, queue.policy is OverflowPolicy.BLOCK
        fragments, other = self._fragments, self._other_frame
        refuse, held, hold = self._refuse, self._held, self._hold
        queued, intake = queue.drain(), INTAKE_PER_TURN
        # Inline delivery (FrameSink.deliver) takes at most as many messages of one read
        # as the queue could hold: past that, the rest of the read is queued, and the
        # queue's overflow policy decides what of it is kept, as it would have.
        deliver, inline_limit = self.sink.deliver, min(queue.maxsize, intake)
        inline = 0  # messages of the current read delivered inline

        def on_ws_frame(transport: WSTransport, frame: WSFrame) -> None:
            nonlocal inline
            # The common case first, with as few reads of the frame as possible: a whole
            # message in one frame, no reserved bit, no fragmented message in progress.
            if frame.fin and not (frame.rsv1 or frame.rsv2 or frame.rsv3) and not fragments:
                msg_type = frame.msg_type
                if msg_type is _BINARY:
                    data: Frame = frame.get_payload_as_bytes()
                elif msg_type is _TEXT:
                    try:
                        data = frame.get_payload_as_utf8_text()
                    except UnicodeDecodeError as exc:
                        refuse(transport, WSCloseCode.INVALID_TEXT, f"invalid UTF-8: {exc}")
                        return
                else:
                    message = other(transport, frame, msg_type)
                    if message is None:
                        return
                    data = message
            else:
                message = other(transport, frame, frame.msg_type)
                if message is None:
                    return
                data = message
            metrics.frames += 1
            metrics.bytes += len(data)
            if tap is not None:
                tap(data)
            if held:
                hold(data)  # behind what is held, never past it
            elif inline < inline_limit and deliver(data):  # handled now: the consumer idles
                inline += 1
            elif len(queued) >= intake or (not put(data) and blocks):
                hold(data)
            # A read that ends on a control frame or a fragment (which return above) leaves
            # its count to the next read: fewer messages inline, never more.
            if frame.last_in_buffer:
                inline = 0

        return on_ws_frame

    # -- everything but a whole, plain data frame ------------------------------------

    def _other_frame(
        self, transport: WSTransport, frame: WSFrame, msg_type: WSMsgType
    ) -> Frame | None:
        """A control frame, a fragment, or a bad frame; a whole message once the last
        fragment of one is in."""
        if msg_type is _CLOSE:
            if not transport.is_close_frame_sent:
                # The peer's code and reason echoed, as websockets does; an empty close
                # gets an empty one (code 1005, "none", is never sent).
                if frame.payload_size:
                    transport.send_close(frame.get_close_code(), frame.get_close_message())
                else:
                    transport.send(_CLOSE, b"")
            transport.disconnect()
            return None
        if msg_type is not _BINARY and msg_type is not _TEXT and msg_type is not _CONTINUATION:
            return None  # a pong; pings are answered by picows
        if frame.rsv1 or frame.rsv2 or frame.rsv3:
            self._refuse(transport, WSCloseCode.PROTOCOL_ERROR, "reserved bits set")
            return None
        if msg_type is _CONTINUATION:
            if self._fragment_type is None:
                self._refuse(transport, WSCloseCode.PROTOCOL_ERROR, "a continuation of nothing")
                return None
        elif self._fragment_type is not None:
            self._refuse(
                transport, WSCloseCode.PROTOCOL_ERROR, "a new message inside a fragmented one"
            )
            return None
        else:
            self._fragment_type = msg_type
        size = self._fragments_size + frame.payload_size
        if size > self.max_size or len(self._fragments) >= MAX_FRAGMENTS:
            self._refuse(
                transport,
                WSCloseCode.MESSAGE_TOO_BIG,
                f"a fragmented message over {self.max_size} bytes or {MAX_FRAGMENTS} frames",
            )
            return None
        self._fragments.append(frame.get_payload_as_bytes())
        self._fragments_size = size
        if not frame.fin:
            return None
        data = b"".join(self._fragments)
        first = self._fragment_type
        self._forget_fragments()
        if first is _BINARY:
            return data
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            self._refuse(transport, WSCloseCode.INVALID_TEXT, f"invalid UTF-8: {exc}")
            return None

    def _forget_fragments(self) -> None:
        self._fragment_type, self._fragments_size = None, 0
        self._fragments.clear()

    def _refuse(self, transport: WSTransport, code: WSCloseCode, why: str) -> None:
        """Close the socket over bad input, as websockets would (see the module)."""
        if self.refused is None:
            self.refused = (_REFUSED[code], why)
        self._forget_fragments()
        if not transport.is_close_frame_sent:
            transport.send_close(code, why.encode()[:120])
        transport.disconnect()

    # -- flow control ----------------------------------------------------------------

    def _hold(self, data: Frame) -> None:
        """Keep ``data`` for a later turn; pause the socket until none is held."""
        self._held.append(data)
        if self._letting_in is None or self._letting_in.done():
            assert self.transport is not None
            self.transport.underlying_transport.pause_reading()
            self._letting_in = asyncio.get_running_loop().create_task(self._let_in())

    async def _let_in(self) -> None:
        """The held messages into the queue, INTAKE_PER_TURN after each turn of the
        consumer; then read the socket again."""
        held, queue = self._held, self.sink.queue
        queued, put, blocks = queue.drain(), queue.put_nowait, queue.policy is OverflowPolicy.BLOCK
        while True:
            while held and len(queued) < INTAKE_PER_TURN:
                if not put(held[0]) and blocks:
                    break  # full: wait for room
                held.popleft()
            if not held or queue.closed:
                break
            await queue.room()
        transport = self.transport
        if transport is not None and not transport.is_disconnected:
            transport.underlying_transport.resume_reading()

    def stop(self) -> None:
        """Stop moving held messages (the socket is gone)."""
        if self._letting_in is not None:
            self._letting_in.cancel()

    def discard(self, transport: WSTransport, drain: float) -> None:
        """Closing: from now on drop every message (held ones too) and read the socket
        at full speed until the peer's close frame; a message that still comes ``drain``
        seconds from now drops the connection (see :data:`CLOSE_DRAIN`)."""
        self.stop()
        self._held.clear()
        self._forget_fragments()
        other, clock = self._other_frame, asyncio.get_running_loop().time
        until = clock() + drain

        def on_ws_frame(transport: WSTransport, frame: WSFrame) -> None:
            msg_type = frame.msg_type
            if msg_type is _CLOSE:
                other(transport, frame, msg_type)  # the handshake's end: disconnects
            elif clock() >= until:
                transport.disconnect(graceful=False)
                # picows still hands over every frame left in its read buffer, which a
                # backlog grows to megabytes: tens of thousands of frames, each as cheap
                # as a call can be from now on.
                self.on_ws_frame = _ignore  # type: ignore[method-assign]

        self.on_ws_frame = on_ws_frame  # type: ignore[method-assign]
        transport.underlying_transport.resume_reading()


def _ignore(transport: WSTransport, frame: WSFrame) -> None:
    """``on_ws_frame`` once the connection is dropped: nothing left to do."""


class PicowsSocket(Socket):
    """An open picows connection feeding a sink."""

    def __init__(
        self, transport: WSTransport, listener: _Listener, options: ConnectOptions
    ) -> None:
        self.transport = transport
        self._listener = listener
        self._close_timeout = options.close_timeout

    async def send(self, text: str) -> None:
        transport = self.transport
        if transport.is_disconnected or transport.is_close_frame_sent:
            raise SocketClosed
        transport.send(_TEXT, text.encode())

    async def run(self) -> ConnectionErrorReason:
        transport, listener = self.transport, self._listener
        sink = listener.sink
        try:
            await transport.wait_disconnected()
        except WSProtocolError as exc:
            # picows' own parser refused a frame (over max_size, a bad header...).
            reason = _REFUSED.get(exc.code)
            if reason is not None:
                return socket_refused(sink, reason, exc)
            return socket_lost(sink, exc)
        finally:
            listener.stop()
        if listener.refused is not None:
            reason, why = listener.refused
            return socket_refused(sink, reason, why)
        return socket_lost(sink, _describe_close(transport))

    def stop_reading(self) -> None:
        # Held messages stay held: the flow control must not resume reading either.
        self._listener.stop()
        if not self.transport.is_disconnected:
            self.transport.underlying_transport.pause_reading()

    async def close(self) -> None:
        transport = self.transport
        self._listener.stop()
        if transport.is_disconnected:
            return
        self._listener.discard(transport, CLOSE_DRAIN)
        if not transport.is_close_frame_sent:
            transport.send_close(WSCloseCode.OK)
        try:
            # The peer answers the close and drops the TCP connection.
            async with asyncio.timeout(self._close_timeout):
                await transport.wait_disconnected()
        except TimeoutError:
            transport.disconnect(graceful=False)
        except Exception:  # what failed it is run()'s to report
            pass


class PicowsTransport(Transport):
    name: ClassVar[str] = "picows"
    connect_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError, TimeoutError, WSError)

    @staticmethod
    def listener(sink: FrameSink, max_size: int | None) -> WSListener:
        """The picows listener :meth:`connect` installs: what happens to every frame
        (benchmarks call its ``on_ws_frame`` without a socket)."""
        return _Listener(sink, max_size)

    async def connect(self, url: str, options: ConnectOptions, sink: FrameSink) -> Socket:
        listener = _Listener(sink, options.max_size)
        ssl_context = None
        if url.lower().startswith("wss://"):
            ssl_context = client_tls_context(options.insecure_skip_tls_verify)
        ping = options.ping_interval
        # picows' handshake timeout starts once TCP (and TLS) are up; the outer one
        # bounds the whole attempt, as websockets' open_timeout does.
        async with asyncio.timeout(options.open_timeout):
            transport, opened = await ws_connect(
                lambda: listener,
                url,
                ssl_context=ssl_context,
                websocket_handshake_timeout=options.open_timeout,
                enable_auto_ping=ping is not None,
                auto_ping_idle_timeout=ping if ping is not None else 10.0,
                auto_ping_reply_timeout=options.ping_timeout or ping or 10.0,
                auto_ping_strategy=WSAutoPingStrategy.PING_PERIODICALLY,
                max_frame_size=sys.maxsize if options.max_size is None else options.max_size,
                extra_headers={"User-Agent": user_agent(self.name)},
                proxy=options.proxy,
                logger_name=logger,
            )
        if opened is None or transport.is_disconnected:
            # The server closed the connection in the middle of the handshake.
            raise ConnectionResetError("connection closed during the WebSocket handshake")
        return PicowsSocket(transport, listener, options)


TRANSPORT = PicowsTransport


def _describe_close(transport: WSTransport) -> str:
    handshake = transport.close_handshake
    if handshake is None:
        return "no close frame received (abnormal closure)"
    parts = []
    for side, info in (("received", handshake.recv), ("sent", handshake.sent)):
        if info is not None:
            code = getattr(info.code, "value", info.code)
            parts.append(f"{side} {code}" + (f" ({info.reason})" if info.reason else ""))
    return "close frame " + "; ".join(parts)
