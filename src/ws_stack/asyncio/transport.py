"""The seam between the connection engine and a WebSocket library.

:class:`~ws_stack.asyncio.connection.Connection` is one engine (state machine,
subscriptions, heartbeats, watchdog, reconnection, receive queue, metrics) over one of two
*transports*, chosen per connection with ``ConnectionConfig(transport=...)``:

* ``"websockets"`` (the default and the reference): the pure-Python ``websockets`` client
  (:mod:`~ws_stack.asyncio.transport_websockets`);
* ``"picows"``: the Cython ``picows`` client, which reads the same frames several times
  more cheaply (:mod:`~ws_stack.asyncio.transport_picows`); an optional extra,
  ``pip install 'ws_stack[picows]'``.

A transport only moves bytes. It opens a socket with the venue's
:class:`~ws_stack.protocol.ConnectOptions` and hands every message to a :class:`FrameSink`
(count it, show it to the tap, queue it); the engine sends its requests through
:meth:`Socket.send` and learns from :meth:`Socket.run` why a socket was lost, as a
:class:`~ws_stack.metrics.ConnectionErrorReason`, the same on both transports.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final

from ws_stack.exceptions import ConfigError
from ws_stack.metrics import ConnectionErrorReason, Metrics
from ws_stack.protocol import ConnectOptions

from .queue import Frame, ReceiveQueue

__all__ = [
    "CLOSE_DRAIN",
    "DEFAULT_TRANSPORT",
    "TRANSPORTS",
    "FrameSink",
    "FrameTap",
    "Socket",
    "SocketClosed",
    "Transport",
    "check_transport",
    "socket_lost",
    "socket_refused",
    "transport_class",
]

logger = logging.getLogger(__name__)

#: Called with every frame as it comes off the socket (e.g. to record it).
FrameTap = Callable[[Frame], None]

#: The transports by name, and the module that implements each.
_MODULES: Final = {
    "websockets": "ws_stack.asyncio.transport_websockets",
    "picows": "ws_stack.asyncio.transport_picows",
}
#: The names ``ConnectionConfig(transport=...)`` accepts.
TRANSPORTS: Final = tuple(_MODULES)
DEFAULT_TRANSPORT: Final = "websockets"
#: The extra that installs a transport's library, where it is optional.
_EXTRAS: Final = {"picows": "picows"}
#: Seconds a closing socket reads and discards the messages a peer still streams, waiting
#: for its close frame, before it drops the connection. A streaming peer answers the close
#: frame behind everything it sent before seeing it, up to megabytes of socket buffers
#: whose reading would take longer than the close is worth (issue 34: the whole 2 s
#: close_timeout, while reading was paused). A quiet peer is waited for up to
#: ``close_timeout``, as RFC 6455 asks.
CLOSE_DRAIN: Final = 0.01


class SocketClosed(Exception):
    """A send on a socket that is closing or closed (the engine counts ``send_failed``)."""


def _queue_everything(frame: Frame) -> bool:
    """A sink's ``deliver`` without a consumer to deliver to: it takes no message."""
    return False


@dataclass(frozen=True, slots=True)
class FrameSink:
    """Where a socket puts the messages it receives.

    Each message is counted in ``metrics`` (``frames``, ``bytes``), shown to ``tap`` if
    there is one, then given to ``deliver`` if there is one, and queued for the engine's
    consumer under the queue's overflow policy unless ``deliver`` took it. A transport does
    this inline, in its own receive loop or callback: it is the whole per-frame work of
    the I/O side.
    """

    metrics: Metrics
    queue: ReceiveQueue
    tap: FrameTap | None
    #: The connection's name, for log lines.
    name: str
    #: The consumer's inline delivery (``Consumer.inline_delivery``): ``True`` if it
    #: handled the message itself, which it does only while nothing is queued. The
    #: default takes nothing: every message is queued.
    deliver: Callable[[Frame], bool] = _queue_everything


class Socket(ABC):
    """One open WebSocket of a transport."""

    @abstractmethod
    async def send(self, text: str) -> None:
        """Send a text message; raise :class:`SocketClosed` if the socket is going away."""

    @abstractmethod
    async def run(self) -> ConnectionErrorReason:
        """Deliver messages to the sink until the socket is lost; return why it was.

        Raises only for a bug (or a raising frame tap), never for the peer's behaviour:
        a close, a reset, an oversized or malformed frame are reasons.
        """

    @abstractmethod
    def stop_reading(self) -> None:
        """The engine is closing this socket: read nothing more until :meth:`close`.

        Under load every turn of the event loop reads what the socket brings, and the
        consumer handles it: the few turns it takes the engine to stop the socket's tasks
        and reach :meth:`close` cost more than the close itself (issue 34). What is queued
        already is still handled.
        """

    @abstractmethod
    async def close(self) -> None:
        """The closing handshake: send the close frame, then read and discard what the
        peer still sends until its close frame, for at most ``close_timeout``, and for at
        most :data:`CLOSE_DRAIN` while messages keep coming; then drop the connection.

        Idempotent, and never raises.
        """


class Transport(ABC):
    """A WebSocket client library behind the engine."""

    #: The name ``ConnectionConfig(transport=...)`` gives it.
    name: ClassVar[str]
    #: What a failed connection attempt raises (refused, reset, handshake refused or
    #: broken, TLS failure); ``TimeoutError`` means the attempt ran out of time.
    connect_errors: ClassVar[tuple[type[BaseException], ...]]

    @abstractmethod
    async def connect(self, url: str, options: ConnectOptions, sink: FrameSink) -> Socket:
        """Open a WebSocket to ``url`` (handshake done) whose messages go to ``sink``."""


def check_transport(name: object) -> None:
    """Raise :class:`ConfigError` unless ``name`` is a transport that can be used here."""
    if name not in _MODULES:
        choices = ", ".join(repr(choice) for choice in TRANSPORTS)
        raise ConfigError(f"ConnectionConfig.transport must be one of {choices}, got {name!r}")
    assert isinstance(name, str)
    extra = _EXTRAS.get(name)
    if extra is not None and importlib.util.find_spec(name) is None:
        raise ConfigError(
            f"transport {name!r} needs the {name} library, which is not installed: "
            f"pip install 'ws_stack[{extra}]' (or use transport={DEFAULT_TRANSPORT!r})"
        )


def transport_class(name: str) -> type[Transport]:
    """The :class:`Transport` called ``name``, its module imported on first use."""
    check_transport(name)
    module = importlib.import_module(_MODULES[name])
    cls: type[Transport] = module.TRANSPORT
    return cls


#: What each refusal of bad input means, for the log line.
_REFUSALS: Final = {
    ConnectionErrorReason.OVERSIZED_FRAME: "a message over max_size was refused unread",
    ConnectionErrorReason.PROTOCOL_ERROR: "the peer broke the WebSocket protocol",
    ConnectionErrorReason.INVALID_TEXT: "a text message that is not UTF-8 was refused",
}


def socket_refused(
    sink: FrameSink, reason: ConnectionErrorReason, detail: object
) -> ConnectionErrorReason:
    """Log that the client closed a socket over bad input (close code sent); ``reason``."""
    logger.warning(
        "%s: %s (%s): closed, reconnecting", sink.name, _REFUSALS[reason], _brief(detail)
    )
    return reason


def socket_lost(sink: FrameSink, detail: object) -> ConnectionErrorReason:
    """Log that the peer or the network ended a socket; ``CONNECTION_LOST``."""
    logger.info("%s: connection closed: %s", sink.name, _brief(detail))
    return ConnectionErrorReason.CONNECTION_LOST


def _brief(detail: object) -> str:
    # Bounded: a close reason or error message may carry up to a frame's worth of text.
    return f"{detail}"[:300]
