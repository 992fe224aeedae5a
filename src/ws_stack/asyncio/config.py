"""The settings of a connection: timeouts, keepalive, queue, limits and reconnection.

Plain data, validated on construction, so that a bad setting fails before a socket
opens; :class:`~ws_stack.asyncio.connection.Connection` takes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ws_stack.credentials import Credentials
from ws_stack.exceptions import ConfigError
from ws_stack.protocol import ConnectOptions
from ws_stack.reconnect import ReconnectionPolicy

from .queue import OverflowPolicy
from .transport import DEFAULT_TRANSPORT, check_transport

__all__ = ["ConnectionConfig"]


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Timeouts, keepalive, queue and reconnection settings of a connection.

    Validated on construction: a bad value raises :class:`ConfigError` naming the field.
    """

    #: Seconds for TCP connect plus WebSocket handshake.
    connect_timeout: float = 10.0
    #: Seconds to wait for the closing handshake before dropping the socket.
    close_timeout: float = 2.0
    #: Seconds between venue-level pings; ``None`` uses the venue's interval.
    heartbeat_interval: float | None = None
    #: Whether to send venue-level pings at all.
    heartbeat: bool = True
    #: Seconds between WebSocket-level pings (``None`` disables them).
    ws_ping_interval: float | None = 20.0
    #: Close the socket when a WebSocket ping is not answered within this many seconds.
    ws_ping_timeout: float | None = 20.0
    #: Drop and reconnect when no frame (market data, ack or venue pong) arrived for this
    #: many seconds; ``None`` disables the check. Must exceed the heartbeat interval, so
    #: that the pong keeps a quiet stream alive. (WebSocket-level pongs are checked by
    #: ``ws_ping_timeout``: they prove the TCP path, not that the feed still flows.)
    dead_peer_timeout: float | None = 30.0
    #: Frames the receive queue holds before its overflow policy applies.
    queue_size: int = 10_000
    overflow: OverflowPolicy = OverflowPolicy.DROP_OLDEST
    #: Largest accepted frame in bytes (``None``: no limit).
    max_size: int | None = 1 << 20
    reconnect: ReconnectionPolicy = field(default_factory=ReconnectionPolicy)
    #: Handler latency samples kept for the percentiles.
    latency_window: int = 4096
    #: Proxy URL; ``None`` connects directly (environment proxies are ignored).
    proxy: str | None = None
    #: Offer permessage-deflate; ``max_size`` still bounds every inflated message.
    compression: bool = False
    #: Do NOT verify the TLS certificate and host name of ``wss://`` URLs. Only for a
    #: test server with a self-signed certificate: anyone on the path can impersonate
    #: the venue. Logged as a warning by every connection that uses it.
    insecure_skip_tls_verify: bool = False
    #: API credentials for a private channel, if any; never printed (see Credentials).
    credentials: Credentials | None = None
    #: The WebSocket library: ``"websockets"`` (the default, pure Python) or ``"picows"``
    #: (Cython, several times cheaper per frame; ``pip install 'ws_stack[picows]'``).
    #: Both behave the same (see :mod:`ws_stack.asyncio.transport`).
    transport: str = DEFAULT_TRANSPORT

    def __post_init__(self) -> None:
        _positive("connect_timeout", self.connect_timeout)
        _positive("close_timeout", self.close_timeout)
        for name in (
            "heartbeat_interval",
            "ws_ping_interval",
            "ws_ping_timeout",
            "dead_peer_timeout",
        ):
            value = getattr(self, name)
            if value is not None:
                _positive(name, value)
        if not isinstance(self.queue_size, int) or self.queue_size < 1:
            raise ConfigError(
                f"ConnectionConfig.queue_size must be an integer >= 1, got {self.queue_size!r}"
            )
        if not isinstance(self.overflow, OverflowPolicy):
            choices = ", ".join(p.name for p in OverflowPolicy)
            raise ConfigError(
                f"ConnectionConfig.overflow must be an OverflowPolicy "
                f"({choices}), got {self.overflow!r}"
            )
        if self.max_size is not None and (not isinstance(self.max_size, int) or self.max_size < 1):
            raise ConfigError(
                f"ConnectionConfig.max_size must be a number of bytes >= 1 or "
                f"None, got {self.max_size!r}"
            )
        if not isinstance(self.reconnect, ReconnectionPolicy):
            raise ConfigError(
                f"ConnectionConfig.reconnect must be a ReconnectionPolicy, got {self.reconnect!r}"
            )
        if not isinstance(self.latency_window, int) or self.latency_window < 1:
            raise ConfigError(
                f"ConnectionConfig.latency_window must be an integer >= 1, "
                f"got {self.latency_window!r}"
            )
        for name in ("compression", "insecure_skip_tls_verify"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"ConnectionConfig.{name} must be True or False, got {getattr(self, name)!r}"
                )
        if self.credentials is not None and not isinstance(self.credentials, Credentials):
            # Not the value itself: it may be a secret put in the wrong place.
            raise ConfigError(
                f"ConnectionConfig.credentials must be a Credentials or None, "
                f"got a {type(self.credentials).__name__}"
            )

        check_transport(self.transport)
        if self.transport == "picows":
            self._check_picows()

    def _check_picows(self) -> None:
        """What picows cannot do, refused before a socket opens."""
        if self.compression:
            raise ConfigError(
                "ConnectionConfig.compression: picows has no permessage-deflate; "
                "use transport='websockets' or compression=False"
            )
        interval, timeout = self.ws_ping_interval, self.ws_ping_timeout
        if interval is not None and (timeout is None or timeout > interval):
            raise ConfigError(
                f"ConnectionConfig.ws_ping_timeout ({timeout}) must be at most "
                f"ws_ping_interval ({interval:g} s) on picows, which waits for a pong no "
                f"longer than the next ping"
            )

    def heartbeat_every(self, venue_interval: float) -> float | None:
        """Seconds between venue pings for a venue asking for ``venue_interval``."""
        if not self.heartbeat:
            return None
        return venue_interval if self.heartbeat_interval is None else self.heartbeat_interval

    def connect_options(self) -> ConnectOptions:
        """The WebSocket client's settings, as :meth:`Connection.connection_context` takes them."""
        return ConnectOptions(
            open_timeout=self.connect_timeout,
            close_timeout=self.close_timeout,
            ping_interval=self.ws_ping_interval,
            ping_timeout=self.ws_ping_timeout,
            max_size=self.max_size,
            proxy=self.proxy,
            compression=self.compression,
            insecure_skip_tls_verify=self.insecure_skip_tls_verify,
        )


def _positive(name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ConfigError(
            f"ConnectionConfig.{name} must be a positive number of seconds, got {value!r}"
        )
