"""What a venue connection says and expects, independent of any I/O.

:class:`VenueProtocol` is the base of the per-venue connection mixins
(:class:`ws_stack.mexc.protocol.MexcProtocol`, :class:`ws_stack.gateio.protocol.GateioProtocol`):
endpoint URLs, the text of subscribe / unsubscribe / heartbeat requests, which reply
answers which request, how many subscriptions one connection may carry, where the REST
order-book snapshot lives and how to read it, and the WebSocket client's options as
data (:class:`ConnectOptions`).

Pure: values in, strings and typed messages out; nothing here opens, reads or writes a
socket. The asyncio connection (:mod:`ws_stack.asyncio.connection`) mixes a venue protocol
in, builds the WebSocket client from the options, and only moves the bytes.
"""

from __future__ import annotations

import enum
import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar, NamedTuple

import msgspec

from ws_stack.exceptions import ConfigError
from ws_stack.messages import OrderBookUpdate, Pong, SubscriptionAck, Venue, VenueError

__all__ = [
    "USER_AGENT",
    "ChannelKind",
    "ConnectOptions",
    "Request",
    "Subscription",
    "VenueProtocol",
    "next_request_id",
    "user_agent",
]


def user_agent(transport: str) -> str:
    """The ``User-Agent`` a client sends in the handshake, naming its WebSocket library."""
    return f"ws_stack/0.1 (+{transport})"


#: Sent in the handshake (and by the REST client) so venues can tell the client apart.
USER_AGENT = user_agent("websockets")


class ChannelKind(enum.Enum):
    """The market-data streams ws_stack subscribes to, in venue-neutral terms."""

    TRADES = "trades"
    BOOK_TICKER = "book_ticker"
    #: Incremental order-book deltas (MEXC ``aggre.depth``, Gate ``order_book_update``).
    DEPTH = "depth"
    #: Periodic top-N order-book snapshots (MEXC ``limit.depth``, Gate ``order_book``).
    DEPTH_SNAPSHOT = "depth_snapshot"
    #: Order book v2 (Gate ``spot.obu``): a full book in band on subscribing, then deltas;
    #: after a gap the stream is subscribed again for a new full book (no REST snapshot).
    ORDER_BOOK_V2 = "obu"

    @property
    def carries_book(self) -> bool:
        """Whether the stream's updates keep a local order book."""
        return self is not ChannelKind.TRADES and self is not ChannelKind.BOOK_TICKER


class Subscription(msgspec.Struct, frozen=True, order=True):
    """One stream of one symbol; hashable, so connections keep them in sets."""

    symbol: str
    kind: ChannelKind

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.symbol}"


class Request(NamedTuple):
    """One control message to send, and what it is about (to match its answer)."""

    text: str
    subscriptions: tuple[Subscription, ...]
    #: The venue's channel names the request names (MEXC answers with them).
    channels: tuple[str, ...]
    unsubscribe: bool = False
    #: The request id sent (Gate.io answers with it), if any.
    request_id: int | None = None


class ConnectOptions(NamedTuple):
    """The settings of a connection's WebSocket client, as plain values.

    A transport (:mod:`ws_stack.asyncio.transport`) turns them into a WebSocket client;
    here they are data, so that they can be built and compared without any library.
    """

    open_timeout: float
    close_timeout: float
    #: WebSocket-level ping every this many seconds (``None``: no ping).
    ping_interval: float | None
    #: Close the connection when a ping is not answered within this many seconds.
    ping_timeout: float | None
    #: Largest incoming frame in bytes (``None``: no limit).
    max_size: int | None
    #: ``None`` connects directly; a URL goes through that proxy.
    proxy: str | None = None
    #: Offer permessage-deflate. ``max_size`` then bounds the *inflated* message, and
    #: websockets enforces it while inflating, so a compression bomb stops at the limit.
    compression: bool = False
    #: Skip TLS certificate and host name verification of ``wss://`` URLs. Dangerous:
    #: anyone on the network path can then impersonate the venue.
    insecure_skip_tls_verify: bool = False


_request_ids = itertools.count(1)


def next_request_id() -> int:
    """A request id unique in this process (connections of a group share a handler)."""
    return next(_request_ids)


class VenueProtocol(ABC):
    """The per-venue half of a connection: what to send and how to read the answers.

    Subclasses are mixins without state of their own: every method is a pure function of
    its arguments (and the class constants), so they can be used and tested alone.
    """

    venue: ClassVar[Venue]
    #: Public WebSocket endpoint.
    default_url: ClassVar[str]
    #: Public REST base URL (the order-book snapshot lives below it).
    default_rest_url: ClassVar[str]
    #: Subscriptions one connection may carry (``None``: no documented limit).
    max_subscriptions: ClassVar[int | None]
    #: How often the venue wants an application-level ping, in seconds.
    heartbeat_interval: ClassVar[float]
    #: The channel kinds the venue offers.
    channel_kinds: ClassVar[frozenset[ChannelKind]]

    # -- symbols and channels ----------------------------------------------------

    @classmethod
    @abstractmethod
    def normalize_symbol(cls, symbol: str) -> str:
        """The venue's spelling of ``symbol`` (``BTCUSDT`` / ``BTC_USDT``)."""

    @classmethod
    @abstractmethod
    def channel(cls, subscription: Subscription) -> str:
        """The venue's name for the stream, unique per subscription."""

    @classmethod
    def subscription(cls, symbol: str, kind: ChannelKind | str) -> Subscription:
        """A :class:`Subscription` with the symbol in the venue's spelling."""
        try:
            kind = ChannelKind(kind)
        except ValueError:
            choices = ", ".join(k.value for k in ChannelKind)
            raise ConfigError(f"unknown channel kind {kind!r}: choose from {choices}") from None
        cls.check_kinds([kind])
        return Subscription(cls.normalize_symbol(symbol), kind)

    @classmethod
    def check_kinds(cls, kinds: Iterable[ChannelKind]) -> None:
        """Raise :class:`ConfigError` for a channel kind the venue does not offer."""
        for kind in kinds:
            if kind not in cls.channel_kinds:
                offered = ", ".join(k.value for k in ChannelKind if k in cls.channel_kinds)
                raise ConfigError(
                    f"{cls.venue.value} has no {kind.value} channel: choose from {offered}"
                )

    @classmethod
    def check_subscription_count(cls, count: int) -> None:
        """Raise :class:`ConfigError` if one connection cannot carry ``count`` subscriptions."""
        limit = cls.max_subscriptions
        if limit is not None and count > limit:
            raise ConfigError(
                f"{cls.venue.value} allows at most {limit} subscriptions per connection, "
                f"got {count}: use a ConnectionGroup, which shards them over connections"
            )

    # -- control messages --------------------------------------------------------

    @classmethod
    @abstractmethod
    def subscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        """The messages that subscribe to ``subscriptions``."""

    @classmethod
    @abstractmethod
    def unsubscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        """The messages that unsubscribe from ``subscriptions``."""

    @classmethod
    @abstractmethod
    def heartbeat_message(cls) -> str:
        """The application-level ping the venue answers with a pong."""

    @classmethod
    @abstractmethod
    def parse_control(cls, frame: bytes | str) -> SubscriptionAck | Pong | VenueError:
        """Decode a control frame (ack, pong, venue error) with the venue's decoder."""

    @classmethod
    @abstractmethod
    def answered(
        cls, request: Request, reply: SubscriptionAck | VenueError
    ) -> tuple[Subscription, ...]:
        """The subscriptions of ``request`` that ``reply`` answers (none if unrelated)."""

    # -- order-book snapshot over REST -------------------------------------------

    @classmethod
    @abstractmethod
    def snapshot_url(cls, rest_url: str, symbol: str) -> str:
        """The URL of the order-book snapshot of ``symbol`` below ``rest_url``."""

    @classmethod
    @abstractmethod
    def parse_snapshot(cls, body: bytes, symbol: str) -> OrderBookUpdate:
        """The REST snapshot body as an :class:`OrderBookUpdate` with ``is_snapshot``.

        Raises :class:`~ws_stack.exceptions.FrameError` when the body is not a snapshot.
        """


def join_url(base: str, path_and_query: str) -> str:
    """``base`` (with or without a trailing ``/``) followed by an absolute path."""
    return base.rstrip("/") + path_and_query
